"""DROP DATABASE.

Emulates Snowflake's ``DROP DATABASE [IF EXISTS] <name> [CASCADE | RESTRICT]``
(https://docs.snowflake.com/en/sql-reference/sql/drop-database): the database and every object in it go -- its
schemas and tables (the DuckDB catalog, and its file under the twin's home), and what the twin keeps about it outside
DuckDB: named and table stages with their staged files and options, file formats, pipes with their load queues and
load history, column extras. Its grants go too (access_control's DROP effect; dropping needs OWNERSHIP of the
database). Result "<NAME> successfully dropped."; a database that does not exist fails with 002003 "SQL compilation
error:\\nDatabase '<NAME>' does not exist or not authorized." unless IF EXISTS ("Drop statement executed successfully
(<NAME> already dropped)."). A session whose current database was dropped has none afterwards.

Differs from Snowflake: the dropped database is gone at once (Snowflake keeps it for Time Travel, so UNDROP DATABASE
can restore it); CASCADE and RESTRICT behave alike (the twin has no foreign keys, the only thing RESTRICT guards).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import snowflake.connector.errors
import sqlglot

from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions import _fakesnow_compat as compat

_NAME = r"(?:\"[^\"]+\"|[\w$]+)"
_DROP = re.compile(
    rf"^\s*DROP\s+DATABASE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})(?:\s+(?:CASCADE|RESTRICT))?\s*;?\s*$",
    re.IGNORECASE,
)

# what the twin keeps about a database's objects in _fs_global, and the column naming the database
_GLOBAL_ROWS = (
    (compat.FS_STAGES, "database_name"),
    (compat.FS_FILE_FORMATS, "database_name"),
    ("_fs_global._fs_information_schema._twin_stage_options", "database_name"),
    (compat.FS_COLUMNS_EXT, "ext_table_catalog"),
)


def _ident(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name.upper()


def _table_exists(own: Any, qualified: str) -> bool:
    database, schema, table = qualified.split(".")
    return bool(own.execute(
        "SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [database, schema, table],
    ).fetchall())  # fmt: skip


def drop_sql(cursor: Any, m: re.Match) -> str:
    """Drop the database and what the twin keeps about its objects; the status row's SQL."""
    from snowseg_twin.extensions import pipes

    name = _ident(m["name"])
    duck = compat.duck_conn(cursor)
    conn = compat.connection(cursor)
    with duck.cursor() as own:  # DDL commits at once, apart from a session's transaction
        found = own.execute("SELECT path FROM duckdb_databases() WHERE database_name = ?", [name]).fetchall()
        if not found:
            if m["ie"]:
                return f"SELECT {literal(f'Drop statement executed successfully ({name} already dropped).')} AS status"
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nDatabase '{name}' does not exist or not authorized.",
                errno=2003,
                sqlstate="02000",
            )
        path = found[0][0]
        if conn.database == name:  # the session leaves the database first: DuckDB's current catalog is per session
            ((default,),) = own.execute("SELECT current_database()").fetchall()
            duck.execute(f"USE {default}")
            conn.database = None
            compat.leave_schema(conn)
        for table, column in _GLOBAL_ROWS:
            if _table_exists(own, table):
                own.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])
        own.execute(f"DETACH DATABASE {name}")
    with pipes.open_catalog() as meta:
        for pipe in pipes.all_pipes():
            if pipe.catalog == name:
                pipes.delete_pipe(meta, pipe)
    shutil.rmtree(Path(compat.local_bucket_path()) / name, ignore_errors=True)  # every stage's files, table stages too
    if path:
        for file in (Path(path), Path(f"{path}.wal")):
            file.unlink(missing_ok=True)
    return f"SELECT {literal(f'{name} successfully dropped.')} AS status"


def handle(cursor: Any, command: str, execute: Any, params: Any, args: Any, kwargs: Any) -> bool:
    """Run DROP DATABASE; False for any other statement."""
    m = _DROP.match(command)
    if not m:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(drop_sql(cursor, m), read="duckdb"))
    return True
