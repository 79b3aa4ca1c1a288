"""Warehouses: CREATE / DROP / SHOW WAREHOUSES and USE WAREHOUSE, as a pipeline's connection sees them.

Emulates Snowflake's virtual warehouses as named objects of the account (the twin has no compute to size):
- `CREATE [OR REPLACE] WAREHOUSE [IF NOT EXISTS] w [WITH] [WAREHOUSE_SIZE = XSMALL | ...] [AUTO_SUSPEND = n]
  [AUTO_RESUME = TRUE|FALSE] [INITIALLY_SUSPENDED = TRUE|FALSE] [COMMENT = '..'] [...]` records it in
  ``_fs_global._fs_information_schema._twin_warehouses``; as in Snowflake the new warehouse becomes the session's
  current warehouse. An existing name fails with 002002 "Object 'W' already exists." unless IF NOT EXISTS
  ("W already exists, statement succeeded.") or OR REPLACE.
- `DROP WAREHOUSE [IF EXISTS] w` (002003 "Warehouse 'W' does not exist or not authorized." without IF EXISTS);
  a session whose current warehouse it was has none left.
- `SHOW WAREHOUSES [LIKE '..']`: name, state (SUSPENDED | STARTED), type, size (eg: X-Small), auto_suspend,
  auto_resume, is_default, is_current, comment, owner, created_on.
- `USE WAREHOUSE w`: the session's current warehouse becomes w; a warehouse that does not exist fails as in
  Snowflake: 002043 "SQL compilation error:\\nObject does not exist, or operation cannot be performed."

A new twin account has COMPUTE_WH and SNOWSEG_WH (_account_catalog). CURRENT_WAREHOUSE() reads the session's
warehouse (session_context).

Privileges (access_control, when enforced): CREATE WAREHOUSE needs CREATE WAREHOUSE on the account, USE WAREHOUSE
and running a query need USAGE on it (000606 "No active warehouse selected in the current session" for a query
without one), DROP needs OWNERSHIP; SHOW WAREHOUSES lists those the role has a privilege on, with their owner.

Differs from Snowflake: without enforcement queries run whether or not the session has a warehouse; ALTER WAREHOUSE
stays a no-op; the warehouse options are kept as
given except WAREHOUSE_SIZE, AUTO_SUSPEND, AUTO_RESUME, INITIALLY_SUSPENDED and COMMENT, which SHOW reports.
"""

from __future__ import annotations

import re
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions import access_control, session_context
from snowseg_twin.extensions._account_catalog import NAME, WAREHOUSES, catalog, check_known, ident, like_clause
from snowseg_twin.extensions._account_catalog import like_matches, properties
from snowseg_twin.extensions._table_functions import literal, values_sql
from snowseg_twin.extensions import _fakesnow_compat as compat

_CREATE = re.compile(
    rf"""^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?WAREHOUSE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{NAME})
        (?P<props>.*?)\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_DROP = re.compile(rf"^\s*DROP\s+WAREHOUSE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE)
_SHOW = re.compile(rf"^\s*SHOW\s+WAREHOUSES{like_clause()}\s*;?\s*$", re.IGNORECASE)
_USE = re.compile(rf"^\s*USE\s+WAREHOUSE\s+(?P<name>{NAME})\s*;?\s*$", re.IGNORECASE)

_KNOWN = {
    "WAREHOUSE_SIZE", "WAREHOUSE_TYPE", "AUTO_SUSPEND", "AUTO_RESUME", "INITIALLY_SUSPENDED", "COMMENT",
    "MIN_CLUSTER_COUNT", "MAX_CLUSTER_COUNT", "SCALING_POLICY", "RESOURCE_MONITOR", "ENABLE_QUERY_ACCELERATION",
    "QUERY_ACCELERATION_MAX_SCALE_FACTOR", "MAX_CONCURRENCY_LEVEL", "STATEMENT_QUEUED_TIMEOUT_IN_SECONDS",
    "STATEMENT_TIMEOUT_IN_SECONDS",
}  # fmt: skip
_SIZES = {
    "XSMALL": "X-Small", "X-SMALL": "X-Small", "SMALL": "Small", "MEDIUM": "Medium", "LARGE": "Large",
    "XLARGE": "X-Large", "X-LARGE": "X-Large", "XXLARGE": "2X-Large", "X2LARGE": "2X-Large", "2X-LARGE": "2X-Large",
    "XXXLARGE": "3X-Large", "X3LARGE": "3X-Large", "3X-LARGE": "3X-Large", "X4LARGE": "4X-Large",
    "4X-LARGE": "4X-Large", "X5LARGE": "5X-Large", "5X-LARGE": "5X-Large", "X6LARGE": "6X-Large",
    "6X-LARGE": "6X-Large",
}  # fmt: skip

SHOW_COLUMNS = [
    ("name", "VARCHAR"),
    ("state", "VARCHAR"),
    ("type", "VARCHAR"),
    ("size", "VARCHAR"),
    ("auto_suspend", "BIGINT"),
    ("auto_resume", "VARCHAR"),
    ("is_default", "VARCHAR"),
    ("is_current", "VARCHAR"),
    ("comment", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("created_on", "TIMESTAMPTZ"),
]


def does_not_exist() -> snowflake.connector.errors.ProgrammingError:
    """Snowflake's error for USE WAREHOUSE of a warehouse that does not exist (or the role may not use)."""
    return snowflake.connector.errors.ProgrammingError(
        msg="SQL compilation error:\nObject does not exist, or operation cannot be performed.",
        errno=2043,
        sqlstate="02000",
    )


def exists(duck_conn: Any, name: str) -> bool:  # noqa: ANN401
    """Whether the account has a warehouse of this (stored) name."""
    with catalog(duck_conn) as meta:
        return bool(meta.execute(f"SELECT 1 FROM {WAREHOUSES} WHERE name = ?", [name]).fetchall())


def _status(message: str) -> str:
    return f"SELECT {literal(message)} AS status"


def create_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    props = properties(m["props"], "CREATE WAREHOUSE")
    check_known(props, _KNOWN, "CREATE WAREHOUSE")
    size_raw = str(props.get("WAREHOUSE_SIZE", "XSMALL")).strip("'\"").upper()
    if size_raw not in _SIZES:
        raise NotImplementedError(f"CREATE WAREHOUSE with WAREHOUSE_SIZE = {size_raw}")
    auto_suspend = props.get("AUTO_SUSPEND", 600)
    auto_suspend = None if str(auto_suspend).upper() == "NULL" else int(auto_suspend)
    row = [name, _SIZES[size_raw], auto_suspend, bool(props.get("AUTO_RESUME", True)),
           bool(props.get("INITIALLY_SUSPENDED", False)), props.get("COMMENT", "")]  # fmt: skip
    with catalog(compat.duck_conn(cursor)) as meta:
        found = bool(meta.execute(f"SELECT 1 FROM {WAREHOUSES} WHERE name = ?", [name]).fetchall())
        if found and m["ine"]:
            return _status(f"{name} already exists, statement succeeded.")
        if found and not m["replace"]:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nObject '{name}' already exists.", errno=2002, sqlstate="42710"
            )
        meta.execute(f"DELETE FROM {WAREHOUSES} WHERE name = ?", [name])
        meta.execute(f"INSERT INTO {WAREHOUSES} VALUES (?, ?, ?, ?, ?, ?, now())", row)
    session_context.update(compat.connection(cursor), warehouse=name)
    return _status(f"Warehouse {name} successfully created.")


def drop_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    with catalog(compat.duck_conn(cursor)) as meta:
        found = bool(meta.execute(f"SELECT 1 FROM {WAREHOUSES} WHERE name = ?", [name]).fetchall())
        if not found:
            if m["ie"]:
                return _status(f"Drop statement executed successfully ({name} already dropped).")
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nWarehouse '{name}' does not exist or not authorized.", errno=2003,
                sqlstate="02000",
            )
        meta.execute(f"DELETE FROM {WAREHOUSES} WHERE name = ?", [name])
    session = session_context.get(compat.connection(cursor))
    if session is not None and session.warehouse == name:
        session_context.update(compat.connection(cursor), warehouse=None)
    return _status(f"{name} successfully dropped.")


def show_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    session = session_context.get(compat.connection(cursor))
    current = session.warehouse if session else None
    with catalog(compat.duck_conn(cursor)) as meta:
        rows = meta.execute(
            f"SELECT name, size, auto_suspend, auto_resume, suspended, comment, created_on FROM {WAREHOUSES} "
            "ORDER BY name"
        ).fetchall()
    out = [
        [name, "SUSPENDED" if suspended else "STARTED", "STANDARD", size, auto_suspend, "true" if resume else "false",
         "N", "Y" if name == current else "N", comment, access_control.owner_of(cursor, "WAREHOUSE", name) or "",
         created_on]
        for name, size, auto_suspend, resume, suspended, comment, created_on in rows
        if like_matches(m["like"], name) and access_control.visible(cursor, "WAREHOUSE", name)
    ]  # fmt: skip
    return values_sql(SHOW_COLUMNS, out)


def use_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    name = ident(m["name"])
    if not exists(compat.duck_conn(cursor), name):
        raise does_not_exist()
    session_context.update(compat.connection(cursor), warehouse=name)
    return _status("Statement executed successfully.")


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run a warehouse statement; False if command is not one."""
    sql = None
    if m := _USE.match(command):
        sql = use_sql(cursor, m)
    elif m := _CREATE.match(command):
        sql = create_sql(cursor, m)
    elif m := _DROP.match(command):
        sql = drop_sql(cursor, m)
    elif m := _SHOW.match(command):
        sql = show_sql(cursor, m)
    if sql is None:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
    return True
