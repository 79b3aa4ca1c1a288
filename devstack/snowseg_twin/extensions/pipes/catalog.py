"""The pipe catalog: the Pipe record, its tables in the twin's global database, lookups by name or id."""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass
from typing import Any

import snowflake.connector.errors
import sqlglot
from duckdb import DuckDBPyConnection
from sqlglot import exp

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions.pipes.channel import channel_stats

PIPES = "_fs_global._fs_information_schema._twin_pipes"
PIPE_FILES = "_fs_global._fs_information_schema._twin_pipe_files"


@dataclass(frozen=True)
class Pipe:
    pipe_id: str
    catalog: str
    schema: str
    name: str
    definition: str
    auto_ingest: bool
    paused: bool
    notification_channel: str | None
    comment: str
    created_on: datetime.datetime
    pattern: str | None
    # the named objects the COPY depends on, as CREATE PIPE found them: DB.SCHEMA.NAME and their created_on
    file_format: str | None = None
    file_format_created: datetime.datetime | None = None
    stage_name: str | None = None
    stage_created: datetime.datetime | None = None

    @property
    def fqname(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"

    def copy(self) -> exp.Copy:
        expression = sqlglot.parse_one(self.definition, read="snowflake")
        assert isinstance(expression, exp.Copy)
        return expression

    @property
    def source(self) -> str:
        """The FROM stage reference without @, eg: 'LANDING/sales/'."""
        return compat.from_source(self.copy())[1:]

    @property
    def table(self) -> tuple[str, str, str]:
        t = compat.extract_table(self.copy().this)
        return (t.catalog or self.catalog).upper(), (t.db or self.schema).upper(), t.name


_tables_lock = threading.Lock()
_root: DuckDBPyConnection | None = None


def _ensure_tables(duck_conn: DuckDBPyConnection) -> None:
    duck_conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {PIPES} (
            pipe_id VARCHAR, created_on TIMESTAMPTZ, database_name VARCHAR, schema_name VARCHAR, name VARCHAR,
            definition VARCHAR, owner VARCHAR, notification_channel VARCHAR, comment VARCHAR, pattern VARCHAR,
            auto_ingest BOOLEAN, paused BOOLEAN
        )
        """
    )
    for column, kind in _DEPENDENCY_COLUMNS:  # twin homes made before pipes tracked their dependencies
        duck_conn.execute(f"ALTER TABLE {PIPES} ADD COLUMN IF NOT EXISTS {column} {kind}")
    duck_conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {PIPE_FILES} (
            pipe_id VARCHAR, pipe_catalog VARCHAR, pipe_schema VARCHAR, pipe_name VARCHAR, file_path VARCHAR,
            file_url VARCHAR, stage_location VARCHAR, file_size BIGINT, queued_at TIMESTAMPTZ, request_id VARCHAR,
            status VARCHAR, last_load_time TIMESTAMPTZ, row_count BIGINT, row_parsed BIGINT, error_count BIGINT,
            error_limit BIGINT, first_error_message VARCHAR, first_error_line_number BIGINT,
            first_error_character_position BIGINT, first_error_column_name VARCHAR, table_catalog VARCHAR,
            table_schema VARCHAR, table_name VARCHAR
        )
        """
    )


_DEPENDENCY_COLUMNS = [("file_format", "VARCHAR"), ("file_format_created", "TIMESTAMPTZ"), ("stage_name", "VARCHAR"),
                       ("stage_created", "TIMESTAMPTZ")]
_catalog_ready = False


def root_connection() -> DuckDBPyConnection:
    """The twin's DuckDB instance: the one a pipe statement last ran on, else the fakesnow server's."""
    if _root is not None:
        return _root
    return compat.shared_fs().duck_conn


def open_catalog() -> DuckDBPyConnection:
    """A connection of its own for the pipe catalog (it never joins a session's transaction)."""
    global _catalog_ready
    conn = root_connection().cursor()
    found = conn.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = '_fs_global' "
        "AND table_name IN ('_twin_pipes', '_twin_pipe_files')"
    ).fetchall()[0][0]
    if found < 2 or not _catalog_ready:
        with _tables_lock:
            _ensure_tables(conn)
            _catalog_ready = True
    return conn


_PIPE_COLUMNS = (
    "pipe_id, database_name, schema_name, name, definition, auto_ingest, paused, notification_channel, comment, "
    "created_on, pattern, file_format, file_format_created, stage_name, stage_created"
)


def _pipe(row: tuple) -> Pipe:
    return Pipe(*row)


def find(catalog: str, schema: str, name: str) -> Pipe | None:
    with open_catalog() as meta:
        rows = meta.execute(
            f"SELECT {_PIPE_COLUMNS} FROM {PIPES} WHERE database_name = ? AND schema_name = ? AND name = ?",
            [catalog, schema, name],
        ).fetchall()
    return _pipe(rows[0]) if rows else None


def by_id(pipe_id: str) -> Pipe | None:
    with open_catalog() as meta:
        rows = meta.execute(f"SELECT {_PIPE_COLUMNS} FROM {PIPES} WHERE pipe_id = ?", [pipe_id]).fetchall()
    return _pipe(rows[0]) if rows else None


def all_pipes() -> list[Pipe]:
    with open_catalog() as meta:
        rows = meta.execute(f"SELECT {_PIPE_COLUMNS} FROM {PIPES} ORDER BY created_on").fetchall()
    return [_pipe(r) for r in rows]


def resolve_name(name: str, current_database: str | None, current_schema: str | None) -> tuple[str, str, str]:
    return compat.parts_from_var(name, current_database, current_schema)


def not_found(fqname: str) -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(
        msg=f"SQL compilation error:\nPipe '{fqname}' does not exist or not authorized.", errno=2003, sqlstate="02000"
    )


def lookup(name: str, current_database: str | None, current_schema: str | None) -> Pipe:
    catalog, schema, pipe_name = resolve_name(name, current_database, current_schema)
    pipe = find(catalog, schema, pipe_name)
    if pipe is None:
        raise not_found(f"{catalog}.{schema}.{pipe_name}")
    return pipe


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def remember_root(cursor: Any) -> None:  # noqa: ANN401
    global _root
    if _root is None:
        _root = compat.duck_conn(cursor)


def delete_pipe(meta: DuckDBPyConnection, pipe: Pipe) -> None:
    meta.execute(f"DELETE FROM {PIPES} WHERE pipe_id = ?", [pipe.pipe_id])
    meta.execute(f"DELETE FROM {PIPE_FILES} WHERE pipe_id = ?", [pipe.pipe_id])
    channel_stats.pop(pipe.pipe_id, None)
