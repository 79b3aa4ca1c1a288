"""The web-UI style small-file load: PUT into a table stage, COPY INTO in the standard form, remove the file.

Snowflake's rules shape it (https://docs.snowflake.com/en/user-guide/data-load-local-file-system-create-stage):
a table stage can be used only by the table's owner, and it "does not support transforming data while
loading it". So the file goes to the stage of the dataset's intake table (``RAW.<TABLE>_INTAKE``, owned by
the service role, columns named as the file's header), and the COPY is the standard form with
``MATCH_BY_COLUMN_NAME`` and ``INCLUDE_METADATA`` keeping each record's file and row. In the same
transaction the rows move into the raw table with their lineage, the intake table is emptied, and the
LOAD_AUDIT row is written: the raw table never holds rows the audit does not account for.

Re-running never duplicates rows, at two levels:

1. LOAD_AUDIT remembers each file's content hash; a file whose content was already loaded into the
   table is reported as ``SKIPPED`` without touching the stage.
2. The staged path is ``@%<TABLE>_INTAKE/<content hash>/<file name>``, so even without the audit row
   Snowflake's own COPY load metadata (64 days) leaves a re-sent file out ("0 files processed").

A failed COPY (``ON_ERROR = ABORT_STATEMENT``, the default) loads nothing and is audited as ``FAILED`` with
the file, line, character and column of the first error. Every rejected record comes from Snowflake's
validator (``VALIDATION_MODE`` cannot be combined with ``MATCH_BY_COLUMN_NAME``, so the file is validated
through the shadow table's own stage, in the standard form).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NoReturn

from snowseg import migrations
from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.errors import InputError
from snowseg.inputs import local_input
from snowseg.loading import audit, ragged
from snowseg.loading.checks import FileInfo
from snowseg.loading.common import (
    LoadFailed,
    LoadResult,
    already_loaded,
    batch_id_for,
    fill,
    summarise_copy,
)
from snowseg.loading.rejects import Rejected, store_rejected, validate_files
from snowseg.objects import LOAD_AUDIT, LOAD_PATH_SMALL_FILE, dataset_objects
from snowseg.warehouse import Names, quote_ident, quote_literal

log = logging.getLogger(__name__)

LOAD_PATH = LOAD_PATH_SMALL_FILE
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
    """Load one checked file into the contract's raw table through the intake table's stage.

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
    WarehouseNotSetUp
        If the versioned setup was not applied for this dataset.
    """
    on_error = on_error.upper()
    if on_error not in ON_ERROR_CHOICES:
        raise InputError(f"on_error {on_error!r} is not allowed for the small-file load; use one of {ON_ERROR_CHOICES}")
    objects = dataset_objects(contract)
    target = names.raw_qualified(objects.table)
    batch_id = batch_id_for(info, LOAD_PATH)
    started = datetime.now(UTC).replace(tzinfo=None)

    with conn.cursor() as cur:
        wh.tag_session(cur, batch=batch_id)  # the session's queries (and their cost) name the batch
        migrations.require(cur, names, contract)
        if skipped := already_loaded(cur, names, info, target):
            return skipped

        # an s3:// input is read from a fresh local copy; LOAD_AUDIT and the messages name the URL (info.path)
        with local_input(info) as local, tempfile.TemporaryDirectory(prefix="snowseg-small-") as tmp:
            if info.ragged and on_error != "CONTINUE":
                _fail_ragged(cur, info, local, contract, names, batch_id, target, on_error, started, dag_id, run_id)
            # ON_ERROR = CONTINUE: the ragged records stay out of the COPY, which would pad or cut them
            source = str(ragged.write_without(local, contract, tmp)) if info.ragged else local.path
            return _stage_and_copy(cur, info, source, contract, names, batch_id=batch_id, target=target,
                                   on_error=on_error, started=started, dag_id=dag_id, run_id=run_id, local=local)


def _stage_and_copy(cur: Any, info: FileInfo, source: str, contract: DatasetContract, names: Names, *, batch_id: str,
                    target: str, on_error: str, started: datetime, dag_id: str | None,
                    run_id: str | None, local: FileInfo) -> LoadResult:
    """PUT `source` (the file, or its copy without ragged records) to the intake table's stage, COPY it, publish the
    rows to the raw table with the audit row in one transaction; keep every rejected record."""
    objects = dataset_objects(contract)
    folder = info.sha256[:16]
    stage = wh.stage_path(names.database, names.raw, f"%{objects.intake}", folder)
    put = wh.run(cur, "loading/put_file.sql", file_url=wh.put_file_url(source), stage_path=stage, parallel="4")
    staged = f"{folder}/{put[0][1]}"  # PUT's target (".gz" added by AUTO_COMPRESS), as METADATA$FILENAME names it
    log.info("staged %s at %s", info.path, stage)

    rec = audit.AuditRecord(
        batch_id=batch_id, file_name=info.name, load_path=LOAD_PATH, target_table=target, status="",
        rows_parsed=0, rows_loaded=0, rows_rejected=0, started_at=started, finished_at=started,
        file_path=info.path, stage_path=stage, bytes=info.bytes, checksum=info.sha256, dag_id=dag_id,
        run_id=run_id,
    )
    where = dict(database=names.database, schema=names.raw, intake_table=objects.intake)
    with wh.transaction(cur) as tx:
        try:
            results = wh.run(cur, "loading/copy_into_intake.sql", None, **where, stage_path=stage, on_error=on_error,
                             file_format=quote_literal(names.raw_qualified(objects.file_format_by_name)))
        except Exception as e:  # the connector raises ProgrammingError; keep its text
            tx.rollback()
            _copy_failed(cur, e, info, source, contract, names, rec, batch_id=batch_id, target=target, local=local)

        status, loaded, err = summarise_copy(results)
        err = _contract_column(err, contract)
        rejected: list[Rejected] = []
        if status != "SKIPPED" and (err or info.ragged):  # every rejected record, with its line in the file as given
            rejected = _keep_rejected(cur, info, source, contract, names, batch_id, local=local)
            status, err = _with_ragged(status, err, rejected, info)
        if status == "SKIPPED":
            # COPY's load metadata knows this staged path: an earlier attempt loaded it; nothing new parsed
            (held,) = wh.run(cur, "raw/count_batch_rows.sql", {"batch_id": batch_id}, database=names.database,
                             schema=names.raw, table=objects.table)[0]
            tx.rollback()
            msg = (f"{info.name}: skipped: COPY's load metadata has this staged file as loaded before; batch "
                   f"{batch_id} holds {held} rows")
            log.info(msg)
            return LoadResult("SKIPPED", batch_id, info.name, info.rows, 0, 0, msg)
        fill(rec, status, parsed=info.rows, loaded=loaded, err=err)
        if status == "FAILED" and audit.find_outcome(cur, names, info.sha256, target, LOAD_PATH, "FAILED"):
            tx.rollback()  # this content's failure is on record already (with its rejected rows)
            raise LoadFailed(f"{info.path}: COPY skipped the whole file again ({err.describe() if err else ''}); "
                             f"already recorded in {names.audit_qualified(LOAD_AUDIT)}.", file=info.path,
                             batch_id=batch_id, error=err, audited=True)
        if loaded:
            publish = dict(**where, table=objects.table,
                           columns=", ".join(quote_ident(c.column) for c in contract.columns),
                           # '%' doubled: the statement has bound (pyformat) parameters, eg: "Tax 5%"
                           header_names=", ".join('"' + c.name.replace("%", "%%") + '"' for c in contract.columns))
            wh.run(cur, "raw/insert_raw_from_intake.sql", {"load_path": LOAD_PATH, "batch_id": batch_id,
                   "staged_file": staged, "loaded_at": started}, **publish)
            wh.run(cur, "raw/delete_intake_file.sql", {"staged_file": staged}, **where)
        audit.record(cur, names, rec)

    if status in {"LOADED", "PARTIALLY_LOADED"}:
        # the web UI removes the staged file once it is loaded; load metadata still remembers it
        wh.run(cur, "loading/remove_staged_files.sql", stage_path=stage)
    msg = f"{info.name}: {status} {loaded} of {info.rows} rows into {target} (batch {batch_id})"
    if err:
        msg += f"; first error: {err.describe()}"
    if status == "FAILED":  # ON_ERROR = SKIP_FILE skipped the whole file
        raise LoadFailed(f"{info.path}: {msg}. Recorded in {names.audit_qualified(LOAD_AUDIT)}.",
                         file=info.path, batch_id=batch_id, error=err, audited=True)
    log.info(msg)
    return LoadResult(status, batch_id, info.name, info.rows, loaded, info.rows - loaded, msg)




def _copy_failed(cur: Any, error: Exception, info: FileInfo, source: str, contract: DatasetContract, names: Names,
                 rec: audit.AuditRecord, *, batch_id: str, target: str, local: FileInfo) -> NoReturn:
    """The COPY failed (ABORT_STATEMENT), nothing was loaded: record the failure once per content, with every rejected
    record (not only the first), in a transaction of its own; raise it."""
    err = _contract_column(audit.parse_copy_error(audit.error_text(error)), contract)
    fill(rec, "FAILED", parsed=info.rows, loaded=0, err=err)
    if not audit.find_outcome(cur, names, info.sha256, target, LOAD_PATH, "FAILED"):  # once per content
        with wh.transaction(cur):
            _keep_rejected(cur, info, source, contract, names, batch_id, local=local)
            audit.record(cur, names, rec)
    raise LoadFailed(
        f"{info.path}: COPY INTO {target} failed, nothing was loaded "
        f"({err.describe() if err else audit.error_text(error)}). "
        f"Recorded in {names.audit_qualified(LOAD_AUDIT)} as batch {batch_id}.",
        file=info.path, batch_id=batch_id, error=err, audited=True,
    ) from error


def _contract_column(err: audit.CopyError | None, contract: DatasetContract) -> audit.CopyError | None:
    """The error with its column named as the contract names it (the intake table's columns are the file's header)."""
    if err is None or err.column is None:
        return err
    by_header = {c.name: c.column for c in contract.columns}
    return replace(err, column=by_header.get(err.column, err.column))


def _keep_rejected(cur: Any, info: FileInfo, source: str, contract: DatasetContract, names: Names,
                   batch_id: str, *, local: FileInfo) -> list[Rejected]:
    """Store every record Snowflake's validator rejects in `source` (the file, or its copy without ragged records,
    whose lines are mapped back), and the ragged records; returns them, located in the file as given. `local` is
    `info` with the path of the file as read (a local copy of an object-storage input).

    ``VALIDATION_MODE`` takes only the standard load form into a table with exactly the contract's columns, and a
    table stage loads only into its own table: the file is validated from the shadow table's stage, then removed.
    """
    folder = info.sha256[:16]
    shadow_stage = wh.stage_path(names.database, names.raw, f"%{dataset_objects(contract).shadow}", folder)
    put = wh.run(cur, "loading/put_file.sql", file_url=wh.put_file_url(source), stage_path=shadow_stage, parallel="4")
    validated = validate_files(cur, names, contract, [str(put[0][1])], stage_path=shadow_stage)
    wh.run(cur, "loading/remove_staged_files.sql", stage_path=shadow_stage)
    if source != local.path:  # the copy without ragged records: its lines are not the file's
        validated = [replace(r, line=ragged.source_line(info, r.line)) for r in validated]
        validated += ragged.rejected_records(local, contract)
    rejected = sorted(validated, key=lambda r: r.line or 0)
    store_rejected(cur, names, contract, batch_id=batch_id, load_path=LOAD_PATH, file_name=info.name,
                   rejected=rejected)
    return rejected


def _first_error(rejected: list[Rejected], info: FileInfo, contract: DatasetContract) -> audit.CopyError | None:
    first = min(rejected, key=lambda r: r.line or 0, default=None)
    if first is None:
        return None
    return _contract_column(audit.CopyError(message=first.error, file=info.name, line=first.line,
                                            character=first.character, column=first.column_name), contract)


def _with_ragged(status: str, err: audit.CopyError | None, rejected: list[Rejected],
                 info: FileInfo) -> tuple[str, audit.CopyError | None]:
    """COPY's outcome for the copy without ragged records, as the outcome for the file: its ragged records are
    rejected too, so a file the COPY loaded whole is partly loaded, and the first error is the file's first."""
    if not info.ragged:
        return status, err
    first = min(rejected, key=lambda r: r.line or 0)
    err = audit.CopyError(message=first.error, file=info.name, line=first.line, character=first.character,
                          column=first.column_name)
    return ("PARTIALLY_LOADED" if status == "LOADED" else status), err


def _fail_ragged(cur: Any, info: FileInfo, local: FileInfo, contract: DatasetContract, names: Names, batch_id: str,
                 target: str, on_error: str, started: datetime, dag_id: str | None, run_id: str | None) -> NoReturn:
    """A file with ragged records under ABORT_STATEMENT or SKIP_FILE: as Snowflake's COPY would, load nothing and
    report the first error; every rejected record (ragged or not) is kept, from Snowflake's validator.

    The COPY itself is not run: it matches columns by name, which pads or cuts a ragged record instead of failing.
    """
    rec = audit.AuditRecord(
        batch_id=batch_id, file_name=info.name, load_path=LOAD_PATH, target_table=target, status="",
        rows_parsed=0, rows_loaded=0, rows_rejected=0, started_at=started, finished_at=started, file_path=info.path,
        bytes=info.bytes, checksum=info.sha256, dag_id=dag_id, run_id=run_id,
    )
    with wh.transaction(cur):
        known = audit.find_outcome(cur, names, info.sha256, target, LOAD_PATH, "FAILED")
        rejected = _keep_rejected(cur, info, local.path, contract, names, batch_id, local=local) if not known else []
        err = _first_error(rejected, info, contract) if rejected else None
        if not known:
            fill(rec, "FAILED", parsed=info.rows, loaded=0, err=err)
            audit.record(cur, names, rec)
    what = err.describe() if err else f"{len(info.ragged)} ragged records, first at line {info.ragged[0]['line']}"
    raise LoadFailed(
        f"{info.path}: ON_ERROR = {on_error}: nothing was loaded ({what}); {len(info.ragged)} record(s) have another "
        f"number of fields than the header. Every rejected record is in {names.raw}."
        f"{dataset_objects(contract).rejected}; recorded in {names.audit_qualified(LOAD_AUDIT)} as batch "
        f"{batch_id}. Fix the rows, or load with ON_ERROR = CONTINUE to load the others.",
        file=info.path, batch_id=batch_id, error=err, audited=True,
    )
