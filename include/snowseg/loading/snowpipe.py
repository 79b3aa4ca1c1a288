"""S3 + Snowpipe load: land files in S3, let the pipe load them, then account for every file.

1. Each local file is checked (:mod:`snowseg.loading.checks`) and uploaded with the Amazon provider's
   S3Hook (boto3's managed transfer: multipart above 8 MB, standard-mode retries) to
   ``s3://<bucket>/<prefix>/snowpipe_<content hash>/<name>``. The key is content-addressed, so a
   re-sent file lands on the same key and Snowpipe's 14-day load metadata skips it, while a changed
   file under the same name is a new batch.
2. The external stage ``RAW.SNOWSEG_LANDING`` (URL = the landing prefix, through a storage
   integration) and the pipe ``RAW.<TABLE>_PIPE`` (``AUTO_INGEST = TRUE``, ``ON_ERROR = SKIP_FILE``,
   Snowpipe's default) come from the versioned setup (:mod:`snowseg.migrations`, ``--snowpipe``);
   :func:`find_pipe` checks that they are there, on this landing URL, and that the pipe can load (not
   stopped: :mod:`snowseg.loading.pipe_states`) before any file is uploaded. The pipe's COPY keeps the
   ``METADATA$`` lineage and takes the batch id from the file's folder.
3. The pipe learns about the files in one of two ways:
   - ``auto``: the bucket's event notification sends ``s3:ObjectCreated:*`` under the prefix to the
     pipe's ``notification_channel`` (an SQS queue); :func:`ensure_notification` merges that into the
     bucket's configuration;
   - ``rest``: :func:`insert_files` calls Snowpipe's ``insertFiles`` through the ``snowflake-ingest``
     SDK, signed with the Snowflake connection's key pair.
4. :func:`pipe_loads` reads the pipe's load history (``COPY_HISTORY``); a deferrable sensor waits on it.
5. :func:`account_files` writes one LOAD_AUDIT row per file. A file the pipe skipped (``LOAD_FAILED``
   under SKIP_FILE) is loaded again with ``COPY ... ON_ERROR = CONTINUE`` from the same stage: the
   table's load metadata is separate from the pipe's, so this is its only load. Its good rows land
   and its rejected records go to ``SALES_REJECTED`` (:mod:`snowseg.loading.rejects`), in the same
   transaction as its audit row: ``rows_parsed = rows_loaded + rows_rejected`` for every file.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from snowseg import migrations, settings
from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.errors import ConfigurationError, InputError
from snowseg.loading import audit, pipe_states, ragged
from snowseg.loading.checks import FileInfo
from snowseg.loading.common import LoadFailed, LoadResult, batch_id_for, copy_into_raw_args, per_file_results
from snowseg.loading.rejects import store_rejected, validate_files
from snowseg.objects import LANDING_STAGE, LOAD_PATH_SNOWPIPE, dataset_objects
from snowseg.warehouse import Names, quote_ident, quote_literal

log = logging.getLogger(__name__)

LOAD_PATH = LOAD_PATH_SNOWPIPE
NOTIFY_MODES = ("auto", "rest")
MAX_INSERT_FILES = 5000  # Snowpipe REST's limit per insertFiles call
# Snowpipe's COPY_HISTORY statuses, as the table function spells them -> ours
_STATUS = {"LOADED": "LOADED", "LOAD FAILED": "LOAD_FAILED", "LOAD_FAILED": "LOAD_FAILED",
           "PARTIALLY LOADED": "PARTIALLY_LOADED", "PARTIALLY_LOADED": "PARTIALLY_LOADED",
           "LOAD SKIPPED": "LOAD_SKIPPED", "LOAD_SKIPPED": "LOAD_SKIPPED"}
DONE = ("LOADED", "LOAD_FAILED", "PARTIALLY_LOADED")


@dataclass(frozen=True)
class Landing:
    """Where files land in S3 and how Snowflake reads them.

    Examples
    --------
    >>> lz = Landing.from_env("s3://my-bucket/sales/in/", "S3_INT")
    >>> lz.bucket, lz.prefix
    ('my-bucket', 'sales/in/')
    >>> Landing.from_env("s3://b/no-slash", "I")
    Traceback (most recent call last):
    ...
    snowseg.errors.InputError: landing URL 's3://b/no-slash' must look like s3://<bucket>/<prefix>/ (ending with '/')
    """

    url: str
    storage_integration: str

    @classmethod
    def from_env(cls, url: str | None = None, storage_integration: str | None = None) -> Landing:
        """Argument, then env ``SNOWSEG_LANDING_URL`` / ``SNOWSEG_STORAGE_INTEGRATION``, then the defaults."""
        url = url or settings.value("SNOWSEG_LANDING_URL")
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/([A-Za-z0-9!_.*'()\-]+/)*", url):
            raise InputError(f"landing URL {url!r} must look like s3://<bucket>/<prefix>/ (ending with '/')")
        integration = storage_integration or settings.value("SNOWSEG_STORAGE_INTEGRATION")
        return cls(url=url, storage_integration=quote_ident(integration))

    @property
    def bucket(self) -> str:
        return self.url.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        return self.url.removeprefix("s3://").split("/", 1)[1]


@dataclass(frozen=True)
class Pipe:
    """A pipe and the SQS queue its auto-ingest listens on."""

    database: str
    schema: str
    name: str
    notification_channel: str | None

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.schema}.{self.name}"


@dataclass(frozen=True)
class Landed:
    """One uploaded file: its checks, its S3 key and its path relative to the landing stage."""

    info: FileInfo
    key: str
    staged_path: str

    def to_dict(self) -> dict:
        return {"info": asdict(self.info), "key": self.key, "staged_path": self.staged_path}

    @classmethod
    def from_dict(cls, d: dict) -> Landed:
        return cls(info=FileInfo(**d["info"]), key=d["key"], staged_path=d["staged_path"])


@dataclass(frozen=True)
class PipeLoad:
    """One file's outcome in the pipe's load history."""

    staged_path: str
    status: str
    rows_parsed: int
    rows_loaded: int
    errors: int
    first_error: str | None
    first_error_line: int | None
    first_error_character: int | None
    first_error_column: str | None
    last_load_time: str | None


def staged_path(info: FileInfo) -> str:
    """A file's path under the landing stage: ``snowpipe_<sha16>/<name>``.

    Examples
    --------
    >>> staged_path(FileInfo(path="/x/a.csv", name="a.csv", bytes=1, sha256="ab" * 32, rows=1, has_bom=False))
    'snowpipe_abababababababab/a.csv'
    """
    return f"{batch_id_for(info, LOAD_PATH)}/{info.name}"


class LandingMoved(ConfigurationError):
    """The landing stage reads another URL than the one the files go to: the pipe would never see them."""

    def __init__(self, stage: str, stage_urls: list[str], landing_url: str, pipe: str):
        self.stage, self.stage_urls, self.landing_url, self.pipe = stage, stage_urls, landing_url, pipe
        self.command = ("make setup-warehouse CONN=<admin connection> with SNOWSEG_LANDING_URL set to the new URL, "
                        "after an admin dropped the stage and the pipe")
        super().__init__(
            f"stage {stage} points at {stage_urls} but the landing URL is {landing_url!r}: the pipe would never see "
            f"the files. Use the stage's URL (SNOWSEG_LANDING_URL or the landing_url param), or move the stage and "
            f"the pipe ({pipe}): an admin drops both, then runs {self.command.split(' with ')[0]} for the new URL")


def find_pipe(cur: Any, names: Names, contract: DatasetContract, landing: Landing) -> Pipe:
    """The dataset's pipe and its notification channel, after checking that the setup made the landing stage
    and the pipe, that the stage reads `landing`'s URL, and that the pipe is in a state where it loads.

    Raises
    ------
    WarehouseNotSetUp
        The Snowpipe objects were not set up (``make setup-warehouse ... --snowpipe``).
    LandingMoved
        The stage reads another URL.
    PipeNotRunning
        The pipe loads nothing in its state (eg: STOPPED_FILE_FORMAT_DROPPED): uploading would only strand files.
    """
    migrations.require(cur, names, contract, snowpipe=True)
    table, pipe = quote_ident(contract.table), dataset_objects(contract).pipe
    stages = wh.run(cur, "snowpipe/show_stage_landing.sql", database=names.database, schema=names.raw,
                    stage_pattern=quote_literal(LANDING_STAGE))
    cols = [d[0].lower() for d in cur.description]
    urls = {dict(zip(cols, r, strict=True)).get("url") for r in stages}
    if urls and landing.url not in urls:
        raise LandingMoved(names.raw_qualified(LANDING_STAGE), sorted(map(str, urls)), landing.url,
                           pipe)
    rows = wh.run(cur, "snowpipe/describe_pipe.sql", database=names.database, schema=names.raw, pipe=pipe)
    cols = [d[0].lower() for d in cur.description]
    described = dict(zip(cols, rows[0], strict=True)) if rows else {}
    found = Pipe(names.database, names.raw, pipe, described.get("notification_channel"))
    status = pipe_status(cur, found)
    pipe_states.require_waitable(found.qualified, status)
    log.info("pipe %s on %s (table %s): %s", found.qualified, landing.url, table, status)
    return found


def ensure_notification(s3_client: Any, landing: Landing, pipe: Pipe) -> bool:
    """Point the bucket's ``s3:ObjectCreated:*`` events under the landing prefix at the pipe's queue.

    Other notification configurations of the bucket are kept. Returns True if the configuration
    was changed, False if it was already in place.

    Raises
    ------
    ConfigurationError
        If the pipe has no notification channel (it is not an auto-ingest pipe).
    """
    if not pipe.notification_channel:
        raise ConfigurationError(f"pipe {pipe.qualified} has no notification_channel: is it AUTO_INGEST = TRUE?")
    current = s3_client.get_bucket_notification_configuration(Bucket=landing.bucket)
    current.pop("ResponseMetadata", None)
    queues = current.get("QueueConfigurations", [])

    def prefix_of(q: dict) -> str:
        rules = q.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        return next((r["Value"] for r in rules if r["Name"].lower() == "prefix"), "")

    if any(q["QueueArn"] == pipe.notification_channel and prefix_of(q) == landing.prefix for q in queues):
        return False
    wanted = {
        "Id": notification_id(pipe), "QueueArn": pipe.notification_channel,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": landing.prefix}]}},
    }
    # S3 refuses two configurations for the same events and prefix: ours replaces any other on this prefix
    current["QueueConfigurations"] = [q for q in queues
                                      if prefix_of(q) != landing.prefix and q.get("Id") != wanted["Id"]]
    current["QueueConfigurations"].append(wanted)
    s3_client.put_bucket_notification_configuration(Bucket=landing.bucket, NotificationConfiguration=current)
    log.info("bucket %s: ObjectCreated events under %r now go to %s", landing.bucket, landing.prefix,
             pipe.notification_channel)
    return True


def notification_id(pipe: Pipe) -> str:
    """The Id of the bucket notification configuration :func:`ensure_notification` writes for a pipe.

    Examples
    --------
    >>> notification_id(Pipe("SNOWSEG", "RAW", "SALES_RAW_PIPE", None))
    'snowseg-snowseg.raw.sales_raw_pipe'
    """
    return f"snowseg-{pipe.qualified}".lower()


def remove_notification(s3_client: Any, landing: Landing, pipe: Pipe) -> bool:
    """Take the pipe's configuration (:func:`notification_id`) out of the bucket's notifications, keeping the others
    (for a pipe that is dropped, eg: ``make test-snowflake``'s). Returns True if the configuration was changed."""
    current = s3_client.get_bucket_notification_configuration(Bucket=landing.bucket)
    current.pop("ResponseMetadata", None)
    queues = current.get("QueueConfigurations", [])
    kept = [q for q in queues if q.get("Id") != notification_id(pipe)]
    if len(kept) == len(queues):
        return False
    current["QueueConfigurations"] = kept
    s3_client.put_bucket_notification_configuration(Bucket=landing.bucket, NotificationConfiguration=current)
    log.info("bucket %s: the notification for pipe %s is removed", landing.bucket, pipe.qualified)
    return True


def s3_hook(aws_conn_id: str = "aws_default") -> Any:
    """The Amazon provider's S3Hook for uploads: boto3's managed transfer (multipart above 8 MB, parallel
    parts) and, unless the connection's ``config_kwargs`` say otherwise, standard-mode retries (5 attempts)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.config import Config

    hook = S3Hook(aws_conn_id=aws_conn_id)
    if hook.conn_config.botocore_config is None:  # override order: connection extra first, then our default
        hook = S3Hook(aws_conn_id=aws_conn_id, config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    return hook


def upload(s3_hook: Any, landing: Landing, info: FileInfo, contract: DatasetContract) -> Landed:
    """Upload one checked file to its content-addressed key (replacing an identical earlier upload).

    A file with ragged records is uploaded without them (the pipe's COPY would pad or cut them);
    :func:`account_files` rejects them."""
    import tempfile

    path = staged_path(info)
    key = landing.prefix + path
    from snowseg.inputs import local_input

    # an s3:// input is uploaded from a fresh local copy (its content hash checked); the audit names its URL
    with local_input(info) as local, tempfile.TemporaryDirectory(prefix="snowseg-landing-") as tmp:
        source = ragged.write_without(local, contract, tmp) if info.ragged else local.path
        s3_hook.load_file(filename=str(source), key=key, bucket_name=landing.bucket, replace=True)
    log.info("uploaded %s (%d bytes%s) to s3://%s/%s", info.path, info.bytes,
             f", without {len(info.ragged)} ragged records" if info.ragged else "", landing.bucket, key)
    return Landed(info=info, key=key, staged_path=path)


def ingest_manager(snowflake_hook: Any, pipe: Pipe) -> Any:
    """A ``snowflake.ingest.SimpleIngestManager`` for `pipe`, from the Snowflake connection.

    Snowpipe REST only accepts key-pair auth: the connection must have ``private_key_file`` or
    ``private_key_content`` (with its passphrase as the password), as the SnowflakeHook reads them.
    Account and user come from the connection; ``host`` / ``port`` / ``protocol`` extras, if set,
    override Snowflake's ``<account>.snowflakecomputing.com:443`` over https.
    """
    from cryptography.hazmat.primitives import serialization
    from snowflake.ingest import SimpleIngestManager

    conn = snowflake_hook.get_connection(snowflake_hook.get_conn_id())
    extra = conn.extra_dejson
    key = snowflake_hook.get_private_key()
    if key is None:
        raise ConfigurationError(
            f"connection {snowflake_hook.get_conn_id()!r} has no private key: Snowpipe REST needs key-pair auth "
            "(set extra private_key_file or private_key_content, and the key's passphrase as the password)"
        )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    account = extra.get("account") or conn.host
    kwargs: dict[str, Any] = {"account": account, "user": conn.login, "pipe": pipe.qualified, "private_key": pem}
    if extra.get("host"):
        kwargs["host"] = extra["host"]
    if extra.get("port"):
        kwargs["port"] = int(extra["port"])
    if extra.get("protocol"):
        kwargs["scheme"] = extra["protocol"]
    return SimpleIngestManager(**kwargs)


def insert_files(manager: Any, files: list[Landed]) -> list[dict]:
    """Tell the pipe about the files through Snowpipe REST ``insertFiles`` (at most 5,000 per call)."""
    from snowflake.ingest import StagedFile

    responses = []
    for i in range(0, len(files), MAX_INSERT_FILES):
        batch = files[i : i + MAX_INSERT_FILES]
        resp = manager.ingest_files([StagedFile(f.staged_path, f.info.bytes) for f in batch])
        if resp.get("responseCode") != "SUCCESS":
            raise RuntimeError(f"insertFiles for {len(batch)} files answered {resp!r}")
        log.info("insertFiles: %d files queued on the pipe (request %s)", len(batch), resp.get("requestId"))
        responses.append(resp)
    return responses


def pipe_status(cur: Any, pipe: Pipe) -> dict:
    """``SYSTEM$PIPE_STATUS`` as a dict."""
    ((raw,),) = wh.run(cur, "snowpipe/select_pipe_status.sql", {"pipe": pipe.qualified})
    return json.loads(raw) if isinstance(raw, str) else dict(raw or {})


def pipe_loads(cur: Any, names: Names, contract: DatasetContract, pipe: Pipe, paths: list[str]) -> dict[str, PipeLoad]:
    """The latest outcome of each of `paths` (relative to the landing stage) in the pipe's load history."""
    rows = wh.run(
        cur, "snowpipe/select_pipe_load_history.sql",
        {"table_name": names.raw_qualified(contract.table), "pipe_database": pipe.database,
         "pipe_schema": pipe.schema, "pipe_name": pipe.name},
        database=names.database,
    )
    cols = [d[0].upper() for d in cur.description]
    wanted = set(paths)
    found: dict[str, PipeLoad] = {}
    for row in rows:
        r = dict(zip(cols, row, strict=True))
        path = _match(str(r["FILE_NAME"]), wanted)
        if path is None:
            continue
        load = PipeLoad(
            staged_path=path, status=_STATUS.get(str(r["STATUS"]).upper(), str(r["STATUS"]).upper()),
            rows_parsed=int(r["ROW_PARSED"] or 0), rows_loaded=int(r["ROW_COUNT"] or 0),
            errors=int(r["ERROR_COUNT"] or 0), first_error=r["FIRST_ERROR_MESSAGE"],
            first_error_line=r["FIRST_ERROR_LINE_NUMBER"], first_error_character=r["FIRST_ERROR_CHARACTER_POS"],
            first_error_column=audit.column_name(r["FIRST_ERROR_COLUMN_NAME"]),
            last_load_time=str(r["LAST_LOAD_TIME"]) if r["LAST_LOAD_TIME"] is not None else None,
        )
        if path not in found or (load.last_load_time or "") >= (found[path].last_load_time or ""):
            found[path] = load
    return found


def _match(file_name: str, wanted: set[str]) -> str | None:
    """Which wanted staged path COPY_HISTORY's FILE_NAME is (it may carry the stage URL's path in front)."""
    if file_name in wanted:
        return file_name
    return next((w for w in wanted if file_name.endswith("/" + w)), None)


def account_files(
    conn: Any, files: list[Landed], loads: dict[str, dict | PipeLoad], contract: DatasetContract, names: Names,
    *, dag_id: str | None = None, run_id: str | None = None,
) -> list[LoadResult]:
    """One LOAD_AUDIT row per file from the pipe's outcome; skipped files are loaded with ON_ERROR = CONTINUE.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
    files : list of Landed
        What was uploaded (with each file's local checks: its row count is what must add up).
    loads : dict
        :func:`pipe_loads`' result (PipeLoad or its dict form, e.g. from XCom), by staged path.

    Returns
    -------
    list of LoadResult
        ``LOADED``, ``PARTIALLY_LOADED`` (a skipped file whose good rows were loaded afterwards) or
        ``SKIPPED`` (already accounted for by an earlier run).

    Raises
    ------
    LoadFailed
        A file without a finished pipe load, or counts that do not add up (nothing is audited for it).
    """
    table = quote_ident(contract.table)
    target = names.raw_qualified(table)
    stage = wh.stage_path(names.database, names.raw, LANDING_STAGE)
    results = []
    with conn.cursor() as cur:
        for f in files:
            load = loads.get(f.staged_path)
            if isinstance(load, dict):
                load = PipeLoad(**load)
            if load is None or load.status not in DONE:
                raise LoadFailed(f"{f.info.path}: the pipe has no finished load of {f.staged_path} ({load})",
                                 file=f.info.path)
            batch_id = batch_id_for(f.info, LOAD_PATH)
            wh.tag_session(cur, batch=batch_id)  # this file's audit queries (and their cost) name its batch
            if earlier := audit.find_loaded(cur, names, f.info.sha256, target):
                results.append(LoadResult("SKIPPED", earlier[0], f.info.name, f.info.rows, 0, 0,
                                          f"{f.info.name}: already accounted for as batch {earlier[0]}"))
                continue
            if load.status == "LOADED":
                results.append(_audit_loaded(cur, f, load, contract, names, target, batch_id, stage, dag_id, run_id))
            elif load.status == "LOAD_FAILED":
                results.append(_reload_skipped(cur, f, load, contract, names, target, batch_id, stage, dag_id, run_id))
            else:
                raise LoadFailed(
                    f"{f.info.path}: the pipe PARTIALLY_LOADED {f.staged_path}; its rejected rows cannot be read "
                    "back from a pipe load. Keep the pipe's ON_ERROR = SKIP_FILE (include/sql/snowpipe/).",
                    file=f.info.path, batch_id=batch_id,
                )
    for r in results:
        log.info(r.message)
    return results


def _record(f: Landed, status: str, loaded: int, rejected: int, target: str, batch_id: str, stage: str,
            err: Any, dag_id: str | None, run_id: str | None, started: datetime) -> audit.AuditRecord:
    return audit.AuditRecord(
        batch_id=batch_id, file_name=f.info.name, load_path=LOAD_PATH, target_table=target, status=status,
        rows_parsed=f.info.rows, rows_loaded=loaded, rows_rejected=rejected, started_at=started,
        finished_at=datetime.now(UTC).replace(tzinfo=None), file_path=f.info.path,
        stage_path=f"{stage}/{f.staged_path}", bytes=f.info.bytes, checksum=f.info.sha256, dag_id=dag_id,
        run_id=run_id, first_error=err.error if err else None, first_error_line=err.line if err else None,
        first_error_character=err.character if err else None, first_error_column=err.column_name if err else None,
    )


def _audit_loaded(cur: Any, f: Landed, load: PipeLoad, contract: DatasetContract, names: Names, target: str,
                  batch_id: str, stage: str, dag_id: str | None, run_id: str | None) -> LoadResult:
    """Audit a file the pipe loaded whole (with its ragged records, kept out of the upload, as rejected)."""
    started = datetime.now(UTC).replace(tzinfo=None)
    if load.rows_loaded != f.info.rows_to_load:
        raise LoadFailed(
            f"{f.info.path}: {f.info.rows_to_load} rows to load parsed locally but the pipe loaded {load.rows_loaded} "
            f"({f.staged_path}); not auditing a load that does not add up", file=f.info.path, batch_id=batch_id,
        )
    rejected = ragged.rejected_records(f.info, contract)
    status = "PARTIALLY_LOADED" if rejected else "LOADED"
    with wh.transaction(cur):
        if rejected:
            store_rejected(cur, names, contract, batch_id=batch_id, load_path=LOAD_PATH, file_name=f.info.name,
                           rejected=rejected)
        audit.record(cur, names, _record(f, status, load.rows_loaded, len(rejected), target, batch_id, stage,
                                         rejected[0] if rejected else None, dag_id, run_id, started))
    msg = (f"{f.info.name}: {status} {load.rows_loaded} of {f.info.rows} rows into {target} by the pipe "
           f"(batch {batch_id})")
    if rejected:
        msg += (f"; {len(rejected)} ragged records rejected, in {names.raw}.{dataset_objects(contract).rejected} "
                f"(first at line {rejected[0].line})")
    return LoadResult(status, batch_id, f.info.name, f.info.rows, load.rows_loaded, len(rejected), msg)


def _reload_skipped(cur: Any, f: Landed, load: PipeLoad, contract: DatasetContract, names: Names, target: str,
                    batch_id: str, stage: str, dag_id: str | None, run_id: str | None) -> LoadResult:
    """Load a file the pipe skipped with ON_ERROR = CONTINUE, keep its rejected rows, audit it: one transaction."""
    started = datetime.now(UTC).replace(tzinfo=None)
    log.warning("the pipe skipped %s (ON_ERROR = SKIP_FILE): %s at line %s, column %s; loading its good rows",
                f.staged_path, load.first_error, load.first_error_line, load.first_error_column)
    args = copy_into_raw_args(contract, names, stage, load_path=LOAD_PATH, batch_id=batch_id, on_error="CONTINUE",
                              file_selection=f"files = ({quote_literal(f.staged_path)})")
    with wh.transaction(cur) as tx:
        out = wh.run(cur, "loading/copy_into_raw.sql", None, **args)
        rows = per_file_results(out)
        if not rows or rows[0][1] == "LOAD_SKIPPED":  # Snowflake leaves a file loaded before out of the result
            tx.rollback()
            return LoadResult("SKIPPED", batch_id, f.info.name, f.info.rows, 0, 0,
                              f"{f.info.name}: the table's load metadata has {f.staged_path} loaded already")
        loaded = int(rows[0][3] or 0)
        # lines of the uploaded file (without the ragged records) located in the file as given
        rejected = [replace(r, line=ragged.source_line(f.info, r.line))
                    for r in validate_files(cur, names, contract, [f.staged_path], stage_path=stage)]
        rejected += ragged.rejected_records(f.info, contract)
        store_rejected(cur, names, contract, batch_id=batch_id, load_path=LOAD_PATH, file_name=f.info.name,
                       rejected=rejected)
        if loaded + len(rejected) != f.info.rows:
            raise LoadFailed(
                f"{f.info.path}: {f.info.rows} rows parsed but {loaded} loaded + {len(rejected)} rejected; "
                "refusing to commit a load that does not add up", file=f.info.path, batch_id=batch_id,
            )
        status = "PARTIALLY_LOADED" if loaded else "FAILED"
        first = min(rejected, key=lambda r: r.line or 0, default=None)
        audit.record(cur, names, _record(f, status, loaded, len(rejected), target, batch_id, stage, first, dag_id,
                                         run_id, started))
    return LoadResult(
        status, batch_id, f.info.name, f.info.rows, loaded, len(rejected),
        f"{f.info.name}: the pipe skipped the file ({load.first_error}, line {load.first_error_line}); "
        f"{status} {loaded} of {f.info.rows} rows into {target} with ON_ERROR = CONTINUE (batch {batch_id}); "
        f"{len(rejected)} rejected rows in {names.raw}.{dataset_objects(contract).rejected}",
    )


def new_files(cur: Any, names: Names, contract: DatasetContract,
              infos: list[FileInfo]) -> tuple[list[FileInfo], list[str]]:
    """The files whose content is not yet in LOAD_AUDIT for the raw table, and messages for the others."""
    target = names.raw_qualified(contract.table)
    todo, skipped = [], []
    for info in infos:
        if earlier := audit.find_loaded(cur, names, info.sha256, target):
            skipped.append(f"{info.name}: this content was already loaded into {target} as batch {earlier[0]} "
                           f"({earlier[1]} rows at {earlier[2]}); nothing to do")
        else:
            todo.append(info)
    return todo, skipped
