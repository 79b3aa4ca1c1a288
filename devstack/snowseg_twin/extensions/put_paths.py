"""PUT's source path as the real connector sees it: literal, never percent-decoded.

Snowflake returns PUT's ``file://`` path to the client as it was written (``src_locations``), and the
connector globs it as a local path (https://docs.snowflake.com/en/sql-reference/sql/put: "You can use
wildcard characters (*, ?) to upload multiple files. If the directory path or filename includes special
characters or spaces, enclose the entire file URI in single quotes"). fakesnow decodes the path as a URL
(``%2A`` becomes ``*``, ``%20`` a space), so a percent-encoded PUT that fails on Snowflake would pass on the
twin. This wraps fakesnow's PUT transform so that the path after ``file://`` is returned as written: a
``Path.as_uri()`` path then finds no file, as with the real connector ("File doesn't exist").

It also keeps a stage reference in a COPY's FROM (``@DB.SCHEMA.STAGE/path``) out of fakesnow's check for
unqualified tables: a session without a current database may still load from a qualified stage.

Differs from Snowflake: Windows drive paths are not treated specially (the twin runs on POSIX).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlglot import exp

_MARK = "__snowseg_put_paths__"


def literal_source(command_path: str) -> str:
    """The local path of PUT's ``file://`` source, as written.

    Examples
    --------
    >>> literal_source("file:///tmp/in/sales%202019*.csv.gz"), literal_source("file:///tmp/a b.csv")
    ('/tmp/in/sales%202019*.csv.gz', '/tmp/a b.csv')
    """
    path = command_path[len("file://"):] if command_path.lower().startswith("file://") else command_path
    if path.lower().startswith("localhost/"):
        path = path[len("localhost"):]
    return path


def wrap_put_stage(put_stage: Any) -> Any:  # noqa: ANN401
    @functools.wraps(put_stage)
    def wrapped(expression: exp.Expression, *args: Any, **kwargs: Any) -> exp.Expression:  # noqa: ANN401
        transformed = put_stage(expression, *args, **kwargs)
        data = transformed.args.get("put_stage_data")
        if data and isinstance(expression, exp.Put) and isinstance(expression.this, exp.Literal):
            data["src_locations"] = [literal_source(expression.this.this)]
        return transformed

    setattr(wrapped, _MARK, True)
    return wrapped


def install() -> None:
    """Wrap fakesnow's PUT transform (idempotent)."""
    from snowseg_twin.extensions import _fakesnow_compat as compat

    compat.wrap("transforms.put_stage", wrap_put_stage, _MARK)


def _is_stage(table: exp.Table) -> bool:
    return isinstance(table.this, exp.Var) and str(table.this.this).startswith("@")


def wrap_relevant_tables(relevant_tables: Any) -> Any:  # noqa: ANN401
    """fakesnow's check for unqualified tables, without stage references (``FROM @DB.SCHEMA.STAGE/path``): a
    qualified stage needs no current database, as in Snowflake; an unqualified one is resolved by the COPY."""

    @functools.wraps(relevant_tables)
    def wrapped(expression: exp.Expression) -> list[exp.Table]:
        return [t for t in relevant_tables(expression) if not _is_stage(t)]

    setattr(wrapped, _MARK, True)
    return wrapped


def install_stage_qualification() -> None:
    """Wrap fakesnow's qualification check (idempotent)."""
    from snowseg_twin.extensions import _fakesnow_compat as compat

    compat.wrap("checks._relevant_tables", wrap_relevant_tables, _MARK)
