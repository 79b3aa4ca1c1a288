"""One statement of every form the pipeline sends, through the pipeline's own functions, each with its outcome.

Every check calls what the DAGs call (:mod:`snowseg.loading.small_file`, :mod:`~snowseg.loading.bulk`,
:mod:`~snowseg.loading.snowpipe`, :mod:`snowseg.writeback`) on a file of its own (:mod:`snowseg.smoke.samples`), as
the service connection, and then looks at the tables: rows loaded, rejected records kept, the LOAD_AUDIT row, the
current segments. Between them they send each statement form of ``include/sql/statement_catalogue.yaml``:

- small path: PUT into the intake table's stage, COPY ... MATCH_BY_COLUMN_NAME / INCLUDE_METADATA, INSERT into the
  raw table, REMOVE, LIST; a file COPY rejects under ABORT_STATEMENT: ROLLBACK, PUT into the shadow table's stage
  and COPY ... VALIDATION_MODE = RETURN_ALL_ERRORS;
- bulk path: one PUT of a glob of gzip chunks with PARALLEL, COPY with a transformation and FILES = (...),
  ON_ERROR = CONTINUE, VALIDATION_MODE on the bulk stage;
- Snowpipe: the pipe CREATE PIPE made (SHOW STAGES, DESC PIPE), SYSTEM$PIPE_STATUS, an S3 upload the pipe skips
  (SKIP_FILE), its load history (COPY_HISTORY), and the skipped file loaded again from the landing stage with
  ON_ERROR = CONTINUE and validated there, then ALTER PIPE ... REFRESH PREFIX on it (reconciliation's statement:
  nothing queued);
- writeback: PUT into the writeback stage, COPY into the staging table, then UPDATE + INSERTs in one transaction.

``VALIDATE(t, JOB_ID => ...)`` is not among them: the pipeline does not send it (it cannot read a COPY with a
transformation; :mod:`snowseg.loading.rejects` validates with VALIDATION_MODE instead).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.objects import BULK_STAGE, LANDING_STAGE, WRITEBACK_STAGE, dataset_objects
from snowseg.smoke.samples import Samples
from snowseg.warehouse import Names

SMOKE_ENTITIES = ("smoke-1", "smoke-2", "smoke-3")  # the writeback check's assignments (closed by segment_customers)


@dataclass
class Context:
    """What the checks share: the service connection, the names, the files, and the Snowpipe landing (if any)."""

    conn: Any
    names: Names
    contract: DatasetContract
    samples: Samples
    landing: Any = None  # snowseg.loading.snowpipe.Landing
    aws_conn_id: str | None = None
    poll_seconds: float = 2.0
    wait_seconds: float = 600.0
    pipe: Any = None  # snowseg.loading.snowpipe.Pipe, once found
    landed: Any = None  # snowseg.loading.snowpipe.Landed: the file the pipe skipped
    pipe_loads: dict | None = None  # its outcome in the pipe's load history
    model_run_id: str | None = None  # the writeback check's run

    @property
    def objects(self) -> Any:
        return dataset_objects(self.contract)

    @property
    def table(self) -> str:
        return self.names.raw_qualified(self.objects.table)


class Unexpected(AssertionError):
    """An outcome that is not what the pipeline promises: ``expected`` and ``found`` say what differs."""

    def __init__(self, what: str, expected: Any, found: Any):
        self.what, self.expected, self.found = what, expected, found
        super().__init__(f"{what}: expected {expected}, found {found}")


def expect(what: str, expected: Any, found: Any) -> None:
    """Raise :class:`Unexpected` unless `found` equals `expected`."""
    if found != expected:
        raise Unexpected(what, expected, found)


def _info(ctx: Context, name: str) -> Any:
    from snowseg.loading.checks import check_file

    return check_file(ctx.samples.files[name], ctx.contract, max_mb=float("inf"))


def batch_rows(cur: Any, ctx: Context, batch_id: str) -> int:
    """Rows of a batch in the raw table."""
    ((n,),) = wh.run(cur, "raw/count_batch_rows.sql", {"batch_id": batch_id}, database=ctx.names.database,
                     schema=ctx.names.raw, table=ctx.objects.table)
    return int(n)


def rejected_rows(cur: Any, ctx: Context, file_name: str, batch_id: str) -> int:
    """Rejected records of a file's batch in the rejected table."""
    ((n,),) = wh.run(cur, "monitor/count_rejected_rows.sql", {"file_name": file_name, "batch_id": batch_id},
                     database=ctx.names.database, schema=ctx.names.raw, rejected_table=ctx.objects.rejected)
    return int(n)


def audit_status(cur: Any, ctx: Context, batch_id: str) -> tuple:
    """(STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, AIRFLOW_RUN_ID) of a batch's latest LOAD_AUDIT row."""
    rows = wh.run(cur, "smoke/select_batch_audit.sql", {"batch_id": batch_id, "target_table": ctx.table},
                  database=ctx.names.database, schema=ctx.names.audit)
    if not rows:
        raise Unexpected(f"a LOAD_AUDIT row for batch {batch_id}", "one", "none")
    return tuple(rows[0])


def small_file_load(ctx: Context) -> str:
    """PUT into the intake table's stage, COPY by column name, rows into the raw table, staged file removed."""
    from snowseg.loading import small_file

    info = _info(ctx, "small")
    result = small_file.load_file(ctx.conn, info, ctx.contract, ctx.names)
    expect("load status", ("LOADED", info.rows), (result.status, result.rows_loaded))
    stage = wh.stage_path(ctx.names.database, ctx.names.raw, f"%{ctx.objects.intake}", info.sha256[:16])
    with ctx.conn.cursor() as cur:
        expect(f"rows of batch {result.batch_id}", info.rows, batch_rows(cur, ctx, result.batch_id))
        expect("LOAD_AUDIT", ("LOADED", info.rows, info.rows, 0), audit_status(cur, ctx, result.batch_id)[:4])
        expect(f"files left in {stage}", [], wh.run(cur, "readiness/list_stage.sql", stage_path=stage))
    return (f"PUT {stage}, COPY by column name (INCLUDE_METADATA), INSERT: {info.rows} of "
            f"{info.rows} rows in {ctx.objects.table}, LOAD_AUDIT LOADED, staged file removed")


def small_file_rejected(ctx: Context) -> str:
    """A malformed value under ON_ERROR = ABORT_STATEMENT: nothing loads, the validator's records are kept."""
    from snowseg.loading import small_file
    from snowseg.loading.common import LoadFailed, batch_id_for

    info = _info(ctx, "small_bad")
    batch_id = batch_id_for(info, small_file.LOAD_PATH)
    try:
        small_file.load_file(ctx.conn, info, ctx.contract, ctx.names, on_error="ABORT_STATEMENT")
    except LoadFailed as e:
        failure = e
    else:
        raise Unexpected("COPY with ABORT_STATEMENT of a malformed value", "LoadFailed", "a load")
    expect("failure on record", True, failure.audited)
    bad = ctx.samples.bad_rows["small_bad"]
    with ctx.conn.cursor() as cur:
        expect(f"rows of batch {batch_id}", 0, batch_rows(cur, ctx, batch_id))
        expect(f"records in {ctx.objects.rejected}", bad, rejected_rows(cur, ctx, info.name, batch_id))
        expect("LOAD_AUDIT", ("FAILED", info.rows, 0), audit_status(cur, ctx, batch_id)[:3])
    where = failure.error.describe() if failure.error else "no location"
    return (f"COPY aborted ({where}) and rolled back; VALIDATION_MODE through "
            f"@%{ctx.objects.shadow}: {bad} record in {ctx.objects.rejected}, LOAD_AUDIT FAILED")


def bulk_load(ctx: Context) -> str:
    """Gzip chunks PUT with one glob and PARALLEL, COPY FILES with ON_ERROR = CONTINUE, rejects validated."""
    from snowseg.loading import bulk
    from snowseg.loading.splitting import split_csv

    info = _info(ctx, "bulk_bad")
    bad = ctx.samples.bad_rows["bulk_bad"]
    with tempfile.TemporaryDirectory(prefix="snowseg-smoke-bulk-") as tmp:
        chunks = split_csv(info.path, tmp, target_bytes=1, rows_per_check=info.rows // 3 or 1,
                           delimiter=ctx.contract.csv.delimiter, quotechar=ctx.contract.csv.quote)
        result = bulk.load_chunks(ctx.conn, info, chunks, ctx.contract, ctx.names, parallel=4)
    expect("load", ("PARTIALLY_LOADED", info.rows - bad, bad),
           (result.status, result.rows_loaded, result.rows_rejected))
    with ctx.conn.cursor() as cur:
        expect(f"rows of batch {result.batch_id}", info.rows - bad, batch_rows(cur, ctx, result.batch_id))
        expect(f"records in {ctx.objects.rejected}", bad, rejected_rows(cur, ctx, info.name, result.batch_id))
    return (f"PUT of {len(chunks)} gzip chunks to @{BULK_STAGE} (PARALLEL = 4), COPY FILES "
            f"ON_ERROR = CONTINUE: {result.rows_loaded} rows loaded, {bad} rejected (VALIDATION_MODE on the "
            "stage), LOAD_AUDIT PARTIALLY_LOADED")


def pipe(ctx: Context) -> str:
    """The pipe the setup made (CREATE PIPE) is there on the landing stage, auto-ingest, and running."""
    from snowseg.loading import snowpipe

    with ctx.conn.cursor() as cur:
        ctx.pipe = snowpipe.find_pipe(cur, ctx.names, ctx.contract, ctx.landing)
        status = snowpipe.pipe_status(cur, ctx.pipe)
    expect("notification channel", True, bool(ctx.pipe.notification_channel))
    expect("SYSTEM$PIPE_STATUS executionState", "RUNNING", status.get("executionState"))
    return (f"{ctx.pipe.qualified} on @{LANDING_STAGE} ({ctx.landing.url}), auto-ingest on "
            f"{ctx.pipe.notification_channel}; SYSTEM$PIPE_STATUS: RUNNING, "
            f"{status.get('pendingFileCount', 0)} files pending")


def pipe_load(ctx: Context) -> str:
    """An S3 upload the pipe loads through its notification; a malformed value makes it skip the file (SKIP_FILE)."""
    from snowseg.loading import snowpipe

    if ctx.pipe is None:
        raise Unexpected("the pipe", "found by the pipe check", None)
    info = _info(ctx, "pipe_bad")
    hook = snowpipe.s3_hook(ctx.aws_conn_id or "aws_default")
    snowpipe.ensure_notification(hook.get_conn(), ctx.landing, ctx.pipe)
    landed = snowpipe.upload(hook, ctx.landing, info, ctx.contract)
    started = time.monotonic()
    load = _wait_for_pipe(ctx, landed.staged_path)
    took = time.monotonic() - started
    expect(f"pipe load of {landed.staged_path}", "LOAD_FAILED", load.status)
    ctx.landed, ctx.pipe_loads = landed, {landed.staged_path: load}
    return (f"s3://{ctx.landing.bucket}/{landed.key} loaded by the pipe after {took:.0f} s "
            f"(COPY_HISTORY): skipped under SKIP_FILE as expected ({load.first_error}, line "
            f"{load.first_error_line})")


def _wait_for_pipe(ctx: Context, path: str) -> Any:
    """Poll the pipe's load history until `path` has a finished load, as the DAG's sensor does."""
    from snowseg.loading import snowpipe

    deadline = time.monotonic() + ctx.wait_seconds
    while True:
        with ctx.conn.cursor() as cur:
            load = snowpipe.pipe_loads(cur, ctx.names, ctx.contract, ctx.pipe, [path]).get(path)
            if load is not None and load.status in snowpipe.DONE:
                return load
            if time.monotonic() > deadline:
                status = snowpipe.pipe_status(cur, ctx.pipe)
                raise Unexpected(f"a finished pipe load of {path} within {ctx.wait_seconds:.0f} s",
                                 "LOADED or LOAD_FAILED", f"{load.status if load else 'nothing'}; pipe status {status}")
        time.sleep(ctx.poll_seconds)


def pipe_reload(ctx: Context) -> str:
    """The skipped file's good rows loaded again from the landing stage (ON_ERROR = CONTINUE), its rejects kept."""
    from snowseg.loading import snowpipe

    landed, loads = ctx.landed, ctx.pipe_loads
    if landed is None or loads is None:
        raise Unexpected("the skipped file", "landed by the pipe load check", None)
    (result,) = snowpipe.account_files(ctx.conn, [landed], loads, ctx.contract, ctx.names)
    bad = ctx.samples.bad_rows["pipe_bad"]
    expect("reload", ("PARTIALLY_LOADED", landed.info.rows - bad, bad),
           (result.status, result.rows_loaded, result.rows_rejected))
    with ctx.conn.cursor() as cur:
        expect(f"rows of batch {result.batch_id}", landed.info.rows - bad, batch_rows(cur, ctx, result.batch_id))
        expect(f"records in {ctx.objects.rejected}", bad, rejected_rows(cur, ctx, landed.info.name, result.batch_id))
    return (f"COPY FILES ON_ERROR = CONTINUE from @{LANDING_STAGE}: {result.rows_loaded} "
            f"rows loaded, {bad} rejected (VALIDATION_MODE on the landing stage), LOAD_AUDIT PARTIALLY_LOADED")


def pipe_refresh(ctx: Context) -> str:
    """watch_loads' reconciliation statement on a file the pipe has seen: REFRESH PREFIX queues nothing loaded twice."""
    from snowseg.loading import reconcile

    if ctx.pipe is None or ctx.landed is None:
        raise Unexpected("the reloaded file", "landed by the pipe load check", None)
    with ctx.conn.cursor() as cur:
        sent = reconcile.refresh(cur, ctx.names, ctx.pipe, ctx.landed.staged_path)
    expect(f"files REFRESH PREFIX = '{ctx.landed.staged_path}' queued", [], sent)
    return (f"ALTER PIPE {ctx.pipe.qualified} REFRESH PREFIX = '{ctx.landed.staged_path}': nothing queued (the load "
            "metadata has the file), as reconciliation relies on")


def writeback(ctx: Context) -> str:
    """A model run published as segment_customers publishes one: PUT, COPY into staging, UPDATE + INSERT."""
    import numpy as np

    from snowseg import writeback as wb
    from snowseg.clustering.profiles import SegmentProfile

    now = datetime.now(UTC).replace(tzinfo=None)
    run = wb.ModelRun(
        fingerprint=wb.fingerprint(smoke=ctx.names.database, at=now.isoformat()), contract=ctx.contract.name,
        feature_set_version="smoke", features=[], k=2, k_reason="make test-snowflake: a writeback check",
        n_init=1, random_state=0, scores_by_k=[], snapshot={"row_count": 0, "max_loaded_at": None, "batches": ""},
        started_at=now, dag_id=None, run_id=None,
    )
    assignments = wb.Assignments(entity_ids=list(SMOKE_ENTITIES), labels=np.array([0, 1, 1]),
                                 confidence=np.array([1.0, 1.0, 0.5]), distance=np.array([0.0, 0.5, np.nan]))
    profiles = [SegmentProfile(0, "Smoke one", 1, 1 / 3, None), SegmentProfile(1, "Smoke two", 2, 2 / 3, None)]
    model_run_id, published = wb.publish(ctx.conn, ctx.names, run, assignments, profiles)
    expect("published", True, published)
    ctx.model_run_id = model_run_id
    with ctx.conn.cursor() as cur:
        expect("current segments by model run", {model_run_id: len(SMOKE_ENTITIES)}, current_segments(cur, ctx.names))
    return (f"PUT to @{WRITEBACK_STAGE}, COPY into the staging table, then UPDATE + INSERT "
            f"in one transaction: model run {model_run_id} with {len(SMOKE_ENTITIES)} current assignments")


def current_segments(cur: Any, names: Names) -> dict[str, int]:
    """Current assignments (CURRENT_SEGMENTS) per model run."""
    rows = wh.run(cur, "smoke/count_current_segments.sql", database=names.database, schema=names.analytics)
    return {str(run): int(n) for run, n in rows}


#: The checks in order: name, function (returns what it found; raises if the outcome is not the promised one), and
#: whether it needs Snowpipe.
CHECKS: tuple[tuple[str, Callable[[Context], str], bool], ...] = (
    ("small file", small_file_load, False),
    ("small file rejected", small_file_rejected, False),
    ("bulk load", bulk_load, False),
    ("pipe", pipe, True),
    ("pipe load", pipe_load, True),
    ("pipe reload", pipe_reload, True),
    ("pipe refresh", pipe_refresh, True),
    ("writeback", writeback, False),
)
