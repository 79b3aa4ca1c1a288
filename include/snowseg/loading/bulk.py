"""Bulk stage load: split into gzip chunks, PUT them in parallel, COPY with FILES, keep every rejected row.

1. The source file is split at record boundaries into gzip chunks (:mod:`snowseg.loading.splitting`).
2. One ``PUT file://<dir>/*.csv.gz @SNOWSEG_BULK/<batch>/ PARALLEL = n`` uploads them: the
   connector's own thread pool does the parallel upload.
3. ``COPY INTO`` the raw table with ``FILES = (...)`` (at most 1,000 names per statement, the
   fastest way to name files) and ``ON_ERROR = CONTINUE``, keeping the ``METADATA$`` lineage columns.
4. The rejected records of chunks with errors come from Snowflake's validator
   (:mod:`snowseg.loading.rejects`) and go to ``RAW.SALES_REJECTED`` with their line in the *source*
   file (from the split manifest). Ragged records never reach a chunk: they are rejected as Snowflake
   would reject them (:mod:`snowseg.loading.ragged`).
5. One LOAD_AUDIT row for the source file, committed with the COPY and the rejected rows:
   ``rows_parsed = rows_loaded + rows_rejected``.

Re-running with the same content is a no-op (LOAD_AUDIT's checksum), and the staged chunk paths
are keyed by content, so Snowflake's load metadata also answers LOAD_SKIPPED.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snowseg import migrations
from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.errors import InputError
from snowseg.loading import audit, ragged
from snowseg.loading.checks import FileInfo
from snowseg.loading.common import (
    LoadFailed,
    LoadResult,
    already_loaded,
    batch_id_for,
    copy_into_raw_args,
    per_file_results,
)
from snowseg.loading.rejects import Rejected, batches, store_rejected, validate_files
from snowseg.loading.splitting import Chunk
from snowseg.objects import BULK_STAGE, LOAD_PATH_BULK_STAGE, dataset_objects
from snowseg.warehouse import Names, quote_ident, quote_literal

log = logging.getLogger(__name__)

LOAD_PATH = LOAD_PATH_BULK_STAGE


def source_line(chunk: Chunk, chunk_line: int | None) -> int | None:
    """A chunk's physical line (header = 1) as a line of the source file.

    Examples
    --------
    >>> c = Chunk("s.part-00002.csv.gz", "/x", "/s.csv", first_line=501, first_row=500, rows=10, raw_bytes=1,
    ...           gz_bytes=1, sha256="0")
    >>> source_line(c, 2), source_line(c, 5)
    (501, 504)
    """
    return None if chunk_line is None else chunk.first_line + int(chunk_line) - 2


def load_chunks(
    conn: Any,
    info: FileInfo,
    chunks: list[Chunk],
    contract: DatasetContract,
    names: Names,
    *,
    parallel: int = 4,
    purge: bool = True,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> LoadResult:
    """Stage and load the chunks of one checked source file; audit it and keep its rejected rows.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
    info : FileInfo
        The source file's checks (its checksum identifies the content).
    chunks : list of Chunk
        From :func:`snowseg.loading.splitting.split_csv`, all in one folder.
    contract, names : the dataset contract and object names.
    parallel : int
        PUT's upload threads (1..99).
    purge : bool
        Remove the staged chunks after a successful load (load metadata still remembers them).

    Returns
    -------
    LoadResult
        ``LOADED``, ``PARTIALLY_LOADED`` (rejected rows are in SALES_REJECTED) or ``SKIPPED``.

    Raises
    ------
    LoadFailed
        If no row loaded and none was accounted for, or if the rejected rows do not add up.
    """
    if not 1 <= parallel <= 99:
        raise InputError(f"parallel must be 1..99 (Snowflake's PUT limit), got {parallel}")
    folders = {str(Path(c.path).parent) for c in chunks}
    if len(folders) != 1:
        raise ValueError(f"chunks must share one folder for the PUT glob, got {sorted(folders)}")
    table = quote_ident(contract.table)
    target = names.raw_qualified(table)
    batch_id = batch_id_for(info, LOAD_PATH)
    started = datetime.now(UTC).replace(tzinfo=None)
    by_name = {c.name: c for c in chunks}

    with conn.cursor() as cur:
        wh.tag_session(cur, batch=batch_id)  # the session's queries (and their cost) name the batch
        migrations.require(cur, names, contract)
        if skipped := already_loaded(cur, names, info, target):
            return skipped

        stage = wh.stage_path(names.database, names.raw, BULK_STAGE, info.sha256[:16])
        put = wh.run(cur, "loading/put_file.sql", file_url=wh.put_file_url(Path(folders.pop()) / "*.csv.gz"),
                     stage_path=stage, parallel=str(parallel))
        log.info("PUT %d chunks to %s (parallel=%d): %s", len(put), stage, parallel, [r[6] for r in put][:5])

        with wh.transaction(cur) as tx:
            results = []
            for names_batch in batches(sorted(by_name)):
                results += wh.run(cur, "loading/copy_into_raw.sql", None, **copy_into_raw_args(
                    contract, names, stage, load_path=LOAD_PATH, batch_id=batch_id, on_error="CONTINUE",
                    file_selection=f"files = ({', '.join(quote_literal(n) for n in names_batch)})",
                ))
            per_file = {Path(str(r[0])).name: r for r in per_file_results(results) if len(r) >= 6}
            if len(per_file) < len(by_name) or any(r[1] == "LOAD_SKIPPED" for r in per_file.values()):
                # Snowflake leaves files its load metadata knows out of COPY's result
                tx.rollback()
                msg = (f"{info.name}: skipped: COPY's load metadata has {len(by_name) - len(per_file)} of its "
                       f"{len(by_name)} chunks as loaded before; batch {batch_id} is already in {target}")
                return LoadResult("SKIPPED", batch_id, info.name, info.rows, 0, 0, msg)
            loaded = sum(int(r[3] or 0) for r in per_file.values())
            with_errors = [n for n, r in per_file.items() if int(r[5] or 0) > 0]
            rejected = validate_files(cur, names, contract, with_errors, stage_path=stage) if with_errors else []
            rejected += ragged.rejected_records(info, contract)  # kept out of the chunks by load_path_files

            def locate(r: Rejected) -> int | None:
                """A rejected record's line in the source file (a chunk's line, or the source's own)."""
                if r.staged_file not in by_name:
                    return r.line
                return ragged.source_line(info, source_line(by_name[r.staged_file], r.line))

            store_rejected(cur, names, contract, batch_id=batch_id, load_path=LOAD_PATH, file_name=info.name,
                           rejected=rejected, source_line=locate)
            if loaded + len(rejected) != info.rows:
                raise LoadFailed(
                    f"{info.path}: {info.rows} rows parsed but {loaded} loaded + {len(rejected)} rejected; "
                    "refusing to commit a load that does not add up", file=info.path, batch_id=batch_id,
                )
            status = "LOADED" if not rejected else ("PARTIALLY_LOADED" if loaded else "FAILED")
            first = min(rejected, key=lambda r: locate(r) or 0, default=None)
            rec = audit.AuditRecord(
                batch_id=batch_id, file_name=info.name, load_path=LOAD_PATH, target_table=target, status=status,
                rows_parsed=info.rows, rows_loaded=loaded, rows_rejected=len(rejected), started_at=started,
                finished_at=datetime.now(UTC).replace(tzinfo=None), file_path=info.path, stage_path=stage,
                bytes=info.bytes, checksum=info.sha256, dag_id=dag_id, run_id=run_id,
                first_error=first.error if first else None, first_error_line=locate(first) if first else None,
                first_error_character=first.character if first else None,
                first_error_column=first.column_name if first else None,
            )
            audit.record(cur, names, rec)
        if purge:
            wh.run(cur, "loading/remove_staged_files.sql", stage_path=stage)

    msg = (
        f"{info.name}: {status} {loaded} of {info.rows} rows into {target} from {len(chunks)} chunks "
        f"(batch {batch_id}); {len(rejected)} rejected rows in {names.raw}.{dataset_objects(contract).rejected}"
    )
    log.info(msg)
    return LoadResult(status, batch_id, info.name, info.rows, loaded, len(rejected), msg)


def load_path_files(
    conn: Any, path: str, contract: DatasetContract, names: Names, *, chunk_bytes: int, parallel: int = 4,
    purge: bool = True, dag_id: str | None = None, run_id: str | None = None,
) -> list[LoadResult]:
    """Check, split and load every file `path` names; the raw objects are created first.

    `path` is a local file, folder or glob, or an ``s3://`` object, prefix or glob (one object's URL included),
    confined to the input roots (:func:`snowseg.inputs.check`).

    Every file is checked before any PUT. Refused files are recorded in LOAD_AUDIT (REFUSED); the
    accepted ones are loaded, then FileCheckError names the refused ones.
    """
    import tempfile

    from snowseg.inputs import check
    from snowseg.loading import intake
    from snowseg.loading.splitting import split_csv

    found = check(path, contract, max_mb=float("inf"))  # s3:// objects: local copies while `found` lives
    infos, refused = found.infos, found.refused
    refusal = intake.put_on_record(conn, names, contract, refused, load_path=LOAD_PATH, dag_id=dag_id,
                                   run_id=run_id)  # also creates the raw objects
    results = []
    for info in infos:
        with tempfile.TemporaryDirectory(prefix="snowseg-bulk-") as tmp:
            # ragged records stay out of the chunks: the COPY would pad or cut them (they are rejected instead)
            local = found.local(info)  # LOAD_AUDIT names info.path (the URL of an s3:// input)
            source = ragged.write_without(local, contract, Path(tmp) / "clean") if info.ragged else local.path
            chunks = split_csv(source, Path(tmp) / "chunks", target_bytes=chunk_bytes, delimiter=contract.csv.delimiter,
                               quotechar=contract.csv.quote)
            results.append(load_chunks(conn, info, chunks, contract, names, parallel=parallel, purge=purge,
                                       dag_id=dag_id, run_id=run_id))
    if refused:
        for r in results:
            log.info(r.message)
        raise refusal
    return results
