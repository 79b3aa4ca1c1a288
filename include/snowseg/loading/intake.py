"""Intake: check every input file before anything is loaded, and put refused files on record.

A file the checks refuse (:mod:`snowseg.loading.checks`: not UTF-8, wrong header, empty, truncated gzip,
too big for the small-file path) loads no row. So that every file's fate is visible in one place, it gets a
LOAD_AUDIT row with status ``REFUSED``, its counted records as parsed and rejected, and the error with its
line, character and column. Re-sending the same refused content does not add another row. The other files
of the same run are still loaded; the task then fails, naming each refused file. Ragged records do not refuse
a file: each path rejects just those records (:mod:`snowseg.loading.ragged`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snowseg.config import DatasetContract
from snowseg.loading import audit
from snowseg.loading.checks import FileCheckError, FileInfo, check_file
from snowseg.objects import raw_table
from snowseg.warehouse import Names


@dataclass(frozen=True)
class Refusal:
    """A file the checks refused, and why."""

    path: str
    name: str
    error: str
    line: int | None
    column: int | None  # the field number
    bytes: int | None
    sha256: str | None
    character: int | None = None
    column_name: str | None = None
    rows: int = 0  # the records counted before the refusal

    def to_dict(self) -> dict:
        return asdict(self)


def check_inputs(paths: Sequence[str | Path], contract: DatasetContract, *, max_mb: float | None = None
                 ) -> tuple[list[FileInfo], list[Refusal]]:
    """Check each file; return the accepted files' infos and the refusals (a missing file still raises)."""
    infos, refused = [], []
    for path in paths:
        try:
            infos.append(check_file(path, contract, max_mb=max_mb, ragged="collect"))
        except FileCheckError as e:
            p = Path(path)
            data = p.read_bytes()
            refused.append(Refusal(path=str(p.resolve()), name=p.name, error=str(e), line=e.line, column=e.column,
                                   bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), character=e.character,
                                   column_name=e.column_name, rows=e.rows))
    return infos, refused


def record_refusals(cur: Any, names: Names, contract: DatasetContract, refused: list[Refusal], *, load_path: str,
                    dag_id: str | None = None, run_id: str | None = None) -> int:
    """One REFUSED LOAD_AUDIT row per refused content (not again on a re-run); returns the rows written."""
    target = raw_table(names, contract)
    written = 0
    for r in refused:
        if audit.find_outcome(cur, names, r.sha256, target, load_path, "REFUSED"):
            continue
        now = datetime.now(UTC).replace(tzinfo=None)
        audit.record(cur, names, audit.AuditRecord(
            batch_id=f"{load_path}_{(r.sha256 or '')[:16]}", file_name=r.name, load_path=load_path,
            target_table=target, status="REFUSED", rows_parsed=r.rows, rows_loaded=0, rows_rejected=r.rows,
            started_at=now, finished_at=now, file_path=r.path, bytes=r.bytes, checksum=r.sha256, dag_id=dag_id,
            run_id=run_id, first_error=r.error.splitlines()[0][:4000], first_error_line=r.line,
            first_error_character=r.character, first_error_column=r.column_name,
        ))
        written += 1
    return written


class FilesRefused(FileCheckError):
    """Files the checks refused: ``refusals`` says which, where and why (for alerts: never parsed from the text)."""

    def __init__(self, message: str, *, refusals: list[Refusal]):
        first = refusals[0] if refusals else None
        super().__init__(message, line=first.line if first else None, column=first.column if first else None,
                         character=first.character if first else None,
                         column_name=first.column_name if first else None, rows=sum(r.rows for r in refusals))
        self.refusals = list(refusals)


def refused_error(refused: list[Refusal], names: Names) -> FilesRefused:
    """One error naming every refused file (for the failing task's log)."""
    head = (f"{len(refused)} file(s) refused (nothing loaded from them; recorded in {names.audit}.LOAD_AUDIT "
            "as REFUSED):")
    return FilesRefused("\n".join([head, *(f"  - {r.error}" for r in refused)]), refusals=refused)


def put_on_record(conn: Any, names: Names, contract: DatasetContract, refused: list[Refusal], *, load_path: str,
                  dag_id: str | None = None, run_id: str | None = None) -> FilesRefused:
    """Record the refusals (the warehouse must be set up), and return the error for the task to raise."""
    from snowseg import migrations

    with conn.cursor() as cur:
        migrations.require(cur, names, contract)
        record_refusals(cur, names, contract, refused, load_path=load_path, dag_id=dag_id, run_id=run_id)
    return refused_error(refused, names)
