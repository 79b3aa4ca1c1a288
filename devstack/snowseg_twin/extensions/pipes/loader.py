"""The pipe's load queue and its loader thread: queued files are loaded in batches by one background thread, one
pipe COPY per batch, and the outcome is recorded per file."""

from __future__ import annotations

import concurrent.futures
import datetime
import logging
import re
import threading
from typing import Any

import snowflake.connector.errors
from sqlglot import exp

from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions._pipe_context import history_writer
from snowseg_twin.extensions.pipes.catalog import PIPE_FILES, Pipe, by_id, open_catalog, root_connection, utc_now
from snowseg_twin.extensions.pipes.dependencies import stopped
from snowseg_twin.extensions.pipes.locations import Location, location

logger = logging.getLogger("snowseg_twin.pipes")

HISTORY_DAYS = 14
BATCH_FILES = 1000

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="snowseg-snowpipe")
_process_lock = threading.Lock()


def enqueue(
    pipe: Pipe, files: list[tuple[str, int | None]], request_id: str | None = None, loc: Location | None = None
) -> list[str]:
    """Queue files (path relative to the pipe's FROM location, size) the pipe hasn't loaded or queued; returns
    the paths queued."""
    loc = loc or location(pipe)
    cutoff = utc_now() - datetime.timedelta(days=HISTORY_DAYS)
    catalog, schema, table = pipe.table
    queued = []
    with open_catalog() as meta:
        for path, size in files:
            url = loc.file_url(path)
            seen = meta.execute(
                f"SELECT 1 FROM {PIPE_FILES} WHERE pipe_id = ? AND file_url = ? AND (status = 'PENDING' OR "
                "(status IN ('LOADED', 'PARTIALLY_LOADED') AND last_load_time >= ?)) LIMIT 1",
                [pipe.pipe_id, url, cutoff],
            ).fetchall()
            if seen or path in queued:
                continue
            meta.execute(
                f"INSERT INTO {PIPE_FILES} (pipe_id, pipe_catalog, pipe_schema, pipe_name, file_path, file_url, "
                "stage_location, file_size, queued_at, request_id, status, table_catalog, table_schema, table_name) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?)",
                [
                    pipe.pipe_id, pipe.catalog, pipe.schema, pipe.name, path, url, loc.url, size, utc_now(), request_id,
                    catalog, schema, table,
                ],
            )  # fmt: skip
            queued.append(path)
    return queued


def kick(pipe_id: str) -> concurrent.futures.Future:
    """Load the pipe's pending files in the background (no-op while it is paused)."""
    return _executor.submit(_process_safely, pipe_id)


def _process_safely(pipe_id: str) -> None:
    try:
        process(pipe_id)
    except Exception:
        logger.exception("pipe %s: load failed", pipe_id)


def process(pipe_id: str) -> None:
    """Load every pending file of a running pipe, in batches, recording the outcome per file."""
    with _process_lock:
        pipe = by_id(pipe_id)
        if pipe is None or pipe.paused or stopped(pipe) is not None:
            return
        with open_catalog() as meta:
            pending = meta.execute(
                f"SELECT file_path, file_url FROM {PIPE_FILES} WHERE pipe_id = ? AND status = 'PENDING' "
                "ORDER BY queued_at, file_path",
                [pipe_id],
            ).fetchall()
        for i in range(0, len(pending), BATCH_FILES):
            _load(pipe, pending[i : i + BATCH_FILES])


def _pipe_copy_sql(pipe: Pipe, paths: list[str]) -> str:
    """The pipe's COPY for these files: FILES given, FORCE (Snowpipe doesn't consult the table's load metadata)
    and Snowpipe's default ON_ERROR = SKIP_FILE."""
    sql = pipe.definition.strip().rstrip(";")
    files = ", ".join(exp.Literal.string(p).sql(dialect="snowflake") for p in paths)
    sql += f" FILES = ({files}) FORCE = TRUE"
    if not re.search(r"\bON_ERROR\s*=", sql, re.IGNORECASE):
        sql += " ON_ERROR = SKIP_FILE"
    return sql


def _connection(pipe: Pipe) -> Any:  # noqa: ANN401
    return compat.new_connection(root_connection().cursor(), pipe.catalog, pipe.schema)


def _load(pipe: Pipe, pending: list[tuple[str, str]]) -> None:
    outcomes: list[Any] = []
    error: str | None = None

    def collect(_duck_conn: Any, _job: Any, found: list[Any]) -> None:  # noqa: ANN401
        outcomes.extend(found)

    conn = _connection(pipe)
    token = history_writer.set(collect)
    try:
        with conn.cursor() as cur:
            cur.execute(_pipe_copy_sql(pipe, [p for p, _ in pending]))
    except snowflake.connector.errors.Error as e:
        error = e.msg or str(e)
    finally:
        history_writer.reset(token)
        conn.close()
    if error is not None and len(pending) > 1 and not outcomes:
        for one in pending:  # a missing file fails the whole batch: load the others one by one
            _load(pipe, [one])
        return
    by_url = {o.file.history_name: o for o in outcomes}
    now = utc_now()
    with open_catalog() as meta:
        for path, url in pending:
            o = by_url.get(url)
            if o is not None:
                first = o.first_error
                values = [
                    o.status, now, o.rows_loaded, o.rows_parsed, o.errors_seen, o.error_limit,
                    first.error.message if first else o.message, first.line if first else None,
                    first.character if first else None, first.column_name if first else None,
                ]  # fmt: skip
            elif error is not None:
                values = ["LOAD_FAILED", now, 0, 0, 1, 1, error, None, None, None]
            else:  # loaded by fakesnow's own COPY (non-CSV formats): no per-file outcome
                values = ["LOADED", now, None, None, 0, 1, None, None, None, None]
            meta.execute(
                f"UPDATE {PIPE_FILES} SET status = ?, last_load_time = ?, row_count = ?, row_parsed = ?, "
                "error_count = ?, error_limit = ?, first_error_message = ?, first_error_line_number = ?, "
                "first_error_character_position = ?, first_error_column_name = ? "
                "WHERE pipe_id = ? AND file_url = ? AND status = 'PENDING'",
                [*values, pipe.pipe_id, url],
            )
            logger.info("pipe %s: %s %s", pipe.fqname, path, values[0])


def wait_idle(timeout: float = 30) -> None:
    """Block until every load queued so far has run (for tests and shutdown)."""
    _executor.submit(lambda: None).result(timeout=timeout)
