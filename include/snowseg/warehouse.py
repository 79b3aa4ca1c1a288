"""How Snowseg reaches Snowflake: an Airflow connection id in, a DB-API connection out; SQL from files.

This is the one module that turns a connection id into a connection. Everything else takes a
connection or a cursor. SQL lives in ``include/sql/<area>/<verb>_<object>.sql``; identifiers are
substituted through :func:`quote_ident` (an allow-list, ``;`` refused) and values go in as bound
parameters (``%(name)s``, the connector's default ``pyformat`` style). The few places Snowflake does
not accept a bind (COPY options, PUT paths) take literals through :func:`quote_literal`.

Examples
--------
>>> quote_ident("sales_raw")
'SALES_RAW'
>>> render("audit/select_loaded_file.sql", database="SNOWSEG", schema="AUDIT").splitlines()[1]
'from SNOWSEG.AUDIT.LOAD_AUDIT'
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from snowseg import settings

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")
_STAGE_PATH = re.compile(r"^@[A-Za-z0-9_$.%]+(/[A-Za-z0-9_.\-]+)*/?$")


class WarehouseUnreachable(ConnectionError):
    """The Snowflake endpoint of a connection does not answer."""


@dataclass(frozen=True)
class Names:
    """Where Snowseg's objects live. Every name is configurable; defaults follow the design card."""

    database: str = "SNOWSEG"
    raw: str = "RAW"
    audit: str = "AUDIT"
    analytics: str = "ANALYTICS"

    def qualify(self, schema: str, name: str) -> str:
        """``DATABASE.SCHEMA.NAME``, each part a validated identifier; a leading ``%`` names a table's stage.

        Examples
        --------
        >>> n = Names()
        >>> n.qualify(n.raw, "sales_raw"), n.raw_qualified("%SALES_RAW_INTAKE"), n.audit_qualified("LOAD_AUDIT")
        ('SNOWSEG.RAW.SALES_RAW', 'SNOWSEG.RAW.%SALES_RAW_INTAKE', 'SNOWSEG.AUDIT.LOAD_AUDIT')
        """
        table_stage = "%" if name.startswith("%") else ""
        return f"{self.database}.{quote_ident(schema)}.{table_stage}{quote_ident(name.removeprefix('%'))}"

    def raw_qualified(self, name: str) -> str:
        """An object of the RAW schema, qualified (:meth:`qualify`)."""
        return self.qualify(self.raw, name)

    def audit_qualified(self, name: str) -> str:
        """An object of the AUDIT schema, qualified (:meth:`qualify`)."""
        return self.qualify(self.audit, name)

    def analytics_qualified(self, name: str) -> str:
        """An object of the ANALYTICS schema, qualified (:meth:`qualify`)."""
        return self.qualify(self.analytics, name)

    @classmethod
    def from_env(cls, database: str | None = None) -> Names:
        """Names from the call argument, then SNOWSEG_* environment variables, then defaults."""
        return cls(
            database=quote_ident(database or settings.value("SNOWSEG_DATABASE")),
            raw=quote_ident(settings.value("SNOWSEG_RAW_SCHEMA")),
            audit=quote_ident(settings.value("SNOWSEG_AUDIT_SCHEMA")),
            analytics=quote_ident(settings.value("SNOWSEG_ANALYTICS_SCHEMA")),
        )


def conn_id_from_env(conn_id: str | None = None) -> str:
    """The Snowflake connection id: argument, then SNOWSEG_SNOWFLAKE_CONN_ID, then snowflake_default."""
    return conn_id or settings.value("SNOWSEG_SNOWFLAKE_CONN_ID")


def quote_ident(name: str) -> str:
    """Validate an unquoted Snowflake identifier and return it upper-cased.

    Parameters
    ----------
    name : str
        A plain identifier (letters, digits, ``_``, ``$``; not starting with a digit).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If `name` is anything else (quotes, dots, spaces, ``;``...).

    Examples
    --------
    >>> quote_ident("raw")
    'RAW'
    >>> quote_ident("x; drop table y")
    Traceback (most recent call last):
    ...
    ValueError: identifier 'x; drop table y' is not allowed: use letters, digits, _ and $, not starting with a digit
    """
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(
            f"identifier {name!r} is not allowed: use letters, digits, _ and $, not starting with a digit"
        )
    return name.upper()


def quote_literal(value: str) -> str:
    """A single-quoted SQL string literal, for the few places that take no bind parameter.

    Examples
    --------
    >>> quote_literal("it's")
    "'it\\\\'s'"
    """
    if ";" in value and not value.startswith("file://"):
        raise ValueError(f"literal {value!r} contains ';', which is refused")
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def put_file_url(path: str | Path) -> str:
    """PUT's source as the connector takes it: ``'file://<absolute path>'``, quoted, never percent-encoded.

    The connector globs the path literally (``*`` and ``?`` are wildcards), so a space or a non-ASCII
    character stays as it is; the quotes are what Snowflake asks for when the path has special characters.
    """
    return quote_literal(f"file://{Path(path).absolute().as_posix()}")

def stage_path(database: str, schema: str, stage: str, prefix: str = "") -> str:
    """A stage reference such as ``@SNOWSEG.RAW.%SALES_RAW/abc/`` (``%NAME`` is a table stage).

    Examples
    --------
    >>> stage_path("snowseg", "raw", "%sales_raw", "3f9a")
    '@SNOWSEG.RAW.%SALES_RAW/3f9a/'
    """
    table_stage = stage.startswith("%")
    name = ("%" if table_stage else "") + quote_ident(stage.lstrip("%"))
    path = f"@{quote_ident(database)}.{quote_ident(schema)}.{name}/" + (f"{prefix.strip('/')}/" if prefix else "")
    if not _STAGE_PATH.match(path):
        raise ValueError(f"stage path {path!r} is not allowed")
    return path


@cache
def _read_sql(name: str) -> str:
    path = SQL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {path} not found (looked for {name!r} under {SQL_DIR})")
    return path.read_text(encoding="utf-8").strip().rstrip(";")


def render(name: str, **fragments: str) -> str:
    """Read ``include/sql/<name>`` and fill its ``{placeholders}``.

    Identifier placeholders must be validated by the caller with :func:`quote_ident` (or built from
    validated parts); values belong in bound parameters, not here. A missing placeholder raises
    ``KeyError`` naming it and the file.
    """
    text = "\n".join(line for line in _read_sql(name).splitlines() if not line.lstrip().startswith("--"))
    try:
        return text.format_map(fragments).strip()
    except KeyError as e:
        raise KeyError(f"{name}: no value for placeholder {e.args[0]!r}") from None


def run(cursor: Any, name: str, params: Mapping[str, Any] | None = None, **fragments: str) -> list[tuple]:
    """Render a SQL file, execute it with bound `params`, return all result rows."""
    sql = render(name, **fragments)
    log.debug("sql %s: %s", name, sql)
    cursor.execute(sql, params)
    return cursor.fetchall() if cursor.description else []


def connect(conn_id: str | None = None) -> Any:
    """Open a Snowflake connection from an Airflow connection id through the provider's SnowflakeHook.

    Parameters
    ----------
    conn_id : str, optional
        Airflow connection id; defaults to ``SNOWSEG_SNOWFLAKE_CONN_ID`` or ``snowflake_default``.

    Returns
    -------
    snowflake.connector.SnowflakeConnection

    Raises
    ------
    WarehouseUnreachable
        If the connection's host/port does not accept a TCP connection within 5 s; the message
        names the connection and the endpoint, and says how to start the local twin.
    """
    conn_id = conn_id_from_env(conn_id)
    hook = snowflake_hook(conn_id)
    params = hook._get_conn_params()  # the hook's own resolution of host/port/account
    host = params.get("host")
    if host:
        port = int(params.get("port") or 443)
        _check_reachable(conn_id, str(host), port)
    return hook.get_conn()


#: Session parameters every pipeline session sets, over the connection's own ``session_parameters`` extra:
#: TIMESTAMP_NTZ values (``_LOADED_AT``, ``CHECKED_AT``...) are UTC wall-clock times, as the Python side writes
#: them, whatever the account's TIMEZONE (Snowflake's default is America/Los_Angeles).
PIPELINE_SESSION = {"TIMEZONE": "UTC"}


#: The Airflow task context a session's QUERY_TAG names (Airflow exports it to the task's environment).
_TAG_CONTEXT = (("dag", "AIRFLOW_CTX_DAG_ID"), ("task", "AIRFLOW_CTX_TASK_ID"), ("run", "AIRFLOW_CTX_DAG_RUN_ID"),
                ("try", "AIRFLOW_CTX_TRY_NUMBER"))
#: The query tag's keys for what a session works on: a load batch (LOAD_AUDIT.BATCH_ID) or a model run
#: (MODEL_RUNS.MODEL_RUN_ID). :func:`query_tag` writes them, :func:`read_query_tag` reads them back (snowseg.costs).
TAG_APP, TAG_BATCH, TAG_MODEL_RUN = "snowseg", "batch", "model_run"
#: Snowflake's QUERY_TAG parameter: "String (up to 2000 characters)" (docs: parameters#query-tag).
QUERY_TAG_MAX_CHARS = 2000


class QueryTagTooLong(ValueError):
    """A query tag over Snowflake's 2000 characters."""

    def __init__(self, tag: str, limit: int = QUERY_TAG_MAX_CHARS):
        self.tag, self.length, self.limit = tag, len(tag), limit
        super().__init__(f"query tag of {self.length} characters is over Snowflake's limit of {limit}: {tag[:80]}...")


def query_tag(*, batch: str | None = None, model_run: str | None = None) -> str:
    """The QUERY_TAG of a pipeline session: JSON naming Snowseg and the Airflow task that runs it (dag, task, run,
    try), and, once known, the load batch or the model run it works on; so that Snowflake's query history attributes
    each query (and its cost) to a DAG, task, run, try, batch and model run. ``;`` and ``'`` are JSON-escaped, so the
    tag is a plain SQL literal.

    Raises
    ------
    QueryTagTooLong
        If the tag is over Snowflake's 2000 characters.

    Examples
    --------
    >>> import json; json.loads(query_tag())["app"]
    'snowseg'
    >>> json.loads(query_tag(batch="small_file-3f9a;x"))["batch"], "3f9a;x" in query_tag(batch="3f9a;x")
    ('small_file-3f9a;x', False)
    """
    import json

    parts = {"app": TAG_APP, **{k: os.environ[v] for k, v in _TAG_CONTEXT if os.environ.get(v)}}
    parts.update({k: v for k, v in ((TAG_BATCH, batch), (TAG_MODEL_RUN, model_run)) if v})
    tag = json.dumps(parts, separators=(",", ":")).replace(";", "\\u003b").replace("'", "\\u0027")
    if len(tag) > QUERY_TAG_MAX_CHARS:
        raise QueryTagTooLong(tag)
    return tag


def read_query_tag(tag: str | None) -> dict[str, str] | None:
    """A query tag :func:`query_tag` wrote, as a dict; None for any other tag (another app's, not JSON, empty).

    Examples
    --------
    >>> read_query_tag(query_tag(model_run="r1"))["model_run"], read_query_tag("nightly"), read_query_tag(None)
    ('r1', None, None)
    """
    import json

    if not tag or not tag.startswith("{"):
        return None
    try:
        parts = json.loads(tag)
    except ValueError:
        return None
    if not isinstance(parts, dict) or parts.get("app") != TAG_APP:
        return None
    return {str(k): str(v) for k, v in parts.items()}


def tag_session(cur: Any, *, batch: str | None = None, model_run: str | None = None) -> str:
    """Re-tag the cursor's session (``ALTER SESSION SET QUERY_TAG``) with the batch or model run it now works on;
    the statements that follow carry it. Returns the tag. Run it outside an explicit transaction."""
    tag = query_tag(batch=batch, model_run=model_run)
    run(cur, "session/set_query_tag.sql", tag=quote_literal(tag))
    return tag


def snowflake_hook(conn_id: str | None = None) -> Any:
    """The provider's SnowflakeHook for a connection id, with :data:`PIPELINE_SESSION` and the :func:`query_tag` on
    every session it opens (over the connection's own ``session_parameters``)."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    conn_id = conn_id_from_env(conn_id)
    own = SnowflakeHook.get_connection(conn_id).extra_dejson.get("session_parameters") or {}
    return SnowflakeHook(snowflake_conn_id=conn_id,
                         session_parameters={**own, **PIPELINE_SESSION, "QUERY_TAG": query_tag()})


def _check_reachable(conn_id: str, host: str, port: int) -> None:
    """Fail fast with a useful message instead of the connector's long login retries."""
    try:
        with socket.create_connection((host, port), timeout=5):
            return
    except OSError as e:
        raise WarehouseUnreachable(
            f"Snowflake connection {conn_id!r} points at {host}:{port}, which does not answer ({e}). "
            "If this is the local twin, start it with `make twin-up` (or run `make demo`, which starts it); "
            "otherwise check the connection's host/port extras and your network."
        ) from None


@contextmanager
def cursor(conn_id: str | None = None) -> Iterator[Any]:
    """A cursor on a fresh connection, closed afterwards."""
    conn = connect(conn_id)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


class Transaction:
    """An open transaction on a cursor (see :func:`transaction`); :meth:`rollback` ends it early."""

    def __init__(self, cur: Any):
        self.cursor, self.open = cur, True

    def rollback(self) -> None:
        """Roll back now (nothing of the block is kept); the block then ends without a COMMIT."""
        if self.open:
            self.open = False
            self.cursor.execute("rollback")

    def commit(self) -> None:
        """Commit now (what the block would do at its end)."""
        if self.open:
            self.open = False
            self.cursor.execute("commit")


@contextmanager
def transaction(cur: Any) -> Iterator[Transaction]:
    """An explicit transaction on a cursor: ``begin``, then ``commit`` when the block ends, ``rollback`` when it raises
    (the error goes on) or when the block calls :meth:`Transaction.rollback`. The statements are Snowflake's own
    (the statement catalogue's BEGIN / COMMIT / ROLLBACK).

    Examples
    --------
    >>> class Cur:
    ...     sent = []
    ...     def execute(self, sql): self.sent.append(sql)
    >>> cur = Cur()
    >>> with transaction(cur):
    ...     cur.execute("insert ...")
    >>> with transaction(cur) as tx:
    ...     tx.rollback()  # nothing new: keep nothing, raise nothing
    >>> try:
    ...     with transaction(cur):
    ...         raise ValueError("no")
    ... except ValueError:
    ...     pass
    >>> cur.sent
    ['begin', 'insert ...', 'commit', 'begin', 'rollback', 'begin', 'rollback']
    """
    cur.execute("begin")
    tx = Transaction(cur)
    try:
        yield tx
    except BaseException:
        tx.rollback()
        raise
    tx.commit()


def fetch_df(cur: Any, sql: str, params: Mapping[str, Any] | None = None):
    """Run a query and return a pandas DataFrame with upper-case column names."""
    import pandas as pd

    cur.execute(sql, params)
    cols = [d[0].upper() for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)
