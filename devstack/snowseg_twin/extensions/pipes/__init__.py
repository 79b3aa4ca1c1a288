"""Snowpipe: CREATE / SHOW / DESC / DROP / ALTER PIPE, SYSTEM$PIPE_STATUS, and the pipe's load queue.

Emulates Snowflake's pipes over the twin's COPY engine (copy_csv, s3_stages):
- `CREATE [OR REPLACE] PIPE [IF NOT EXISTS] p [AUTO_INGEST = TRUE|FALSE] [COMMENT = '..'] AS COPY INTO ...
  FROM @stage[/path] | (SELECT ... FROM @stage[/path]) ...` (a transformation as far as the engine's
  projection goes, eg: SPLIT_PART(METADATA$FILENAME, '/', -2) as a batch id) stores the pipe in
  ``_fs_global._fs_information_schema._twin_pipes`` (persisted with the stages). An auto-ingest pipe
  gets a notification_channel: the ARN of an SQS queue the twin creates in moto (env AWS_ENDPOINT_URL),
  to which the user points the bucket's event notifications, as with real Snowpipe. Like Snowflake,
  one queue serves every auto-ingest pipe of the account (region); messages are routed to the pipes
  whose stage location holds the object.
- `SHOW PIPES [LIKE '..'] [IN ACCOUNT | DATABASE d | SCHEMA s]`, `DESC[RIBE] PIPE p`,
  `DROP PIPE [IF EXISTS] p`, `ALTER PIPE p SET PIPE_EXECUTION_PAUSED = TRUE|FALSE`, `ALTER PIPE p SET
  COMMENT = '..'`, `ALTER PIPE p REFRESH [PREFIX = '..'] [MODIFIED_AFTER = '..']` (queues the files under the
  pipe's FROM location + PREFIX, last modified within the last 7 days and after MODIFIED_AFTER, that neither the
  pipe's nor the target table's load metadata has loaded; result rows File / Status = SENT).
- `SELECT SYSTEM$PIPE_STATUS('db.schema.p')`: Snowflake's JSON (executionState RUNNING | PAUSED |
  STOPPED_FILE_FORMAT_DROPPED | STOPPED_STAGE_DROPPED, with "error" when stopped; pendingFileCount,
  oldestPendingFilePath / oldestFileTimestamp while files are pending, lastIngestedTimestamp,
  lastIngestedFilePath, notificationChannelName,
  numOutstandingMessagesOnChannel, lastReceivedMessageTimestamp, lastForwardedMessageTimestamp,
  lastPulledFromChannelTimestamp, lastForwardedFilePath).
- Loading: queued files (from REFRESH, the auto-ingest worker or the REST insertFiles) are loaded by
  a background thread, one pipe COPY per batch, unless the pipe is paused (files stay pending and
  load after resume). The pipe's COPY defaults to ON_ERROR = SKIP_FILE (Snowpipe's default). Snowpipe
  keeps its own load metadata, apart from the table's: a file the pipe loaded (LOADED or
  PARTIALLY_LOADED) in the last 14 days is not queued again, files loaded by a bulk COPY are not
  skipped, and pipe loads do not appear in INFORMATION_SCHEMA.LOAD_HISTORY. They are recorded, with
  the pipe's name, in ``_fs_global._fs_information_schema._twin_pipe_files`` (one row per queued file:
  FILE_PATH relative to the pipe's FROM location, FILE_URL, STAGE_LOCATION, STATUS PENDING | LOADED |
  PARTIALLY_LOADED | LOAD_FAILED, counts, first error, TABLE_*), which COPY_HISTORY, insertReport
  and loadHistoryScan read.

A pipe depends on the named file format its COPY names (FILE_FORMAT = (FORMAT_NAME = ..)) and on the named
stage it reads: CREATE PIPE fails with 002003 when either does not exist (Snowflake compiles the COPY), and the
pipe remembers which object it found (its created_on). Once that object is dropped, or replaced by CREATE OR
REPLACE ("the old object is deleted and the new object is created",
https://docs.snowflake.com/en/sql-reference/sql/create), the pipe stops: SYSTEM$PIPE_STATUS reports
executionState STOPPED_FILE_FORMAT_DROPPED (or STOPPED_STAGE_DROPPED) and an "error", queued files stay pending
and nothing loads. ALTER FILE FORMAT keeps the object, so the pipe keeps running. Resuming (PIPE_EXECUTION_PAUSED
= FALSE) does not restart a stopped pipe (the twin's stricter reading); recreating it (CREATE OR REPLACE PIPE) does,
after which ALTER PIPE ... REFRESH queues the files again.

Differs from Snowflake: paths in REST calls and in pipe status are relative to the pipe's FROM
location (stage + path); a file that failed (LOAD_FAILED) may be queued again; a dropped or
recreated pipe loses its load metadata and queued files at once; loads start within about a second
rather than within a minute; the definition's COPY is not validated at CREATE beyond parsing and its named file
format and stage existing; a dropped or replaced target table does not stop the pipe (STOPPED_MISSING_TABLE).

The package, one concern a module: statements (the SQL, handle()), catalog (the Pipe record and its tables),
dependencies (the file format and stage a pipe stops without), channel (the SQS notification queue), locations
(where a pipe's COPY reads), loader (the load queue and its background thread), status (SYSTEM$PIPE_STATUS and
COPY_HISTORY rows).
"""

from snowseg_twin.extensions.pipes.catalog import (
    PIPE_FILES,
    PIPES,
    Pipe,
    all_pipes,
    by_id,
    delete_pipe,
    find,
    lookup,
    open_catalog,
    root_connection,
)
from snowseg_twin.extensions.pipes.channel import (
    QUEUE_NAME,
    channel_pulled_at,
    channel_stats,
    notification_channel,
    sqs_client,
)
from snowseg_twin.extensions.pipes.dependencies import STOPPED_FILE_FORMAT_DROPPED, STOPPED_STAGE_DROPPED, stopped
from snowseg_twin.extensions.pipes.loader import enqueue, kick, process, wait_idle
from snowseg_twin.extensions.pipes.locations import Location, accepts, location
from snowseg_twin.extensions.pipes.statements import DESC_PIPE, handle
from snowseg_twin.extensions.pipes.status import copy_history_rows, format_timestamp, status

__all__ = [
    "DESC_PIPE",
    "PIPES",
    "PIPE_FILES",
    "QUEUE_NAME",
    "STOPPED_FILE_FORMAT_DROPPED",
    "STOPPED_STAGE_DROPPED",
    "Location",
    "Pipe",
    "accepts",
    "all_pipes",
    "by_id",
    "channel_pulled_at",
    "channel_stats",
    "copy_history_rows",
    "delete_pipe",
    "enqueue",
    "find",
    "format_timestamp",
    "handle",
    "kick",
    "location",
    "lookup",
    "notification_channel",
    "open_catalog",
    "process",
    "root_connection",
    "sqs_client",
    "status",
    "stopped",
    "wait_idle",
]
