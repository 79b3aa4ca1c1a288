"""VALIDATE(<table>, JOB_ID => '<query_id>' | '_last'): all records a past COPY INTO <table> rejected.

Emulates Snowflake's table function: `SELECT * FROM TABLE(VALIDATE(t, JOB_ID => ...))` returns one row
per rejected record of that COPY, with the columns ERROR, FILE, LINE, CHARACTER, BYTE_OFFSET,
CATEGORY, CODE, SQL_STATE, COLUMN_NAME, ROW_NUMBER, ROW_START_LINE, REJECTED_RECORD.
- JOB_ID => '<query_id>': the COPY statement's query id as the client saw it (cursor.sfqid,
  LAST_QUERY_ID()); it must be a COPY into the named table.
- JOB_ID => '_last': the last COPY INTO <table> the current session ran, whatever its target table.
- a COPY with ON_ERROR = ABORT_STATEMENT (the default), or one that processed no files, gives no rows.
- a COPY that transformed data with a SELECT fails validation.

COPY statements are tracked by wrapping FakeSnowflakeCursor._execute: around a COPY it notes the job
the engine (copy_csv) started, the target table, the ON_ERROR mode and whether it transformed, and
maps the query id fakesnow assigns afterwards to that job. The rejected records themselves come from
the engine's store, <db>._fs_information_schema._fs_copy_errors.

Differs from Snowflake: BYTE_OFFSET is NULL; CATEGORY is derived from the error code ('parsing' for
record-shape and encoding errors, else 'conversion'); SQL_STATE is text. The error texts for an
unknown job and for a transforming COPY are the twin's (errno unverified; see the constants below);
jobs are kept in process memory, so they are forgotten when the twin restarts.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass

import snowflake.connector.errors
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from snowseg_twin.extensions._fakesnow_compat import MutableParams
from sqlglot import exp

from snowseg_twin.extensions._copy_options import parse_copy_options
from snowseg_twin.extensions._load_history import CopyJob, _ensure_copy_errors_table, last_job
from snowseg_twin.extensions._table_functions import (
    function_name,
    kwargs_of,
    literal,
    table_exists,
    table_not_found,
    table_parts,
    values_sql,
)
from snowseg_twin.extensions import _fakesnow_compat as compat

VALIDATE_COLUMNS = [
    ("ERROR", "VARCHAR"),
    ("FILE", "VARCHAR"),
    ("LINE", "BIGINT"),
    ("CHARACTER", "BIGINT"),
    ("BYTE_OFFSET", "BIGINT"),
    ("CATEGORY", "VARCHAR"),
    ("CODE", "BIGINT"),
    ("SQL_STATE", "VARCHAR"),
    ("COLUMN_NAME", "VARCHAR"),
    ("ROW_NUMBER", "BIGINT"),
    ("ROW_START_LINE", "BIGINT"),
    ("REJECTED_RECORD", "VARCHAR"),
]
# errors about the shape of a record or its bytes; the rest are value conversion errors
PARSING_CODES = frozenset({100016, 100065, 100080, 100184})

# Snowflake's wording for a job id that isn't a load into the table (reported by users); errno is the twin's.
JOB_NOT_FOUND = "The specified Job UUID does not load into the specified table"
JOB_ERRNO, JOB_SQLSTATE = 2029, "22023"
# The docs say validation fails for a COPY with a transformation SELECT; the message is the twin's.
TRANSFORM_NOT_SUPPORTED = "VALIDATE does not support COPY statements that transform data during a load"
TRANSFORM_ERRNO, TRANSFORM_SQLSTATE = 2029, "0A000"


def category(code: int | None) -> str | None:
    if code is None:
        return None
    return "parsing" if code in PARSING_CODES else "conversion"


@dataclass(frozen=True)
class CopyRun:
    """A COPY INTO <table> statement as VALIDATE needs it."""

    query_id: str | None  # None when the statement failed
    job: CopyJob | None  # None when it processed no files (or failed before starting)
    table: tuple[str, str, str]
    transform: bool
    on_error: str


_lock = threading.Lock()
_runs: dict[str, CopyRun] = {}
_LAST_ATTR = "_snowseg_last_copy"


def last_run(cursor: FakeSnowflakeCursor) -> CopyRun | None:
    return compat.connection(cursor).__dict__.get(_LAST_ATTR)


def run(query_id: str) -> CopyRun | None:
    with _lock:
        return _runs.get(query_id)


def has_param(expr: exp.Copy, name: str) -> bool:
    return any(p.this.name.upper() == name for p in expr.args.get("params") or [])


def is_load(expr: exp.Expr) -> bool:
    return isinstance(expr, exp.Copy) and bool(expr.args.get("kind"))


def _on_error(expr: exp.Copy, params: MutableParams | None) -> str:
    try:
        return parse_copy_options(expr.copy(), copy.deepcopy(params), {}).on_error.mode
    except Exception:  # noqa: BLE001 - the COPY itself reports bad options
        return "ABORT_STATEMENT"


def _started(cursor: FakeSnowflakeCursor, expr: exp.Copy, params: MutableParams | None) -> CopyRun:
    conn = compat.connection(cursor)
    table = compat.extract_table(expr.this)
    target = (table.catalog or conn.database or "", table.db or conn.schema or "", table.name)
    transform = isinstance(expr.args["files"][0], exp.Subquery)
    return CopyRun(None, None, target, transform, _on_error(expr, params))


def wrap_execute(_execute: Callable[..., None]) -> Callable[..., None]:
    """Wrap FakeSnowflakeCursor._execute to remember each COPY INTO <table> by its query id."""

    @functools.wraps(_execute)
    def wrapped(self: FakeSnowflakeCursor, transformed: exp.Expr, params: MutableParams | None = None) -> None:
        if not is_load(transformed) or has_param(transformed, "VALIDATION_MODE"):
            return _execute(self, transformed, params)
        assert isinstance(transformed, exp.Copy)
        started = _started(self, transformed, params)
        before = last_job(compat.duck_conn(self))
        try:
            _execute(self, transformed, params)
        except BaseException:
            after = last_job(compat.duck_conn(self))
            _remember(self, CopyRun(None, after if after is not before else None, *_rest(started)))
            raise
        after = last_job(compat.duck_conn(self))
        _remember(self, CopyRun(compat.query_id(self), after if after is not before else None, *_rest(started)))

    wrapped.__snowseg_validate__ = True  # type: ignore[attr-defined]
    return wrapped


def _rest(r: CopyRun) -> tuple[tuple[str, str, str], bool, str]:
    return r.table, r.transform, r.on_error


def _remember(cursor: FakeSnowflakeCursor, r: CopyRun) -> None:
    with _lock:
        setattr(compat.connection(cursor), _LAST_ATTR, r)
        if r.query_id:
            _runs[r.query_id] = r


def _job_error() -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=JOB_NOT_FOUND, errno=JOB_ERRNO, sqlstate=JOB_SQLSTATE)


def validate_sql(cursor: FakeSnowflakeCursor, fn: exp.Expr) -> str | None:
    """DuckDB SQL giving VALIDATE's rows, or None if fn isn't a VALIDATE call."""
    found = function_name(fn)
    if found is None or str(found[1].this).upper() != "VALIDATE" or found[0]:
        return None
    positional, named = kwargs_of(found[1])
    job_arg = named.get("JOB_ID")
    if len(positional) != 1 or not isinstance(job_arg, exp.Literal) or not job_arg.is_string:
        raise snowflake.connector.errors.ProgrammingError(
            msg="SQL compilation error:\nVALIDATE takes a table name and JOB_ID => '<query_id>' | '_last'",
            errno=1044,
            sqlstate="42P13",
        )
    target = positional[0]
    parts = [p.name for p in target.parts] if isinstance(target, exp.Column | exp.Table) else [target.name]
    conn = compat.connection(cursor)
    catalog, schema, name = table_parts(parts, conn.database, conn.schema)
    duck_conn = compat.duck_conn(cursor)
    if not table_exists(duck_conn, catalog, schema, name):
        raise table_not_found(catalog, schema, name)

    job_id = job_arg.this
    r = last_run(cursor) if job_id.lower() == "_last" else run(job_id)
    if r is None or (job_id.lower() != "_last" and r.table != (catalog, schema, name)):
        raise _job_error()
    if r.transform:
        raise snowflake.connector.errors.ProgrammingError(
            msg=TRANSFORM_NOT_SUPPORTED, errno=TRANSFORM_ERRNO, sqlstate=TRANSFORM_SQLSTATE
        )
    if r.job is None or r.on_error == "ABORT_STATEMENT":
        return values_sql(VALIDATE_COLUMNS, [])
    _ensure_copy_errors_table(duck_conn, r.job.catalog)
    parsing = ", ".join(str(c) for c in sorted(PARSING_CODES))
    return f"""
        SELECT ERROR, FILE, LINE, CHARACTER, BYTE_OFFSET,
               COALESCE(CATEGORY, CASE WHEN CODE IN ({parsing}) THEN 'parsing' ELSE 'conversion' END) AS CATEGORY,
               CODE, SQL_STATE, COLUMN_NAME, ROW_NUMBER, ROW_START_LINE, REJECTED_RECORD
        FROM "{r.job.catalog}"._fs_information_schema._fs_copy_errors
        WHERE JOB_ID = {literal(r.job.job_id)}
        ORDER BY FILE, ROW_NUMBER
    """


def rewriter(cursor: FakeSnowflakeCursor, fn: exp.Expr) -> str | None:
    return validate_sql(cursor, fn)


__all__ = ["VALIDATE_COLUMNS", "CopyRun", "category", "last_run", "run", "wrap_execute", "rewriter"]
