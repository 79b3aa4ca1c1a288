"""The web-UI style small-file load: PUT into the table stage, COPY INTO, remove the staged file.

Re-running never duplicates rows, at two levels:

1. LOAD_AUDIT remembers each file's content hash; a file whose content was already loaded into the
   table is reported as ``SKIPPED`` without touching the stage.
2. The staged path is ``@%TABLE/<content hash>/<file name>``, so even without the audit row
   Snowflake's own COPY load metadata (64 days) answers ``LOAD_SKIPPED`` for a re-sent file.

The COPY and its LOAD_AUDIT row are committed in one transaction: the table never holds rows that
the audit does not account for. A failed COPY (``ON_ERROR = ABORT_STATEMENT``, the default) loads
nothing and is audited as ``FAILED`` with the file, line, character and column of the first error.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from snowseg import migrations
from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.loading import audit
from snowseg.loading.checks import FileInfo
from snowseg.loading.common import (
    LoadFailed,
    LoadResult,
    already_loaded,
    batch_id_for,
    copy_into_raw_args,
    fill,
    put_file_url,
    summarise_copy,
)
from snowseg.loading.rejects import store_rejected, validate_files
from snowseg.warehouse import Names, quote_ident

log = logging.getLogger(__name__)

LOAD_PATH = "small_file"
ON_ERROR_CHOICES = ("ABORT_STATEMENT", "CONTINUE", "SKIP_FILE")


def load_file(
    conn: Any,
    info: FileInfo,
    contract: DatasetContract,
    names: Names,
    *,
    on_error: str = "ABORT_STATEMENT",
    dag_id: str | None = None,
    run_id: str | None = None,
) -> LoadResult:
    """Load one checked file into the contract's raw table through its table stage.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
    info : FileInfo
        From :func:`snowseg.loading.checks.check_file`.
    contract : DatasetContract
    names : Names
    on_error : {'ABORT_STATEMENT', 'CONTINUE', 'SKIP_FILE'}
        COPY's ON_ERROR. The web UI's default, and ours, is ABORT_STATEMENT.
    dag_id, run_id : str, optional
        Recorded in LOAD_AUDIT.

    Returns
    -------
    LoadResult

    Raises
    ------
    LoadFailed
        If COPY rejected the file (after the failure was written to LOAD_AUDIT).
    """
    on_error = on_error.upper()
    if on_error not in ON_ERROR_CHOICES:
        raise ValueError(f"on_error {on_error!r} is not allowed for the small-file load; use one of {ON_ERROR_CHOICES}")
    table = quote_ident(contract.table)
    target = f"{names.database}.{names.raw}.{table}"
    batch_id = batch_id_for(info, LOAD_PATH)
    started = datetime.now(UTC).replace(tzinfo=None)

    with conn.cursor() as cur:
        migrations.require(cur, names, contract)
        if skipped := already_loaded(cur, names, info, target):
            return skipped

        stage = wh.stage_path(names.database, names.raw, f"%{table}", info.sha256[:16])
        put = wh.run(
            cur, "loading/put_file.sql", file_url=put_file_url(info.path),
            stage_path=stage, parallel="4",
        )
        staged = str(put[0][1])  # PUT's target: the staged name (".gz" added by AUTO_COMPRESS)
        log.info("staged %s at %s", info.path, stage)

        rec = audit.AuditRecord(
            batch_id=batch_id, file_name=info.name, load_path=LOAD_PATH, target_table=target, status="",
            rows_parsed=0, rows_loaded=0, rows_rejected=0, started_at=started, finished_at=started,
            file_path=info.path, stage_path=stage, bytes=info.bytes, checksum=info.sha256, dag_id=dag_id,
            run_id=run_id,
        )
        cur.execute("begin")
        try:
            results = wh.run(cur, "loading/copy_into_raw.sql", **copy_into_raw_args(
                contract, names, stage, load_path=LOAD_PATH, batch_id=batch_id, on_error=on_error,
            ))
        except Exception as e:  # the connector raises ProgrammingError; keep its text
            cur.execute("rollback")
            err = audit.parse_copy_error(getattr(e, "msg", None) or str(e))
            fill(rec, "FAILED", parsed=info.rows, loaded=0, err=err)
            if not audit.find_outcome(cur, names, info.sha256, target, LOAD_PATH, "FAILED"):  # once per content
                cur.execute("begin")
                _keep_rejected(cur, info, contract, names, stage, staged, batch_id)  # every error, not only the first
                audit.record(cur, names, rec)
                cur.execute("commit")
            raise LoadFailed(
                f"{info.path}: COPY INTO {target} failed, nothing was loaded ({err.describe()}). "
                f"Recorded in {names.database}.{names.audit}.LOAD_AUDIT as batch {batch_id}.",
                file=info.path, batch_id=batch_id, error=err, audited=True,
            ) from e

        try:
            status, loaded, err = summarise_copy(results)
        except LoadFailed:
            cur.execute("rollback")
            raise
        if status == "SKIPPED":
            # COPY load metadata knows this staged path: an earlier attempt loaded it; nothing new parsed
            (held,) = wh.run(
                cur, "raw/count_batch_rows.sql", {"batch_id": batch_id}, database=names.database,
                schema=names.raw, table=table,
            )[0]
            cur.execute("rollback")
            msg = (f"{info.name}: skipped: COPY's load metadata has this staged file as loaded before; batch {batch_id} "
                   f"holds {held} rows")
            log.info(msg)
            return LoadResult("SKIPPED", batch_id, info.name, info.rows, 0, 0, msg)
        fill(rec, status, parsed=info.rows, loaded=loaded, err=err)
        if status == "FAILED" and audit.find_outcome(cur, names, info.sha256, target, LOAD_PATH, "FAILED"):
            cur.execute("rollback")  # this content's failure is on record already (with its rejected rows)
            raise LoadFailed(f"{info.path}: COPY skipped the whole file again ({err.describe() if err else ''}); "
                             f"already recorded in {names.database}.{names.audit}.LOAD_AUDIT.", file=info.path,
                             batch_id=batch_id, error=err, audited=True)
        if err:  # CONTINUE / SKIP_FILE: keep each rejected record with its line, column and error
            _keep_rejected(cur, info, contract, names, stage, staged, batch_id)
        audit.record(cur, names, rec)
        cur.execute("commit")

        if status in {"LOADED", "PARTIALLY_LOADED"}:
            # the web UI removes the staged file once it is loaded; load metadata still remembers it
            wh.run(cur, "loading/remove_staged_files.sql", stage_path=stage)
        msg = f"{info.name}: {status} {loaded} of {info.rows} rows into {target} (batch {batch_id})"
        if err:
            msg += f"; first error: {err.describe()}"
        if status == "FAILED":  # ON_ERROR = SKIP_FILE skipped the whole file
            raise LoadFailed(f"{info.path}: {msg}. Recorded in {names.database}.{names.audit}.LOAD_AUDIT.",
                             file=info.path, batch_id=batch_id, error=err, audited=True)
        log.info(msg)
        return LoadResult(status, batch_id, info.name, info.rows, loaded, info.rows - loaded, msg)


def _keep_rejected(cur: Any, info: FileInfo, contract: DatasetContract, names: Names, stage: str, staged: str,
                   batch_id: str) -> int:
    """Store every record Snowflake's validator rejects in the staged file; returns how many."""
    rejected = validate_files(cur, names, contract, [staged], stage_path=stage)
    store_rejected(cur, names, contract, batch_id=batch_id, load_path=LOAD_PATH, file_name=info.name,
                   rejected=rejected)
    return len(rejected)
