"""Which load metadata a running COPY records into: the table's (bulk COPY) or a pipe's (Snowpipe).

Snowflake keeps the two apart: bulk COPY's load metadata lives with the target table for 64 days
(INFORMATION_SCHEMA.LOAD_HISTORY), Snowpipe's with the pipe for 14 days (COPY_HISTORY rows with a
PIPE_NAME). The pipes module sets `history_writer` while it runs a pipe's COPY; copy_csv records
through it instead of the table's load history when it is set.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

# (duck_conn, CopyJob, list[FileOutcome]) -> None
history_writer: ContextVar[Callable[[Any, Any, list[Any]], None] | None] = ContextVar("history_writer", default=None)
