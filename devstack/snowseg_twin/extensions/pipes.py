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
  COMMENT = '..'`, `ALTER PIPE p REFRESH [PREFIX = '..']` (queues the files under the pipe's FROM
  location + PREFIX that the pipe has not loaded; result rows File / Status = SENT).
- `SELECT SYSTEM$PIPE_STATUS('db.schema.p')`: Snowflake's JSON (executionState RUNNING | PAUSED |
  STOPPED_FILE_FORMAT_DROPPED | STOPPED_STAGE_DROPPED, with "error" when stopped; pendingFileCount, oldestPendingFilePath / oldestFileTimestamp while files are pending,
  lastIngestedTimestamp, lastIngestedFilePath, notificationChannelName,
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
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import snowflake.connector.errors
import sqlglot
from duckdb import DuckDBPyConnection
from sqlglot import exp

from snowseg_twin.extensions import s3_stages
from snowseg_twin.extensions._pipe_context import history_writer
from snowseg_twin.extensions._staged_files import list_prefix
from snowseg_twin.extensions._table_functions import literal, values_sql
from snowseg_twin.extensions import _fakesnow_compat as compat

logger = logging.getLogger("snowseg_twin.pipes")

PIPES = "_fs_global._fs_information_schema._twin_pipes"
PIPE_FILES = "_fs_global._fs_information_schema._twin_pipe_files"
ACCOUNT_ID = "123456789012"  # moto's default account
QUEUE_NAME = "sf-snowpipe-AIDASNOWSEGTWIN-local"
HISTORY_DAYS = 14
BATCH_FILES = 1000

_NAME = r"(?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+)){0,2}"
_CREATE = re.compile(
    rf"""^\s*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?PIPE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})
        (?P<props>.*?)\s+AS\s+(?P<copy>COPY\s+INTO\b.*?)\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_SHOW = re.compile(
    rf"""^\s*SHOW\s+PIPES(?:\s+LIKE\s+'(?P<like>(?:[^']|'')*)')?
        (?:\s+IN\s+(?:(?P<account>ACCOUNT)|DATABASE\s+(?P<db>{_NAME})|(?:SCHEMA\s+)?(?P<schema>{_NAME})))?\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
DESC_PIPE = _DESC = re.compile(rf"^\s*DESC(?:RIBE)?\s+PIPE\s+(?P<name>{_NAME})\s*;?\s*$", re.IGNORECASE)
_DROP = re.compile(rf"^\s*DROP\s+PIPE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s*;?\s*$", re.IGNORECASE)
_ALTER = re.compile(
    rf"^\s*ALTER\s+PIPE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s+(?P<action>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_STATUS = re.compile(
    r"""^\s*SELECT\s+(?P<fn>SYSTEM\$PIPE_STATUS)\s*\(\s*'(?P<arg>(?:[^']|'')*)'\s*\)
        (?:\s+(?:AS\s+)?(?P<alias>\w+|"[^"]+"))?\s*;?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_OPTION = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|\S+)", re.DOTALL)

SHOW_COLUMNS = [
    ("created_on", "TIMESTAMPTZ"),
    ("name", "VARCHAR"),
    ("database_name", "VARCHAR"),
    ("schema_name", "VARCHAR"),
    ("definition", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("notification_channel", "VARCHAR"),
    ("comment", "VARCHAR"),
    ("integration", "VARCHAR"),
    ("pattern", "VARCHAR"),
    ("error_integration", "VARCHAR"),
    ("owner_role_type", "VARCHAR"),
    ("invalid_reason", "VARCHAR"),
    ("kind", "VARCHAR"),
]


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


# --- catalog -----------------------------------------------------------------------------------------------------

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


def _meta() -> DuckDBPyConnection:
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
    with _meta() as meta:
        rows = meta.execute(
            f"SELECT {_PIPE_COLUMNS} FROM {PIPES} WHERE database_name = ? AND schema_name = ? AND name = ?",
            [catalog, schema, name],
        ).fetchall()
    return _pipe(rows[0]) if rows else None


def by_id(pipe_id: str) -> Pipe | None:
    with _meta() as meta:
        rows = meta.execute(f"SELECT {_PIPE_COLUMNS} FROM {PIPES} WHERE pipe_id = ?", [pipe_id]).fetchall()
    return _pipe(rows[0]) if rows else None


def all_pipes() -> list[Pipe]:
    with _meta() as meta:
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


# --- dependencies: the named file format and stage of the COPY --------------------------------------------------

STOPPED_FILE_FORMAT_DROPPED = "STOPPED_FILE_FORMAT_DROPPED"
STOPPED_STAGE_DROPPED = "STOPPED_STAGE_DROPPED"
_FILE_FORMATS = "_fs_global._fs_information_schema._fs_file_formats"
_STAGES = "_fs_global._fs_information_schema._fs_stages"


def _created_on(duck: DuckDBPyConnection, table: str, fqname: str) -> datetime.datetime | None:
    """created_on of the file format or stage DB.SCHEMA.NAME, or None if it does not exist."""
    catalog, schema, name = fqname.split(".", 2)
    rows = duck.execute(
        f"SELECT created_on FROM {table} WHERE database_name = ? AND schema_name = ? AND name = ?",
        [catalog, schema, name],
    ).fetchall()
    return rows[0][0] if rows else None


def format_name(copy: exp.Copy) -> str | None:
    """The FORMAT_NAME of the COPY's FILE_FORMAT, as written (None for inline options or none)."""
    from snowseg_twin.extensions._fakesnow_compat import parse_options

    for param in copy.args.get("params") or []:
        if param.this.name.upper() == "FILE_FORMAT":
            named = parse_options(param.expressions).get("FORMAT_NAME")
            return None if named is None else str(named)
    return None


def dependencies(copy: exp.Copy, catalog: str, schema: str, duck: DuckDBPyConnection) -> dict[str, Any]:
    """The named file format and stage the COPY uses, with their created_on (Pipe fields); a missing one fails
    with 002003, as Snowflake's compilation of the COPY does. Table stages have no object to depend on."""
    found: dict[str, Any] = {}
    if (named := format_name(copy)) is not None:
        fq = ".".join(compat.parts_from_var(named, catalog, schema))
        created = _created_on(duck, _FILE_FORMATS, fq)
        if created is None:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nFile format '{fq}' does not exist or not authorized.", errno=2003,
                sqlstate="02000")
        found |= {"file_format": fq, "file_format_created": created}
    var = compat.from_source(copy)[1:].split("/", 1)[0]
    if not var.split(".")[-1].startswith(("%", "~")):
        fq = ".".join(compat.parts_from_var(var, catalog, schema))
        created = _created_on(duck, _STAGES, fq)
        if created is None:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nStage '{fq}' does not exist or not authorized.", errno=2003,
                sqlstate="02000")
        found |= {"stage_name": fq, "stage_created": created}
    return found


def stopped(pipe: Pipe) -> tuple[str, str] | None:
    """(executionState, error) if an object the pipe depends on was dropped or replaced since CREATE PIPE."""
    checks = [(pipe.stage_name, pipe.stage_created, _STAGES, STOPPED_STAGE_DROPPED, "stage"),
              (pipe.file_format, pipe.file_format_created, _FILE_FORMATS, STOPPED_FILE_FORMAT_DROPPED, "file format")]
    with _meta() as meta:
        for fq, created, table, state, label in checks:
            if fq is None:
                continue
            now = _created_on(meta, table, fq)
            if now is None or now != created:
                how = "dropped" if now is None else "replaced (dropped and created again)"
                return state, (f"The {label} {fq} that the pipe's COPY uses was {how} after the pipe was created; "
                               "recreate the pipe (CREATE OR REPLACE PIPE).")
    return None


# --- notification channel ------------------------------------------------------------------------------------------


def _region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


def sqs_client() -> Any:  # noqa: ANN401
    import boto3

    kwargs: dict[str, Any] = {"region_name": _region()}
    if endpoint := os.environ.get("AWS_ENDPOINT_URL"):
        kwargs["endpoint_url"] = endpoint
    return boto3.client("sqs", **kwargs)


def notification_channel() -> str:
    """The account's Snowpipe SQS queue ARN, creating the queue in moto when AWS_ENDPOINT_URL is set."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return f"arn:aws:sqs:{_region()}:{ACCOUNT_ID}:{QUEUE_NAME}"
    sqs = sqs_client()
    url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


# --- locations ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """Where a pipe's COPY reads: an external S3 location or an internal stage directory."""

    url: str  # s3://bucket/prefix/path or the internal stage's local directory (+ path)
    ext: s3_stages.ExternalStage | None
    key: str  # S3 key prefix of the FROM location (external only)

    def file_url(self, path: str) -> str:
        base = self.url if self.url.endswith("/") or not self.url else f"{self.url}/"
        return f"{base}{path}"

    def relative(self, url: str) -> str | None:
        """The path of url relative to this location, or None if it is outside it."""
        base = self.url if self.url.endswith("/") else f"{self.url}/"
        if url.startswith(base):
            return url[len(base) :]
        return None

    def list(self, prefix: str = "") -> list[tuple[str, int, str]]:
        """(path relative to the location, size, url) of every file under location + prefix."""
        if self.ext is not None:
            base = self.key if not self.key or self.key.endswith("/") else f"{self.key}/"
            out = []
            for o in s3_stages.list_objects(self.ext, f"{base}{prefix}"):
                url = self.ext.url_of(o.key)
                rel = self.relative(url)
                if rel is not None:
                    out.append((rel, o.size, url))
            return out
        duck = root_connection().cursor()
        try:
            files = list_prefix(self.file_url(prefix), duck)
        finally:
            duck.close()
        return [(rel, os.path.getsize(f.path), f.path) for f in files if (rel := self.relative(f.path)) is not None]


def location(pipe: Pipe, duck_conn: DuckDBPyConnection | None = None) -> Location:
    """Where the pipe's COPY reads (its FROM stage + path)."""
    if duck_conn is None:
        with root_connection().cursor() as duck:
            return location(pipe, duck)
    duck = duck_conn
    resolved = s3_stages.resolve(pipe.source, duck, pipe.catalog, pipe.schema)
    if resolved is not None:
        ext, path = resolved
        key = ext.key(path)
        return Location(ext.url_of(key), ext, key)
    table = compat.extract_table(pipe.copy().this)
    url = compat.stage_url_from_var(
        pipe.source, duck, pipe.catalog, pipe.schema, compat.TableStages(duck), table
    )
    return Location(url, None, "")


def accepts(pipe: Pipe, loc: Location, url: str, path: str) -> bool:
    """Whether the pipe's PATTERN (if any) matches a file: the whole path relative to the stage."""
    if not pipe.pattern:
        return True
    name = loc.ext.name(url[len("s3://") :].partition("/")[2]) if loc.ext else path
    return re.fullmatch(pipe.pattern, name) is not None


# --- queue and loads ---------------------------------------------------------------------------------------------

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="snowseg-snowpipe")
_process_lock = threading.Lock()
# pipe_id -> channel timestamps kept by the auto-ingest worker (not persisted)
channel_stats: dict[str, dict[str, Any]] = {}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def enqueue(
    pipe: Pipe, files: list[tuple[str, int | None]], request_id: str | None = None, loc: Location | None = None
) -> list[str]:
    """Queue files (path relative to the pipe's FROM location, size) the pipe hasn't loaded or queued; returns
    the paths queued."""
    loc = loc or location(pipe)
    cutoff = _now() - datetime.timedelta(days=HISTORY_DAYS)
    catalog, schema, table = pipe.table
    queued = []
    with _meta() as meta:
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
                    pipe.pipe_id, pipe.catalog, pipe.schema, pipe.name, path, url, loc.url, size, _now(), request_id,
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
        with _meta() as meta:
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
    now = _now()
    with _meta() as meta:
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


# --- status ------------------------------------------------------------------------------------------------------


def _ts(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def outstanding_messages() -> int:
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return 0
    try:
        sqs = sqs_client()
        url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    except Exception:  # no queue yet
        return 0


def status(pipe: Pipe) -> dict[str, Any]:
    """SYSTEM$PIPE_STATUS's object for a pipe."""
    with _meta() as meta:
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
        out["oldestFileTimestamp"] = _ts(pending[0][1])
    out["pendingFileCount"] = len(pending)
    if last_error is not None:
        out["lastPipeErrorTimestamp"] = _ts(last_error)
    if stop:
        out["error"] = stop[1]
    if last:
        out["lastIngestedTimestamp"] = _ts(last[0][1])
        out["lastIngestedFilePath"] = last[0][0]
    if pipe.auto_ingest:
        stats = channel_stats.get(pipe.pipe_id, {})
        out["notificationChannelName"] = pipe.notification_channel
        out["numOutstandingMessagesOnChannel"] = outstanding_messages()
        for key in ("lastReceivedMessageTimestamp", "lastForwardedMessageTimestamp", "lastPulledFromChannelTimestamp"):
            if key in stats:
                out[key] = _ts(stats[key])
        if "lastForwardedFilePath" in stats:
            out["lastForwardedFilePath"] = stats["lastForwardedFilePath"]
    return out


# --- statements --------------------------------------------------------------------------------------------------


def _status_sql(message: str) -> str:
    return f"SELECT {literal(message)} AS status"


def _show_row(p: Pipe, owner: str | None = "SYSADMIN") -> list[object]:
    return [
        p.created_on, p.name, p.catalog, p.schema, p.definition, owner or "", p.notification_channel, p.comment,
        None, p.pattern, None, "ROLE", None, "STAGE",
    ]  # fmt: skip


def _options(text: str) -> dict[str, str]:
    return {k.upper(): (v[1:-1].replace("''", "'") if v.startswith("'") else v) for k, v in _OPTION.findall(text)}


def _remember_root(cursor: Any) -> None:  # noqa: ANN401
    global _root
    if _root is None:
        _root = compat.duck_conn(cursor)


def create_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    conn = compat.connection(cursor)
    catalog, schema, name = resolve_name(m["name"], conn.database, conn.schema)
    copy_text = m["copy"].strip()
    copy = sqlglot.parse_one(copy_text, read="snowflake")
    if not isinstance(copy, exp.Copy) or not compat.from_source(copy).startswith("@"):
        raise NotImplementedError("CREATE PIPE whose COPY doesn't read from a stage")
    props = _options(m["props"])
    auto_ingest = props.get("AUTO_INGEST", "FALSE").upper() == "TRUE"
    pattern = None
    for param in copy.args.get("params") or []:
        if param.this.name.upper() == "PATTERN":
            pattern = param.args["expression"].name
    existing = find(catalog, schema, name)
    if existing is not None and not m["replace"]:
        if m["ine"]:
            return _status_sql(f"{name} already exists, statement succeeded.")
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\nObject '{name}' already exists.", errno=2002, sqlstate="42710"
        )
    depends = dependencies(copy, catalog, schema, compat.duck_conn(cursor))
    channel = notification_channel() if auto_ingest else None
    with _meta() as meta:
        if existing is not None:
            _delete(meta, existing)
        meta.execute(
            f"INSERT INTO {PIPES} (pipe_id, created_on, database_name, schema_name, name, definition, owner, "
            "notification_channel, comment, pattern, auto_ingest, paused, file_format, file_format_created, stage_name, "
            "stage_created) VALUES (?, ?, ?, ?, ?, ?, 'SYSADMIN', ?, ?, ?, ?, FALSE, ?, ?, ?, ?)",
            [str(uuid.uuid4()), _now(), catalog, schema, name, copy_text, channel, props.get("COMMENT", ""), pattern,
             auto_ingest, depends.get("file_format"), depends.get("file_format_created"), depends.get("stage_name"),
             depends.get("stage_created")],
        )  # fmt: skip
    return _status_sql(f"Pipe {name} successfully created.")


def _delete(meta: DuckDBPyConnection, pipe: Pipe) -> None:
    meta.execute(f"DELETE FROM {PIPES} WHERE pipe_id = ?", [pipe.pipe_id])
    meta.execute(f"DELETE FROM {PIPE_FILES} WHERE pipe_id = ?", [pipe.pipe_id])
    channel_stats.pop(pipe.pipe_id, None)


def show_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    conn = compat.connection(cursor)
    pipes = all_pipes()
    if m["db"]:
        db = resolve_name(f"{m['db']}.X.Y", None, None)[0]
        pipes = [p for p in pipes if p.catalog == db]
    elif m["schema"]:
        catalog, schema, _ = resolve_name(f"{m['schema']}.X", conn.database, conn.schema)
        pipes = [p for p in pipes if (p.catalog, p.schema) == (catalog, schema)]
    elif not m["account"] and conn.database:
        pipes = [p for p in pipes if p.catalog == conn.database]
    if m["like"] is not None:
        regex = re.compile(
            "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in m["like"].replace("''", "'")),
            re.IGNORECASE | re.DOTALL,
        )
        pipes = [p for p in pipes if regex.fullmatch(p.name)]
    from snowseg_twin.extensions import access_control

    pipes = [p for p in pipes if access_control.visible(cursor, "PIPE", p.fqname)]
    return values_sql(SHOW_COLUMNS, [_show_row(p, access_control.owner_of(cursor, "PIPE", p.fqname)) for p in pipes])


def alter_sql(cursor: Any, m: re.Match) -> str:  # noqa: ANN401
    conn = compat.connection(cursor)
    catalog, schema, name = resolve_name(m["name"], conn.database, conn.schema)
    pipe = find(catalog, schema, name)
    if pipe is None:
        if m["ie"]:
            return _status_sql("Statement executed successfully.")
        raise not_found(f"{catalog}.{schema}.{name}")
    action = m["action"].strip()
    if re.match(r"REFRESH\b", action, re.IGNORECASE):
        opts = _options(action[len("REFRESH") :])
        unknown = set(opts) - {"PREFIX", "MODIFIED_AFTER"}
        if unknown:
            raise NotImplementedError(f"ALTER PIPE REFRESH {', '.join(sorted(unknown))}")
        loc = location(pipe, compat.duck_conn(cursor))
        listed = loc.list(opts.get("PREFIX", ""))
        listed = [(p, s, u) for p, s, u in listed if accepts(pipe, loc, u, p)]
        queued = enqueue(pipe, [(p, s) for p, s, _ in listed], loc=loc)
        kick(pipe.pipe_id)
        return values_sql([("File", "VARCHAR"), ("Status", "VARCHAR")], [[p, "SENT"] for p in queued])
    sm = re.match(r"SET\s+(.*)$", action, re.IGNORECASE | re.DOTALL)
    if not sm:
        raise NotImplementedError(f"ALTER PIPE {action}")
    opts = _options(sm[1])
    unknown = set(opts) - {"PIPE_EXECUTION_PAUSED", "COMMENT"}
    if unknown:
        raise NotImplementedError(f"ALTER PIPE SET {', '.join(sorted(unknown))}")
    with _meta() as meta:
        if "PIPE_EXECUTION_PAUSED" in opts:
            paused = opts["PIPE_EXECUTION_PAUSED"].upper() == "TRUE"
            meta.execute(f"UPDATE {PIPES} SET paused = ? WHERE pipe_id = ?", [paused, pipe.pipe_id])
        if "COMMENT" in opts:
            meta.execute(f"UPDATE {PIPES} SET comment = ? WHERE pipe_id = ?", [opts["COMMENT"], pipe.pipe_id])
    if opts.get("PIPE_EXECUTION_PAUSED", "").upper() == "FALSE":
        kick(pipe.pipe_id)
    return _status_sql("Statement executed successfully.")


def handle(cursor: Any, command: str, execute: Callable, params: Any, args: Any, kwargs: Any) -> bool:  # noqa: ANN401
    """Run a pipe statement; False if command is not one."""
    sql = None
    if m := _CREATE.match(command):
        _remember_root(cursor)
        sql = create_sql(cursor, m)
    elif m := _SHOW.match(command):
        _remember_root(cursor)
        sql = show_sql(cursor, m)
    elif m := _DESC.match(command):
        conn = compat.connection(cursor)
        sql = values_sql(SHOW_COLUMNS, [_show_row(lookup(m["name"], conn.database, conn.schema))])
    elif m := _DROP.match(command):
        conn = compat.connection(cursor)
        catalog, schema, name = resolve_name(m["name"], conn.database, conn.schema)
        pipe = find(catalog, schema, name)
        if pipe is None and not m["ie"]:
            raise not_found(f"{catalog}.{schema}.{name}")
        if pipe is not None:
            with _meta() as meta:
                _delete(meta, pipe)
            sql = _status_sql(f"{name} successfully dropped.")
        else:
            sql = _status_sql("Drop statement executed successfully (" + name + " already dropped).")
    elif m := _ALTER.match(command):
        _remember_root(cursor)
        sql = alter_sql(cursor, m)
    elif m := _STATUS.match(command):
        conn = compat.connection(cursor)
        pipe = lookup(m["arg"].replace("''", "'"), conn.database, conn.schema)
        alias = m["alias"]
        column = f"SYSTEM$PIPE_STATUS('{m['arg']}')"
        if alias:
            column = alias[1:-1] if alias.startswith('"') else alias.upper()
        value = json.dumps(status(pipe), separators=(",", ":"))
        sql = f'SELECT {literal(value)} AS "{column.replace(chr(34), chr(34) * 2)}"'
    if sql is None:
        return False
    compat.execute_parsed(cursor, sqlglot.parse_one(sql, read="duckdb"))
    return True


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

    with _meta() as meta:
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
