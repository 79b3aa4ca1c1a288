"""The session's TIMEZONE: America/Los_Angeles unless the client or ALTER SESSION says otherwise.

Emulates Snowflake's TIMEZONE parameter (https://docs.snowflake.com/en/sql-reference/parameters#timezone):
"Default: America/Los_Angeles". CURRENT_TIMESTAMP() is a TIMESTAMP_LTZ in the session's time zone, so
inserting it into a TIMESTAMP_NTZ column keeps that zone's wall-clock time. A session gets the zone:
- at login: the connector's ``session_parameters={"TIMEZONE": ...}`` (sent in the login request), else the default;
- `ALTER SESSION SET TIMEZONE = '<tz>'` changes it, `ALTER SESSION UNSET TIMEZONE` restores the default.
Each twin session runs on its own DuckDB connection, whose TimeZone setting is set to the session's zone.

Differs from Snowflake: an account-level TIMEZONE (ALTER ACCOUNT) is not modelled; other ALTER SESSION
parameters are left to fakesnow (which accepts and ignores them).
"""

from __future__ import annotations

import re
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions._table_functions import literal

DEFAULT_TIMEZONE = "America/Los_Angeles"
_SET = re.compile(r"^\s*ALTER\s+SESSION\s+SET\s+TIMEZONE\s*=\s*'(?P<tz>[^']*)'\s*;?\s*$", re.IGNORECASE)
_UNSET = re.compile(r"^\s*ALTER\s+SESSION\s+UNSET\s+TIMEZONE\s*;?\s*$", re.IGNORECASE)
UNPARSABLE = [_SET, _UNSET]


def set_timezone(conn: Any, tz: str | None) -> None:  # noqa: ANN401
    """Set a session's time zone (None: the default) on its DuckDB connection; 002008-style error if unknown."""
    zone = tz or DEFAULT_TIMEZONE
    try:
        if not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", zone):
            raise ValueError(zone)
        conn._duck_conn.execute(f"SET TimeZone = '{zone}'")  # noqa: SLF001  (checked: a zone name, no quote)
    except Exception as e:  # DuckDB: unknown time zone
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"invalid value [{zone}] for parameter 'TIMEZONE'", errno=2043, sqlstate="22023") from e


def apply_login(conn: Any, session_parameters: dict[str, Any]) -> None:  # noqa: ANN401
    """At login: the TIMEZONE the client asked for, else the default."""
    tz = next((str(v) for k, v in (session_parameters or {}).items() if k.upper() == "TIMEZONE"), None)
    set_timezone(conn, tz)


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """ALTER SESSION SET / UNSET TIMEZONE; False for any other statement."""
    if m := _SET.match(command):
        set_timezone(cursor._conn, m["tz"])  # noqa: SLF001
    elif _UNSET.match(command):
        set_timezone(cursor._conn, None)  # noqa: SLF001
    else:
        return False
    cursor._execute(sqlglot.parse_one(  # noqa: SLF001
        f"SELECT {literal('Statement executed successfully.')} AS status", read="duckdb"))
    return True
