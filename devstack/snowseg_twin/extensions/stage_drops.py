"""DROP STAGE and DROP FILE FORMAT.

Emulates Snowflake's:
- `DROP STAGE [IF EXISTS] s` for named internal and external stages: the stage leaves SHOW STAGES, its staged
  files (internal) are deleted, and the twin's record of its credentials, integration and FILE_FORMAT
  (s3_stages) goes with it. Result "S successfully dropped."; a missing stage fails with 002003 "SQL compilation
  error:\\nStage 'DB.SCH.S' does not exist or not authorized." unless IF EXISTS ("Drop statement executed
  successfully (S already dropped).").
- `DROP FILE FORMAT [IF EXISTS] f`: the format leaves SHOW FILE FORMATS; a missing one fails with 002003 "SQL
  compilation error:\\nFile format 'DB.SCH.F' does not exist or not authorized." unless IF EXISTS.

Names resolve against the session's database and schema, as in Snowflake.

A pipe whose COPY reads a dropped stage or names a dropped file format stops (pipes: STOPPED_STAGE_DROPPED,
STOPPED_FILE_FORMAT_DROPPED).

Differs from Snowflake: TEMPORARY stages
and file formats live until dropped (Snowflake drops them when the session ends), so a client that wants none
left behind drops them itself, which Snowflake allows too.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions import _fakesnow_compat as compat

_NAME = r"(?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+)){0,2}"
_DROP = re.compile(
    rf"^\s*DROP\s+(?P<kind>STAGE|FILE\s+FORMAT)\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s*;?\s*$", re.IGNORECASE
)
UNPARSABLE = [_DROP]

STAGES = compat.FS_STAGES
FILE_FORMATS = compat.FS_FILE_FORMATS
STAGE_OPTIONS = "_fs_global._fs_information_schema._twin_stage_options"


def _parts(name: str, database: str | None, schema: str | None) -> tuple[str, str, str]:
    parts = [p[1:-1] if p.startswith('"') else p.upper() for p in re.findall(r'"[^"]+"|[\w$]+', name)]
    if len(parts) < 3 and not database or len(parts) < 2 and not schema:
        raise snowflake.connector.errors.ProgrammingError(
            msg="Cannot perform DROP. This session does not have a current database. Call 'USE DATABASE', or use "
            "a qualified name.",
            errno=90105,
            sqlstate="22000",
        )
    if len(parts) == 1:
        return str(database), str(schema), parts[0]
    if len(parts) == 2:
        return str(database), parts[0], parts[1]
    return parts[0], parts[1], parts[2]


def drop_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    conn = compat.connection(cursor)
    catalog, schema, name = _parts(m["name"], conn.database, conn.schema)
    is_stage = m["kind"].upper() == "STAGE"
    table, label = (STAGES, "Stage") if is_stage else (FILE_FORMATS, "File format")
    with compat.duck_conn(cursor).cursor() as own:  # DDL commits at once, apart from a session's transaction
        found = own.execute(
            f"SELECT 1 FROM {table} WHERE database_name = ? AND schema_name = ? AND name = ?", [catalog, schema, name]
        ).fetchall()
        if not found:
            if m["ie"]:
                return f"SELECT {literal(f'Drop statement executed successfully ({name} already dropped).')} AS status"
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\n{label} '{catalog}.{schema}.{name}' does not exist or not authorized.",
                errno=2003,
                sqlstate="02000",
            )
        own.execute(f"DELETE FROM {table} WHERE database_name = ? AND schema_name = ? AND name = ?",
                    [catalog, schema, name])  # fmt: skip
        if is_stage:
            has_options = own.execute(
                "SELECT 1 FROM duckdb_tables() WHERE database_name = '_fs_global' AND table_name = '_twin_stage_options'"
            ).fetchall()
            if has_options:
                own.execute(f"DELETE FROM {STAGE_OPTIONS} WHERE database_name = ? AND schema_name = ? AND name = ?",
                            [catalog, schema, name])  # fmt: skip
    if is_stage:
        shutil.rmtree(compat.internal_dir(f"{catalog}.{schema}.{name}"), ignore_errors=True)
    return f"SELECT {literal(f'{name} successfully dropped.')} AS status"


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run DROP STAGE / DROP FILE FORMAT; False for any other statement."""
    m = _DROP.match(command)
    if not m:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(drop_sql(cursor, m), read="duckdb"))
    return True
