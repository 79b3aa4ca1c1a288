"""The session's TIMEZONE and QUERY_TAG, and the twin's query log.

TIMEZONE: America/Los_Angeles unless the client or ALTER SESSION says otherwise.

Emulates Snowflake's TIMEZONE parameter (https://docs.snowflake.com/en/sql-reference/parameters#timezone):
"Default: America/Los_Angeles". CURRENT_TIMESTAMP() is a TIMESTAMP_LTZ in the session's time zone, so
inserting it into a TIMESTAMP_NTZ column keeps that zone's wall-clock time. A session gets the zone:
- at login: the connector's ``session_parameters={"TIMEZONE": ...}`` (sent in the login request), else the default;
- `ALTER SESSION SET TIMEZONE = '<tz>'` changes it, `ALTER SESSION UNSET TIMEZONE` restores the default.
Each twin session runs on its own DuckDB connection, whose TimeZone setting is set to the session's zone.

QUERY_TAG (https://docs.snowflake.com/en/sql-reference/parameters#query-tag): a string the session sets at login
(``session_parameters``) or with `ALTER SESSION SET QUERY_TAG = '...'` / `UNSET QUERY_TAG`, kept with every
statement the session runs.

The query log: with env SNOWSEG_TWIN_QUERY_LOG=<path>, every statement a logged-in session sends is appended
to that file as a JSON line (time, user, role, query tag, SQL text), what Snowflake's QUERY_HISTORY would show.
With env SNOWSEG_TWIN_SLOW_STATEMENT_SECONDS=<s>, a statement that succeeds after more than s seconds is logged
(the twin's log, logger ``snowseg_twin.slow``: seconds, role, the SQL's first 300 characters): where a run's
time goes in the warehouse, as Snowflake's query profile would say.

Differs from Snowflake: an account-level TIMEZONE (ALTER ACCOUNT) is not modelled; other ALTER SESSION
parameters are left to fakesnow (which accepts and ignores them).
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import time
import re
import threading
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions import session_context
from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions import _fakesnow_compat as compat

DEFAULT_TIMEZONE = "America/Los_Angeles"
_SET = re.compile(r"^\s*ALTER\s+SESSION\s+SET\s+(?P<name>TIMEZONE|QUERY_TAG)\s*=\s*'(?P<value>(?:[^'\\]|''|\\.)*)'\s*;?\s*$",
                  re.IGNORECASE | re.DOTALL)
_ESCAPE = re.compile(r"''|\\(.)", re.DOTALL)
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f"}
_UNSET = re.compile(r"^\s*ALTER\s+SESSION\s+UNSET\s+(?P<name>TIMEZONE|QUERY_TAG)\s*;?\s*$", re.IGNORECASE)
UNPARSABLE = [_SET, _UNSET]
QUERY_LOG_ENV = "SNOWSEG_TWIN_QUERY_LOG"
SLOW_ENV = "SNOWSEG_TWIN_SLOW_STATEMENT_SECONDS"
_slow_log = logging.getLogger("snowseg_twin.slow")
_TAG = "_snowseg_query_tag"
_log_lock = threading.Lock()


def string_value(body: str) -> str:
    """A single-quoted literal's value: '' and backslash escapes (\\\\, \\', \\n...) undone, as Snowflake reads them.

    >>> string_value(r"it''s a \\\\ and \\'q\\'")
    "it's a \\\\ and 'q'"
    """
    return _ESCAPE.sub(lambda m: "'" if m.group(0) == "''" else _ESCAPED.get(m.group(1), m.group(1)), body)


def set_timezone(conn: Any, tz: str | None) -> None:  # noqa: ANN401
    """Set a session's time zone (None: the default) on its DuckDB connection; 002008-style error if unknown."""
    zone = tz or DEFAULT_TIMEZONE
    try:
        if not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", zone):
            raise ValueError(zone)
        compat.duck_conn(conn).execute(f"SET TimeZone = '{zone}'")  # checked: a zone name, no quote
    except Exception as e:  # DuckDB: unknown time zone
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"invalid value [{zone}] for parameter 'TIMEZONE'", errno=2043, sqlstate="22023") from e


def apply_login(conn: Any, session_parameters: dict[str, Any]) -> None:  # noqa: ANN401
    """At login: the TIMEZONE the client asked for, else the default; its QUERY_TAG."""
    given = {str(k).upper(): v for k, v in (session_parameters or {}).items()}
    set_timezone(conn, str(given["TIMEZONE"]) if "TIMEZONE" in given else None)
    conn.__dict__[_TAG] = str(given.get("QUERY_TAG") or "")


def query_tag(conn: Any) -> str:  # noqa: ANN401
    """The session's QUERY_TAG ('' if none)."""
    return conn.__dict__.get(_TAG, "")


def record(cursor: Any, command: str, params: Any) -> Any:  # noqa: ANN401
    """Before-hook: append the statement to the query log (SNOWSEG_TWIN_QUERY_LOG), for sessions that logged in;
    with SNOWSEG_TWIN_SLOW_STATEMENT_SECONDS, a callback that logs the statement if it was slow."""
    path = os.environ.get(QUERY_LOG_ENV)
    session = session_context.get(compat.connection(cursor))
    if session is None:
        return None
    slow = _slow_callback(command, session.role)
    if not path:
        return slow
    line = json.dumps({"at": datetime.datetime.now(datetime.UTC).isoformat(), "user": session.user,
                       "role": session.role, "query_tag": query_tag(compat.connection(cursor)), "sql": command})
    with _log_lock, open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
    return slow


def _slow_callback(command: str, role: str) -> Any:  # noqa: ANN401
    threshold = os.environ.get(SLOW_ENV)
    if not threshold:
        return None
    start = time.perf_counter()

    def done() -> None:
        seconds = time.perf_counter() - start
        if seconds > float(threshold):
            _slow_log.warning("slow statement %.2fs (role %s): %s", seconds, role, " ".join(command.split())[:300])

    return done


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """ALTER SESSION SET / UNSET TIMEZONE or QUERY_TAG; False for any other statement."""
    conn = compat.connection(cursor)
    if m := _SET.match(command):
        value = string_value(m["value"])
        set_timezone(conn, value) if m["name"].upper() == "TIMEZONE" else conn.__dict__.__setitem__(_TAG, value)
    elif m := _UNSET.match(command):
        set_timezone(conn, None) if m["name"].upper() == "TIMEZONE" else conn.__dict__.__setitem__(_TAG, "")
    else:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(
        f"SELECT {literal('Statement executed successfully.')} AS status", read="duckdb"))
    return True
