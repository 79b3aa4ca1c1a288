"""Snowflake behaviours the Snowseg twin adds to fakesnow 0.12.1.

install() patches fakesnow in-process, so both fakesnow.patch() and fakesnow.server() use them:
- COPY INTO <table> from staged CSV files is parsed and converted in Python with Snowflake's
  ON_ERROR statuses, error messages, load history and rejected-record store (copy_csv).
- REMOVE / RM deletes staged files (remove).

Call install() before serving; it is idempotent.
"""

from __future__ import annotations

import csv
import threading

_lock = threading.Lock()

# Snowflake's largest field is 16 MB; Python's csv module defaults to 128 KB per field.
_MAX_FIELD_CHARS = 16 * 1024 * 1024


def install() -> None:
    """Patch fakesnow with the twin's extensions. Safe to call more than once."""
    import fakesnow.cursor

    from snowseg_twin.extensions import copy_csv, remove

    with _lock:
        fakesnow.cursor.copy_into = copy_csv.copy_into
        cursor_cls = fakesnow.cursor.FakeSnowflakeCursor
        if not getattr(cursor_cls.execute, "__snowseg_remove__", False):
            cursor_cls.execute = remove.wrap_execute(cursor_cls.execute)  # type: ignore[method-assign]
        if csv.field_size_limit() < _MAX_FIELD_CHARS:
            csv.field_size_limit(_MAX_FIELD_CHARS)


def installed() -> bool:
    import fakesnow.cursor

    from snowseg_twin.extensions import copy_csv

    return fakesnow.cursor.copy_into is copy_csv.copy_into and getattr(
        fakesnow.cursor.FakeSnowflakeCursor.execute, "__snowseg_remove__", False
    )


__all__ = ["install", "installed"]
