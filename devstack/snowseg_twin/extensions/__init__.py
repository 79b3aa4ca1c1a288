"""Snowflake behaviours the Snowseg twin adds to fakesnow 0.12.1.

install() patches fakesnow in-process, so both fakesnow.patch() and fakesnow.server() use them:
- COPY INTO <table> from staged CSV files (Snowflake's CSV defaults: backslash escapes in unenclosed fields, blank
  lines are records) streams in batches (pyarrow parses, DuckDB converts and
  inserts; Python's csv module and the per-value converters decide whatever those cannot vouch for)
  with Snowflake's ON_ERROR statuses, error messages, load history and rejected-record store (copy_csv).
- REMOVE / RM deletes staged files (remove); LIST of an internal stage takes a path and PATTERN (stage_list);
  ALTER FILE FORMAT changes a format in place, and CSV formats default to Snowflake's ESCAPE_UNENCLOSED_FIELD =
  backslash (file_formats);
  PUT's file:// path reaches the client as written, not percent-decoded (put_paths).
- External S3 stages: CREATE STAGE keeps credentials and FILE_FORMAT, LIST and COPY read S3 through
  boto3 (s3_stages).
- Pipes: CREATE / SHOW / DESC / DROP / ALTER PIPE, SYSTEM$PIPE_STATUS and Snowpipe's load queue; a pipe stops
  when the file format or stage its COPY uses is dropped or replaced (pipes).
- Accounts (account): warehouses, storage integrations, users and key-pair login, the session's context, roles and
  grants (roles), ownership of every object created, and Snowflake's privilege checks on every statement when the
  server does (the default; env SNOWSEG_TWIN_PRIVILEGES=off turns them off) (access_control).
- Query responses: a failed query's message is the error's own text, and the session parameters name the
  session's TIMEZONE, as Snowflake sends them (query_responses).
- DDL commits the session's open transaction, then runs as its own (ddl_commits).
- Bulk-load checks: VALIDATE(t, JOB_ID => ...), COPY ... VALIDATION_MODE, INFORMATION_SCHEMA.COPY_HISTORY
  and LAST_QUERY_ID() (load_checks: validate, validation_mode, copy_history, query_ids).
- Query history: every statement a session sends, with its QUERY_TAG, times and status, read through
  INFORMATION_SCHEMA.QUERY_HISTORY / QUERY_HISTORY_BY_SESSION / _BY_USER / _BY_WAREHOUSE (query_history).

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
    from snowseg_twin.extensions import _fakesnow_compat as compat

    compat.check()  # fails loudly, naming the touchpoint, if the installed fakesnow lacks one
    from snowseg_twin.extensions import _statements, copy_csv, file_formats, pipes, put_paths, remove, s3_stages
    from snowseg_twin.extensions import stage_list
    from snowseg_twin.extensions import account, load_checks, null_timestamps, query_responses

    with _lock:
        compat.replace("cursor.copy_into", copy_csv.copy_into)
        put_paths.install()
        put_paths.install_stage_qualification()
        _statements.register(s3_stages.handle)
        _statements.register(stage_list.handle)  # after s3_stages: internal stages only
        _statements.register(pipes.handle)
        _statements.register(remove.handle)
        _statements.register(file_formats.handle)
        file_formats.install_defaults()
        _statements.UNPARSABLE[:] = [pipes.DESC_PIPE, *file_formats.UNPARSABLE]
        _statements.install()
        null_timestamps.install()
        load_checks.install()
        account.install()  # warehouses, storage integrations, users + key-pair login, session context
        query_responses.install()  # a failed query's own message; the session's TIMEZONE in every response
        from snowseg_twin.extensions import ddl_commits

        ddl_commits.install()  # after the privilege checks
        from snowseg_twin.extensions import copy_history

        copy_history.register_source(pipes.copy_history_rows)  # Snowpipe loads, with PIPE_NAME
        from snowseg_twin.extensions import query_history

        query_history.install()  # last: its execute wrapper sees every statement, refused ones included
        if csv.field_size_limit() < _MAX_FIELD_CHARS:
            csv.field_size_limit(_MAX_FIELD_CHARS)


def installed() -> bool:
    from snowseg_twin.extensions import _fakesnow_compat as compat
    from snowseg_twin.extensions import _statements, copy_csv, query_history, remove

    return (
        compat.current("cursor.copy_into") is copy_csv.copy_into
        and _statements.installed()
        and remove.handle in _statements.HANDLERS
        and query_history.installed()
    )


__all__ = ["install", "installed"]
