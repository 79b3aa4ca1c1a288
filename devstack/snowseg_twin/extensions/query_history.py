"""INFORMATION_SCHEMA.QUERY_HISTORY, QUERY_HISTORY_BY_SESSION, QUERY_HISTORY_BY_USER, QUERY_HISTORY_BY_WAREHOUSE.

Emulates Snowflake's Information Schema table functions of the query history
(https://docs.snowflake.com/en/sql-reference/functions/query_history): every statement a logged-in session sends is
recorded (record(), wrapping FakeSnowflakeCursor.execute around the other extensions) with its query id (the one
the client sees as ``cursor.sfqid``), text, the session's QUERY_TAG, session id, user, role, warehouse and its size,
status (SUCCESS or FAILED_WITH_ERROR, with the error's code and message), start and end, and rows produced.

Syntax (all arguments optional, by name):

    QUERY_HISTORY( [ END_TIME_RANGE_START => <constant_expr> ] [, END_TIME_RANGE_END => <constant_expr> ]
                   [, RESULT_LIMIT => <num> ] )
    QUERY_HISTORY_BY_SESSION( [ SESSION_ID => <constant_expr> ] ... )   default CURRENT_SESSION
    QUERY_HISTORY_BY_USER( [ USER_NAME => '<string>' ] ... )            default CURRENT_USER
    QUERY_HISTORY_BY_WAREHOUSE( [ WAREHOUSE_NAME => '<string>' ] ... )  default CURRENT_WAREHOUSE

As in Snowflake:
- the functions return query activity within the last 7 days: a time range outside it is refused;
- END_TIME_RANGE_START / END bound the queries' END_TIME; without them, the most recent queries up to the limit;
- RESULT_LIMIT: default 100, range 1 to 10000; above: "Value for parameter RESULT_LIMIT exceeds maximum allowable
  value (10,000)."; the most recent queries (by END_TIME) are kept;
- what a role may see: the queries of the current user, and the queries any user ran on a warehouse the current
  role (or a role below it) has MONITOR, OPERATE or OWNERSHIP on;
- the function must be qualified by INFORMATION_SCHEMA (or the session's schema be INFORMATION_SCHEMA); unknown or
  positional arguments are refused.

Columns (COLUMNS): QUERY_ID, QUERY_TEXT, DATABASE_NAME, SCHEMA_NAME, QUERY_TYPE, SESSION_ID, USER_NAME, ROLE_NAME,
WAREHOUSE_NAME, WAREHOUSE_SIZE, WAREHOUSE_TYPE, QUERY_TAG, EXECUTION_STATUS, ERROR_CODE, ERROR_MESSAGE, START_TIME,
END_TIME, TOTAL_ELAPSED_TIME, COMPILATION_TIME, EXECUTION_TIME, QUEUED_PROVISIONING_TIME, QUEUED_OVERLOAD_TIME,
ROWS_PRODUCED, CREDITS_USED_CLOUD_SERVICES (times in milliseconds).

Differs from Snowflake: the history lives in the twin server's memory (a restart clears it); the twin has no
compilation or queueing phase, so EXECUTION_TIME = TOTAL_ELAPSED_TIME and COMPILATION_TIME / QUEUED_* are 0;
CREDITS_USED_CLOUD_SERVICES is 0 (the twin meters no cloud services); QUERY_TYPE is the statement's first word(s)
upper-cased (SELECT, INSERT, ALTER_SESSION...), not Snowflake's full list; each row of an executemany batch is a
query of its own; the lower-bound wording of RESULT_LIMIT ("below minimum allowable value (1)") is the twin's;
statements run inside other statements (the twin's own) are not recorded.
"""

from __future__ import annotations

import collections
import datetime
import functools
import itertools
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import snowflake.connector.errors
from sqlglot import exp

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions import session_context, session_params
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from snowseg_twin.extensions._table_functions import function_name, kwargs_of, values_sql

COLUMNS = [
    ("QUERY_ID", "VARCHAR"),
    ("QUERY_TEXT", "VARCHAR"),
    ("DATABASE_NAME", "VARCHAR"),
    ("SCHEMA_NAME", "VARCHAR"),
    ("QUERY_TYPE", "VARCHAR"),
    ("SESSION_ID", "BIGINT"),
    ("USER_NAME", "VARCHAR"),
    ("ROLE_NAME", "VARCHAR"),
    ("WAREHOUSE_NAME", "VARCHAR"),
    ("WAREHOUSE_SIZE", "VARCHAR"),
    ("WAREHOUSE_TYPE", "VARCHAR"),
    ("QUERY_TAG", "VARCHAR"),
    ("EXECUTION_STATUS", "VARCHAR"),
    ("ERROR_CODE", "VARCHAR"),
    ("ERROR_MESSAGE", "VARCHAR"),
    ("START_TIME", "TIMESTAMPTZ"),
    ("END_TIME", "TIMESTAMPTZ"),
    ("TOTAL_ELAPSED_TIME", "BIGINT"),
    ("COMPILATION_TIME", "BIGINT"),
    ("EXECUTION_TIME", "BIGINT"),
    ("QUEUED_PROVISIONING_TIME", "BIGINT"),
    ("QUEUED_OVERLOAD_TIME", "BIGINT"),
    ("ROWS_PRODUCED", "BIGINT"),
    ("CREDITS_USED_CLOUD_SERVICES", "DOUBLE"),
]
NAMES = [n for n, _ in COLUMNS]

FUNCTIONS = {"QUERY_HISTORY": None, "QUERY_HISTORY_BY_SESSION": "SESSION_ID", "QUERY_HISTORY_BY_USER": "USER_NAME",
             "QUERY_HISTORY_BY_WAREHOUSE": "WAREHOUSE_NAME"}  # fmt: skip
RANGE_ARGUMENTS = ("END_TIME_RANGE_START", "END_TIME_RANGE_END", "RESULT_LIMIT")
DEFAULT_LIMIT, MAX_LIMIT = 100, 10000
RETENTION = datetime.timedelta(days=7)
#: the privileges on a warehouse that let a role see other users' queries on it
MONITORING = frozenset({"MONITOR", "OPERATE"})

_SESSION_ATTR = "_snowseg_session_id"
_session_ids = itertools.count(1)
_lock = threading.Lock()
_depth = threading.local()


@dataclass(frozen=True)
class Query:
    values: dict[str, Any]

    @property
    def end(self) -> datetime.datetime:
        return self.values["END_TIME"]


_history: collections.deque[Query] = collections.deque()


def session_id(conn: Any) -> int:
    """The session's numeric id (given at its first statement)."""
    with _lock:
        if _SESSION_ATTR not in conn.__dict__:
            conn.__dict__[_SESSION_ATTR] = next(_session_ids)
        return conn.__dict__[_SESSION_ATTR]


def history() -> list[Query]:
    """Every recorded query, oldest first (tests read it)."""
    with _lock:
        return list(_history)


def _query_type(command: str) -> str:
    words = re.findall(r"[A-Za-z_$]+", command[:200])
    if not words:
        return "UNKNOWN"
    first = words[0].upper()
    if first in {"ALTER", "CREATE", "DROP", "SHOW", "DESC", "DESCRIBE", "USE"} and len(words) > 1:
        return f"{first}_{words[1].upper()}"
    return first


def _warehouse_size(cursor: FakeSnowflakeCursor, name: str | None) -> str | None:
    if not name:
        return None
    from snowseg_twin.extensions._account_catalog import WAREHOUSES, catalog

    try:
        with catalog(compat.duck_conn(cursor)) as meta:
            rows = meta.execute(f"SELECT size FROM {WAREHOUSES} WHERE name = ?", [name]).fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def _append(query: Query) -> None:
    with _lock:
        _history.append(query)
        cutoff = query.end - RETENTION
        while _history and _history[0].end < cutoff:
            _history.popleft()


def _record(cursor: FakeSnowflakeCursor, command: str, session: session_context.Session, started: datetime.datetime,
            clock: float, tag: str, error: Exception | None) -> None:  # fmt: skip
    elapsed_ms = int(round((time.perf_counter() - clock) * 1000))
    conn = compat.connection(cursor)
    qid = compat.query_id(cursor) if error is None else None
    rows = getattr(cursor, "rowcount", None) if error is None else 0
    values = {
        "QUERY_ID": qid or str(uuid.uuid4()), "QUERY_TEXT": command[:100_000], "DATABASE_NAME": conn.database,
        "SCHEMA_NAME": conn.schema, "QUERY_TYPE": _query_type(command), "SESSION_ID": session_id(conn),
        "USER_NAME": session.user, "ROLE_NAME": session.role, "WAREHOUSE_NAME": session.warehouse,
        "WAREHOUSE_SIZE": _warehouse_size(cursor, session.warehouse),
        "WAREHOUSE_TYPE": "STANDARD" if session.warehouse else None, "QUERY_TAG": tag,
        "EXECUTION_STATUS": "SUCCESS" if error is None else "FAILED_WITH_ERROR",
        "ERROR_CODE": None if error is None else str(getattr(error, "errno", "") or "") or None,
        "ERROR_MESSAGE": None if error is None else (getattr(error, "raw_msg", None) or str(error)),
        "START_TIME": started, "END_TIME": started + datetime.timedelta(milliseconds=elapsed_ms),
        "TOTAL_ELAPSED_TIME": elapsed_ms, "COMPILATION_TIME": 0, "EXECUTION_TIME": elapsed_ms,
        "QUEUED_PROVISIONING_TIME": 0, "QUEUED_OVERLOAD_TIME": 0,
        "ROWS_PRODUCED": rows if isinstance(rows, int) and rows >= 0 else None, "CREDITS_USED_CLOUD_SERVICES": 0.0,
    }  # fmt: skip
    _append(Query(values))


def wrap_execute(execute: Callable[..., Any]) -> Callable[..., Any]:
    """Record each statement a logged-in session sends (the outermost execute only), after it ran or failed."""

    @functools.wraps(execute)
    def wrapped(self: FakeSnowflakeCursor, command: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_depth, "value", 0)
        session = session_context.get(compat.connection(self)) if depth == 0 and isinstance(command, str) else None
        if session is None:
            _depth.value = depth + 1
            try:
                return execute(self, command, *args, **kwargs)
            finally:
                _depth.value = depth
        tag = session_params.query_tag(compat.connection(self))
        started, clock = datetime.datetime.now(datetime.UTC), time.perf_counter()
        _depth.value = 1
        try:
            result = execute(self, command, *args, **kwargs)
        except Exception as e:
            _depth.value = 0
            _record(self, command, session, started, clock, tag, e)
            raise
        _depth.value = 0
        _record(self, command, session, started, clock, tag, None)
        return result

    wrapped.__snowseg_query_history__ = True  # type: ignore[attr-defined]
    return wrapped


# --- the table functions ---------------------------------------------------------------------------------------------


def _error(message: str, errno: int = 1044, sqlstate: str = "42P13") -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=message, errno=errno, sqlstate=sqlstate)


def _constant(duck_conn: Any, e: exp.Expr, cast: str, name: str, fn: str) -> Any:
    try:
        (value,) = duck_conn.execute(f"SELECT CAST(({e.sql(dialect='duckdb')}) AS {cast})").fetchall()[0]
    except duckdb.Error as err:
        raise _error(f"SQL compilation error:\nInvalid argument [{name}] for table function {fn}: {err}") from err
    return value


def _limit(e: exp.Expr | None, fn: str) -> int:
    if e is None:
        return DEFAULT_LIMIT
    negative = isinstance(e, exp.Neg)
    inner = e.this if negative else e
    if not (isinstance(inner, exp.Literal) and not inner.is_string and inner.this.isdigit()):
        raise _error(f"SQL compilation error:\nInvalid argument [RESULT_LIMIT] for table function {fn}: "
                     "an integer is expected")
    value = -int(inner.this) if negative else int(inner.this)
    if value > MAX_LIMIT:
        raise _error("Value for parameter RESULT_LIMIT exceeds maximum allowable value (10,000).", 2087, "22023")
    if value < 1:
        raise _error("Value for parameter RESULT_LIMIT is below minimum allowable value (1).", 2087, "22023")
    return value


def _visible(cursor: FakeSnowflakeCursor, session: session_context.Session) -> Callable[[Query], bool]:
    from snowseg_twin.extensions.access_control.privileges import Access

    access = Access(cursor, session)
    by_warehouse: dict[str, bool] = {}

    def visible(q: Query) -> bool:
        if q.values["USER_NAME"] == session.user:
            return True
        warehouse = q.values["WAREHOUSE_NAME"]
        if not warehouse:
            return False
        if warehouse not in by_warehouse:
            by_warehouse[warehouse] = access.has("WAREHOUSE", warehouse, MONITORING)
        return by_warehouse[warehouse]

    return visible


def query_history_sql(cursor: FakeSnowflakeCursor, fn: exp.Expr) -> str | None:
    """DuckDB SQL giving the function's rows, or None if fn is not a QUERY_HISTORY function."""
    found = function_name(fn)
    if found is None or str(found[1].this).upper() not in FUNCTIONS:
        return None
    qualifiers, call = found
    name = str(call.this).upper()
    conn, duck_conn = compat.connection(cursor), compat.duck_conn(cursor)
    if qualifiers and qualifiers[-1].upper() != "INFORMATION_SCHEMA":
        return None
    if not qualifiers and (conn.schema or "").upper() not in {"INFORMATION_SCHEMA", "_FS_INFORMATION_SCHEMA"}:
        raise _error(f"SQL compilation error:\nUnknown function {name}", 2140, "42601")
    positional, named = kwargs_of(call)
    dimension = FUNCTIONS[name]
    allowed = {*RANGE_ARGUMENTS, *([dimension] if dimension else [])}
    if positional or set(named) - allowed:
        bad = sorted(set(named) - allowed) or ["positional argument"]
        raise _error(f"SQL compilation error:\nInvalid argument [{bad[0]}] for table function {name}: expected "
                     f"named arguments {', '.join(sorted(allowed))}", 1044, "42P13")
    session = session_context.get(conn) or session_context.Session(None, None, None, None)
    limit = _limit(named.get("RESULT_LIMIT"), name)
    now = datetime.datetime.now(datetime.UTC)
    start = end = None
    if (e := named.get("END_TIME_RANGE_START")) is not None:
        start = _constant(duck_conn, e, "TIMESTAMPTZ", "END_TIME_RANGE_START", name)
    if (e := named.get("END_TIME_RANGE_END")) is not None:
        end = _constant(duck_conn, e, "TIMESTAMPTZ", "END_TIME_RANGE_END", name)
    for label, value in (("END_TIME_RANGE_START", start), ("END_TIME_RANGE_END", end)):
        if value is not None and value < now - RETENTION:
            raise _error(f"SQL compilation error:\nInvalid argument [{label}] for table function {name}: the time "
                         "range must fall within the last 7 days", 1044, "42P13")
    column, value = None, None
    if dimension == "SESSION_ID":
        e = named.get("SESSION_ID")
        column = "SESSION_ID"
        value = session_id(conn) if e is None or _is_current_session(e) else int(
            _constant(duck_conn, e, "BIGINT", "SESSION_ID", name))
    elif dimension in ("USER_NAME", "WAREHOUSE_NAME"):
        e = named.get(dimension)
        column = dimension
        default = session.user if dimension == "USER_NAME" else session.warehouse
        value = default if e is None else _name(_constant(duck_conn, e, "VARCHAR", dimension, name))
    visible = _visible(cursor, session)
    rows = [q for q in history()
            if (column is None or q.values[column] == value) and (start is None or q.end >= start)
            and (end is None or q.end <= end) and visible(q)]  # fmt: skip
    rows.sort(key=lambda q: q.end, reverse=True)
    return values_sql(COLUMNS, [tuple(q.values[n] for n in NAMES) for q in rows[:limit]])


def _is_current_session(e: exp.Expr) -> bool:
    return isinstance(e, exp.Anonymous) and str(e.this).upper() == "CURRENT_SESSION" or (
        isinstance(e, exp.Column) and e.name.upper() == "CURRENT_SESSION")


def _name(value: str | None) -> str | None:
    """A user or warehouse name as the argument gives it: '"Mixed"' keeps its case, 'plain' is upper-cased."""
    if value is None:
        return None
    return value[1:-1] if len(value) > 1 and value.startswith('"') and value.endswith('"') else value.upper()


def rewriter(cursor: FakeSnowflakeCursor, fn: exp.Expr) -> str | None:
    return query_history_sql(cursor, fn)


def install() -> None:
    """Record every statement (outside the other extensions' execute wrappers) and answer the table functions."""
    from snowseg_twin.extensions._table_functions import wrap_transform

    compat.wrap_cursor_method("execute", wrap_execute, "__snowseg_query_history__")
    compat.wrap_cursor_method("_transform", wrap_transform(rewriter, "__snowseg_query_history__"),
                              "__snowseg_query_history__")


def installed() -> bool:
    return compat.cursor_method_wrapped("execute", "__snowseg_query_history__") and compat.cursor_method_wrapped(
        "_transform", "__snowseg_query_history__")


__all__ = ["COLUMNS", "MAX_LIMIT", "history", "install", "installed", "query_history_sql", "session_id"]
