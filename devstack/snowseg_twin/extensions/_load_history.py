"""Record COPY load history and rejected records, as Snowflake's load metadata does.

Emulates:
- load metadata per target table: one row per attempted file in fakesnow's
  <db>._fs_information_schema._fs_load_history (INFORMATION_SCHEMA.LOAD_HISTORY's columns) with the
  real status, row counts and first error, including LOAD_FAILED files. A file counts as "loaded
  before" (so COPY skips it unless FORCE = TRUE) only if it was LOADED or PARTIALLY_LOADED into
  the same table; a failed file can be loaded again, as in Snowflake.
- the rejected records of each COPY job, kept in <db>._fs_information_schema._fs_copy_errors with
  VALIDATE's columns (ERROR, FILE, LINE, CHARACTER, CODE, SQL_STATE, COLUMN_NAME, ROW_NUMBER,
  ROW_START_LINE, REJECTED_RECORD, ...) keyed by a generated JOB_ID, plus an in-process map of the
  last job per session and per table, enough for a later VALIDATE(t, JOB_ID => '_last').

Differs from Snowflake: the job id is a generated UUID, not the COPY statement's query id (which
isn't known while the COPY runs); FILE_NAME in load history is the twin's local path, as fakesnow
stores it; BYTE_OFFSET and CATEGORY are not recorded.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass

from duckdb import DuckDBPyConnection
from snowseg_twin.extensions._fakesnow_compat import LoadHistoryRecord

from snowseg_twin.extensions._errors import RowError
from snowseg_twin.extensions._file_load import FileOutcome


@dataclass(frozen=True)
class CopyJob:
    job_id: str
    catalog: str
    schema: str
    table: str
    started_at: datetime.datetime


_lock = threading.Lock()
_last_job_by_session: dict[int, CopyJob] = {}
_last_job_by_table: dict[tuple[str, str, str], CopyJob] = {}
_jobs: dict[str, CopyJob] = {}


def remember_job(job: CopyJob, duck_conn: DuckDBPyConnection) -> None:
    with _lock:
        _jobs[job.job_id] = job
        _last_job_by_session[id(duck_conn)] = job
        _last_job_by_table[(job.catalog, job.schema, job.table)] = job


def last_job(duck_conn: DuckDBPyConnection | None = None, table: tuple[str, str, str] | None = None) -> CopyJob | None:
    """The last COPY job run on this session's DuckDB connection, or into table."""
    with _lock:
        if table is not None:
            return _last_job_by_table.get(table)
        return _last_job_by_session.get(id(duck_conn)) if duck_conn is not None else None


def job(job_id: str) -> CopyJob | None:
    with _lock:
        return _jobs.get(job_id)


def loaded_before(duck_conn: DuckDBPyConnection, catalog: str, schema: str, table: str, file_name: str) -> bool:
    sql = (
        f'SELECT 1 FROM "{catalog}"._fs_information_schema._fs_load_history '
        "WHERE FILE_NAME = ? AND TABLE_NAME = ? AND SCHEMA_NAME = ? "
        "AND STATUS IN ('LOADED', 'PARTIALLY_LOADED') LIMIT 1"
    )
    return bool(duck_conn.execute(sql, [file_name, table, schema]).fetchall())


def record_history(duck_conn: DuckDBPyConnection, job: CopyJob, outcomes: list[FileOutcome]) -> None:
    now = datetime.datetime.now(datetime.UTC).isoformat()
    records = []
    for o in outcomes:
        first = o.first_error
        records.append(
            LoadHistoryRecord(
                schema_name=job.schema,
                file_name=o.file.history_name,
                table_name=job.table,
                last_load_time=now,
                status=o.status,
                row_count=o.rows_loaded,
                row_parsed=o.rows_parsed,
                first_error_message=first.error.message if first else o.message,
                first_error_line_number=first.line if first else None,
                first_error_character_position=first.character if first else None,
                first_error_col_name=first.column_name if first else None,
                error_count=o.errors_seen,
                error_limit=o.error_limit,
            )
        )
    if records:
        duck_conn.executemany(
            f'INSERT INTO "{job.catalog}"._fs_information_schema._fs_load_history '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [tuple(r) for r in records],
        )


def _ensure_copy_errors_table(duck_conn: DuckDBPyConnection, catalog: str) -> None:
    duck_conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS "{catalog}"._fs_information_schema._fs_copy_errors (
            JOB_ID VARCHAR, TABLE_CATALOG VARCHAR, TABLE_SCHEMA VARCHAR, TABLE_NAME VARCHAR,
            ERROR VARCHAR, FILE VARCHAR, LINE BIGINT, CHARACTER BIGINT, BYTE_OFFSET BIGINT,
            CATEGORY VARCHAR, CODE BIGINT, SQL_STATE VARCHAR, COLUMN_NAME VARCHAR, ROW_NUMBER BIGINT,
            ROW_START_LINE BIGINT, REJECTED_RECORD VARCHAR, CREATED_ON TIMESTAMPTZ
        )
        """
    )


def record_errors(duck_conn: DuckDBPyConnection, job: CopyJob, errors: list[RowError]) -> None:
    _ensure_copy_errors_table(duck_conn, job.catalog)
    if not errors:
        return
    now = datetime.datetime.now(datetime.UTC)
    duck_conn.executemany(
        f'INSERT INTO "{job.catalog}"._fs_information_schema._fs_copy_errors '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                job.job_id, job.catalog, job.schema, job.table, e.error.message, e.file, e.line, e.character,
                e.error.errno, e.error.sqlstate, e.column_name, e.row, e.row_start_line,
                e.rejected_record.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), now,
            )
            for e in errors
        ],
    )  # fmt: skip
