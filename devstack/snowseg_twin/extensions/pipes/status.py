"""What a pipe reports: SYSTEM$PIPE_STATUS's JSON object and the COPY_HISTORY rows of its loads."""

from __future__ import annotations

import datetime
from typing import Any

from duckdb import DuckDBPyConnection

from snowseg_twin.extensions.pipes.catalog import PIPE_FILES, Pipe, open_catalog
from snowseg_twin.extensions.pipes.channel import channel_pulled_at, channel_stats, outstanding_messages
from snowseg_twin.extensions.pipes.dependencies import stopped


def format_timestamp(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def status(pipe: Pipe) -> dict[str, Any]:
    """SYSTEM$PIPE_STATUS's object for a pipe."""
    with open_catalog() as meta:
        pending = meta.execute(
            f"SELECT file_path, queued_at FROM {PIPE_FILES} WHERE pipe_id = ? AND status = 'PENDING' "
            "ORDER BY queued_at, file_path",
            [pipe.pipe_id],
        ).fetchall()
        last = meta.execute(
            f"SELECT file_path, last_load_time FROM {PIPE_FILES} WHERE pipe_id = ? "
            "AND status IN ('LOADED', 'PARTIALLY_LOADED') ORDER BY last_load_time DESC LIMIT 1",
            [pipe.pipe_id],
        ).fetchall()
        last_error = meta.execute(
            f"SELECT max(last_load_time) FROM {PIPE_FILES} WHERE pipe_id = ? AND status = 'LOAD_FAILED'",
            [pipe.pipe_id],
        ).fetchall()[0][0]
    stop = stopped(pipe)
    out: dict[str, Any] = {"executionState": stop[0] if stop else "PAUSED" if pipe.paused else "RUNNING"}
    if pending:
        out["oldestPendingFilePath"] = pending[0][0]
        out["oldestFileTimestamp"] = format_timestamp(pending[0][1])
    out["pendingFileCount"] = len(pending)
    if last_error is not None:
        out["lastPipeErrorTimestamp"] = format_timestamp(last_error)
    if stop:
        out["error"] = stop[1]
    if last:
        out["lastIngestedTimestamp"] = format_timestamp(last[0][1])
        out["lastIngestedFilePath"] = last[0][0]
    if pipe.auto_ingest:
        stats = channel_stats.get(pipe.pipe_id, {})
        out["notificationChannelName"] = pipe.notification_channel
        out["numOutstandingMessagesOnChannel"] = outstanding_messages()
        if channel_pulled_at:
            stats = {**stats, "lastPulledFromChannelTimestamp": channel_pulled_at[0]}
        for key in ("lastReceivedMessageTimestamp", "lastForwardedMessageTimestamp", "lastPulledFromChannelTimestamp"):
            if key in stats:
                out[key] = format_timestamp(stats[key])
        if "lastForwardedFilePath" in stats:
            out["lastForwardedFilePath"] = stats["lastForwardedFilePath"]
    return out


def copy_history_rows(
    _duck_conn: DuckDBPyConnection,
    catalog: str,
    schema: str,
    table: str,
    start: datetime.datetime,
    end: datetime.datetime,
) -> list[dict[str, Any]]:
    """COPY_HISTORY rows for the pipe loads into a table, with PIPE_* columns (registered with copy_history)."""
    from snowseg_twin.extensions.copy_history import display_status

    with open_catalog() as meta:
        rows = meta.execute(
            "SELECT file_path, stage_location, last_load_time, row_count, row_parsed, file_size, first_error_message, "
            "first_error_line_number, first_error_character_position, first_error_column_name, error_count, "
            "error_limit, status, table_catalog, table_schema, table_name, pipe_catalog, pipe_schema, pipe_name, "
            f"queued_at FROM {PIPE_FILES} WHERE table_catalog = ? AND table_schema = ? AND table_name = ? "
            "AND status <> 'PENDING' AND last_load_time >= ? AND last_load_time <= ?",
            [catalog, schema, table, start, end],
        ).fetchall()
    names = [
        "FILE_NAME", "STAGE_LOCATION", "LAST_LOAD_TIME", "ROW_COUNT", "ROW_PARSED", "FILE_SIZE", "FIRST_ERROR_MESSAGE",
        "FIRST_ERROR_LINE_NUMBER", "FIRST_ERROR_CHARACTER_POS", "FIRST_ERROR_COLUMN_NAME", "ERROR_COUNT",
        "ERROR_LIMIT", "STATUS", "TABLE_CATALOG_NAME", "TABLE_SCHEMA_NAME", "TABLE_NAME", "PIPE_CATALOG_NAME",
        "PIPE_SCHEMA_NAME", "PIPE_NAME", "PIPE_RECEIVED_TIME",
    ]  # fmt: skip
    out = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        record["STATUS"] = display_status(record["STATUS"])
        out.append(record)
    return out

