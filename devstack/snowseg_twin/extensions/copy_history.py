"""<db>.INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => '...', START_TIME => ... [, END_TIME => ...]).

Emulates Snowflake's Information Schema table function for bulk loads: one row per file a completed
COPY INTO <table> attempted, from the table's load history (fakesnow's _fs_load_history, which the
copy_csv engine writes), with LAST_LOAD_TIME between START_TIME and END_TIME (default
CURRENT_TIMESTAMP). Columns: FILE_NAME, STAGE_LOCATION, LAST_LOAD_TIME, ROW_COUNT, ROW_PARSED,
FILE_SIZE, FIRST_ERROR_MESSAGE, FIRST_ERROR_LINE_NUMBER, FIRST_ERROR_CHARACTER_POS,
FIRST_ERROR_COLUMN_NAME, ERROR_COUNT, ERROR_LIMIT, STATUS ('Loaded', 'Load failed', 'Partially loaded',
'Load skipped'), TABLE_CATALOG_NAME, TABLE_SCHEMA_NAME, TABLE_NAME, PIPE_CATALOG_NAME,
PIPE_SCHEMA_NAME, PIPE_NAME, PIPE_RECEIVED_TIME (NULL for COPY statements), BYTES_BILLED.
TABLE_NAME may be 'T', 'SCHEMA.T' or 'DB.SCHEMA.T'; the database is the function's qualifier or the
current one. START_TIME / END_TIME take any constant expression, eg: DATEADD(HOURS, -1,
CURRENT_TIMESTAMP()). Recreating the table clears its history (fakesnow's CREATE TABLE does).

FILE_NAME is the path relative to the stage (load history keeps the twin's local file, or the remote
URL for external stages) and STAGE_LOCATION the stage. FILE_SIZE is the staged file's size, noted
when the COPY recorded its history (wrapping copy_csv.record_history), so it survives PURGE/REMOVE.
Like Snowflake, a COPY that failed (ON_ERROR = ABORT_STATEMENT) isn't shown, though the engine's load
history keeps its failed file.

Other modules (eg: pipes) can add rows with register_source().

Differs from Snowflake: STAGE_LOCATION of an internal stage is shown as '@DB.SCHEMA.STAGE/' (table
stage '@DB.SCHEMA.%T/'), not Snowflake's internal storage path; the 14-day window isn't enforced;
BYTES_BILLED is NULL; PIPE_NAME => is accepted and keeps only rows with that pipe name.
"""

from __future__ import annotations

import datetime
import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import duckdb
import snowflake.connector.errors
from duckdb import DuckDBPyConnection
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from sqlglot import exp

from snowseg_twin.extensions._table_functions import (
    function_name,
    kwargs_of,
    no_current_database,
    table_exists,
    table_not_found,
    values_sql,
)
from snowseg_twin.extensions import _fakesnow_compat as compat

COLUMNS = [
    ("FILE_NAME", "VARCHAR"),
    ("STAGE_LOCATION", "VARCHAR"),
    ("LAST_LOAD_TIME", "TIMESTAMPTZ"),
    ("ROW_COUNT", "BIGINT"),
    ("ROW_PARSED", "BIGINT"),
    ("FILE_SIZE", "BIGINT"),
    ("FIRST_ERROR_MESSAGE", "VARCHAR"),
    ("FIRST_ERROR_LINE_NUMBER", "BIGINT"),
    ("FIRST_ERROR_CHARACTER_POS", "BIGINT"),
    ("FIRST_ERROR_COLUMN_NAME", "VARCHAR"),
    ("ERROR_COUNT", "BIGINT"),
    ("ERROR_LIMIT", "BIGINT"),
    ("STATUS", "VARCHAR"),
    ("TABLE_CATALOG_NAME", "VARCHAR"),
    ("TABLE_SCHEMA_NAME", "VARCHAR"),
    ("TABLE_NAME", "VARCHAR"),
    ("PIPE_CATALOG_NAME", "VARCHAR"),
    ("PIPE_SCHEMA_NAME", "VARCHAR"),
    ("PIPE_NAME", "VARCHAR"),
    ("PIPE_RECEIVED_TIME", "TIMESTAMPTZ"),
    ("BYTES_BILLED", "BIGINT"),
]
NAMES = [n for n, _ in COLUMNS]
STATUS = {
    "LOADED": "Loaded",
    "LOAD_FAILED": "Load failed",
    "PARTIALLY_LOADED": "Partially loaded",
    "LOAD_SKIPPED": "Load skipped",
    "LOAD_IN_PROGRESS": "Load in progress",
}


def display_status(status: str | None) -> str | None:
    return STATUS.get(status, status) if status else status


@dataclass(frozen=True)
class _LoadNote:
    size: int | None
    aborted: bool


# (catalog, schema, table, history FILE_NAME, LAST_LOAD_TIME) -> what the load history row can't hold
_notes: dict[tuple[str, str, str, str, datetime.datetime], _LoadNote] = {}
_lock = threading.Lock()

# (duck_conn, catalog, schema, table, start, end) -> rows as dicts keyed by COLUMNS' names
Source = Callable[[DuckDBPyConnection, str, str, str, datetime.datetime, datetime.datetime], list[dict[str, Any]]]
_sources: list[Source] = []


def register_source(source: Source) -> None:
    """Add rows to COPY_HISTORY from elsewhere, eg: a pipe's load history."""
    if source not in _sources:
        _sources.append(source)


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def wrap_record_history(record_history: Callable[..., None]) -> Callable[..., None]:
    """Wrap copy_csv.record_history to note each file's size and whether its COPY aborted."""

    @functools.wraps(record_history)
    def wrapped(duck_conn: DuckDBPyConnection, job: Any, outcomes: list[Any]) -> None:  # noqa: ANN401
        sizes = [(getattr(o.file, "history_name", o.file.path), _size(o.file.path), o.aborted) for o in outcomes]
        record_history(duck_conn, job, outcomes)
        if not sizes:
            return
        (loaded_at,) = duck_conn.execute(
            f'SELECT max(LAST_LOAD_TIME) FROM "{job.catalog}"._fs_information_schema._fs_load_history '
            "WHERE SCHEMA_NAME = ? AND TABLE_NAME = ?",
            [job.schema, job.table],
        ).fetchall()[0]
        with _lock:
            for name, size, aborted in sizes:
                _notes[(job.catalog, job.schema, job.table, name, loaded_at)] = _LoadNote(size, aborted)

    wrapped.__snowseg_copy_history__ = True  # type: ignore[attr-defined]
    return wrapped


def _stage_urls(duck_conn: DuckDBPyConnection) -> list[str]:
    try:
        rows = duck_conn.execute(
            "SELECT url FROM _fs_global._fs_information_schema._fs_stages WHERE url IS NOT NULL AND url != ''"
        ).fetchall()
    except duckdb.Error:
        return []
    return sorted({r[0] for r in rows}, key=len, reverse=True)


def file_and_stage(history_name: str, stage_urls: list[str]) -> tuple[str, str | None]:
    """(FILE_NAME, STAGE_LOCATION) of a load history FILE_NAME."""
    try:
        parts = PurePath(history_name).relative_to(compat.local_bucket_path()).parts
    except ValueError:
        parts = ()
    if len(parts) >= 4:
        catalog, schema, stage_name, *rest = parts
        return "/".join(rest), f"@{catalog}.{schema}.{stage_name}/"
    if "://" in history_name:
        for url in stage_urls:
            base = url if url.endswith("/") else f"{url}/"
            if history_name.startswith(base):
                return history_name[len(base) :], base
        scheme, _, rest = history_name.partition("://")
        bucket, _, key = rest.partition("/")
        return key, f"{scheme}://{bucket}/"
    return history_name, None


def _time(duck_conn: DuckDBPyConnection, e: exp.Expr | None) -> datetime.datetime:
    sql = "CURRENT_TIMESTAMP" if e is None else e.sql(dialect="duckdb")
    try:
        (value,) = duck_conn.execute(f"SELECT CAST(({sql}) AS TIMESTAMPTZ)").fetchall()[0]
    except duckdb.Error as err:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\nInvalid argument for COPY_HISTORY time: {err}", errno=1044, sqlstate="42P13"
        ) from err
    return value


def _target(name: str, database: str, schema: str | None) -> tuple[str, str, str]:
    table = exp.to_table(name, dialect="snowflake")
    parts = [
        p.name if p.args.get("quoted") else p.name.upper()
        for p in (table.args.get("catalog"), table.args.get("db"), table.this)
        if p is not None
    ]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return database, parts[0], parts[1]
    if not schema:
        raise snowflake.connector.errors.ProgrammingError(
            msg="Cannot perform SELECT. This session does not have a current schema. Call 'USE SCHEMA', or use "
            "a qualified name.",
            errno=90106,
            sqlstate="22000",
        )
    return database, schema, parts[0]


def copy_history_rows(
    duck_conn: DuckDBPyConnection,
    catalog: str,
    schema: str,
    table: str,
    start: datetime.datetime,
    end: datetime.datetime,
) -> list[dict[str, Any]]:
    rows = duck_conn.execute(
        f"""
        SELECT FILE_NAME, LAST_LOAD_TIME, ROW_COUNT, ROW_PARSED, FIRST_ERROR_MESSAGE, FIRST_ERROR_LINE_NUMBER,
               FIRST_ERROR_CHARACTER_POSITION, FIRST_ERROR_COL_NAME, ERROR_COUNT, ERROR_LIMIT, STATUS
        FROM "{catalog}"._fs_information_schema._fs_load_history
        WHERE SCHEMA_NAME = ? AND TABLE_NAME = ? AND LAST_LOAD_TIME >= ? AND LAST_LOAD_TIME <= ?
        ORDER BY LAST_LOAD_TIME, FILE_NAME
        """,
        [schema, table, start, end],
    ).fetchall()
    urls = _stage_urls(duck_conn) if any("://" in r[0] for r in rows) else []
    out = []
    for name, loaded_at, count, parsed, message, line, char, column, errors, limit, status in rows:
        with _lock:
            note = _notes.get((catalog, schema, table, name, loaded_at))
        if note is not None and note.aborted:
            continue
        file_name, location = file_and_stage(name, urls)
        size = note.size if note is not None else _size(name)
        values = [file_name, location, loaded_at, count, parsed, size, message, line, char, column, errors, limit,
                  display_status(status), catalog, schema, table, None, None, None, None, None]  # fmt: skip
        out.append(dict(zip(NAMES, values, strict=True)))
    return out


def copy_history_sql(cursor: FakeSnowflakeCursor, fn: exp.Expr) -> str | None:
    """DuckDB SQL giving COPY_HISTORY's rows, or None if fn isn't a COPY_HISTORY call."""
    found = function_name(fn)
    if found is None or str(found[1].this).upper() != "COPY_HISTORY":
        return None
    qualifiers, call = found
    conn, duck_conn = compat.connection(cursor), compat.duck_conn(cursor)
    if qualifiers and qualifiers[-1].upper() != "INFORMATION_SCHEMA":
        return None
    if not qualifiers and (conn.schema or "").upper() not in {"INFORMATION_SCHEMA", "_FS_INFORMATION_SCHEMA"}:
        raise snowflake.connector.errors.ProgrammingError(
            msg="SQL compilation error:\nUnknown function COPY_HISTORY", errno=2140, sqlstate="42601"
        )
    database = qualifiers[0] if len(qualifiers) == 2 else conn.database
    if not database:
        raise no_current_database()
    _, named = kwargs_of(call)
    table_name, start_time = named.get("TABLE_NAME"), named.get("START_TIME")
    if not isinstance(table_name, exp.Literal) or not table_name.is_string or start_time is None:
        raise snowflake.connector.errors.ProgrammingError(
            msg="SQL compilation error:\nCOPY_HISTORY needs TABLE_NAME => '<string>' and START_TIME => <constant_expr>",
            errno=1044,
            sqlstate="42P13",
        )
    in_information_schema = (conn.schema or "").upper() in {"INFORMATION_SCHEMA", "_FS_INFORMATION_SCHEMA"}
    default_schema = None if in_information_schema else conn.schema
    catalog, schema, table = _target(table_name.this, database, default_schema)
    if not table_exists(duck_conn, catalog, schema, table):
        raise table_not_found(catalog, schema, table)
    start, end = _time(duck_conn, start_time), _time(duck_conn, named.get("END_TIME"))
    rows = copy_history_rows(duck_conn, catalog, schema, table, start, end)
    for source in _sources:
        rows.extend(source(duck_conn, catalog, schema, table, start, end))
    pipe = named.get("PIPE_NAME")
    if isinstance(pipe, exp.Literal):
        wanted = pipe.this.split(".")[-1].upper()
        rows = [r for r in rows if (r.get("PIPE_NAME") or "").upper() == wanted]
    rows.sort(key=lambda r: (r["LAST_LOAD_TIME"], r["FILE_NAME"] or ""))
    return values_sql(COLUMNS, [tuple(r.get(n) for n in NAMES) for r in rows])


def rewriter(cursor: FakeSnowflakeCursor, fn: exp.Expr) -> str | None:
    return copy_history_sql(cursor, fn)


__all__ = ["COLUMNS", "copy_history_sql", "display_status", "register_source", "rewriter", "wrap_record_history"]
