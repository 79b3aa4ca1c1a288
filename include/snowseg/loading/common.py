"""What the three load paths share: results, the typed load failure, batch ids and COPY's result.

Examples
--------
>>> summarise_copy([("Copy executed with 0 files processed.",)])
('SKIPPED', 0, None)
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from snowseg.config import DatasetContract
from snowseg.errors import SnowsegError
from snowseg.loading import audit
from snowseg.loading.checks import FileInfo
from snowseg.objects import dataset_objects
from snowseg.warehouse import Names, quote_ident, quote_literal

log = logging.getLogger(__name__)

#: COPY's one-row result when no file was processed: every file was loaded before (load metadata), or none matched.
ZERO_FILES = "Copy executed with 0 files processed."


class LoadFailed(SnowsegError):
    """A load did not complete; ``file`` and ``batch_id`` say which, ``error`` locates the first error (if COPY gave
    one) and ``audited`` whether the failure is on record in LOAD_AUDIT."""

    def __init__(self, message: str, *, file: str | None = None, batch_id: str | None = None,
                 error: audit.CopyError | None = None, audited: bool = False):
        super().__init__(message)
        self.file, self.batch_id, self.error, self.audited = file, batch_id, error, audited


@dataclass(frozen=True)
class LoadResult:
    """What happened to one file."""

    status: str
    batch_id: str
    file_name: str
    rows_parsed: int
    rows_loaded: int
    rows_rejected: int
    message: str

    def to_dict(self) -> dict:
        """A JSON-safe dict (for XCom)."""
        return asdict(self)


def batch_id_for(info: FileInfo, load_path: str) -> str:
    """A batch id derived from the load path and the file's content, stable across re-runs.

    Examples
    --------
    >>> info = FileInfo(path="/x/a.csv", name="a.csv", bytes=1, sha256="ab" * 32, rows=1, has_bom=False)
    >>> batch_id_for(info, "small_file")
    'small_file_abababababababab'
    """
    return f"{load_path}_{info.sha256[:16]}"


def already_loaded(cur: Any, names: Names, info: FileInfo, target: str) -> LoadResult | None:
    """A SKIPPED result if LOAD_AUDIT has this content loaded into `target` already, else None."""
    earlier = audit.find_loaded(cur, names, info.sha256, target)
    if not earlier:
        return None
    msg = (f"{info.name}: skipped: this content was already loaded into {target} as batch {earlier[0]} "
           f"({earlier[1]} rows at {earlier[2]}); nothing to do")
    log.info(msg)
    return LoadResult("SKIPPED", earlier[0], info.name, info.rows, 0, 0, msg)


def file_format_ref(names: Names, contract: DatasetContract) -> str:
    """The contract's named CSV format as COPY's FORMAT_NAME takes it (a quoted, qualified name)."""
    return quote_literal(names.raw_qualified(dataset_objects(contract).file_format))


def copy_into_raw_args(
    contract: DatasetContract, names: Names, stage: str, *, load_path: str, batch_id: str, on_error: str,
    file_selection: str = "",
) -> dict[str, str]:
    """The fragments of ``loading/copy_into_raw.sql`` for a contract's raw table and a named stage location."""
    return dict(
        database=names.database, schema=names.raw, table=quote_ident(contract.table),
        columns=", ".join(quote_ident(c) for c in contract.column_names),
        positions=", ".join(f"${i}" for i in range(1, len(contract.columns) + 1)),
        load_path=quote_literal(load_path), batch_id=quote_literal(batch_id), stage_path=stage,
        file_format=file_format_ref(names, contract), on_error=on_error, file_selection=file_selection,
    )


def per_file_results(results: list[tuple]) -> list[tuple]:
    """COPY's per-file rows; none for the single row it returns when no file was processed."""
    return [r for r in results if len(r) >= 4]


def summarise_copy(results: list[tuple]) -> tuple[str, int, audit.CopyError | None]:
    """Fold COPY's result for one file into (status, rows_loaded, first error).

    A file that Snowflake's load metadata knows is not in the result at all: COPY then returns the single
    row ``Copy executed with 0 files processed.``, which is read as ``SKIPPED``.
    """
    rows = per_file_results(results)
    if not rows:
        if results and str(results[0][0]) == ZERO_FILES:
            return "SKIPPED", 0, None
        raise LoadFailed(f"COPY returned no per-file result: {results!r}")
    # file, status, rows_parsed, rows_loaded, error_limit, errors_seen, first_error, line, character, column
    file_, status, _parsed, loaded, *rest = rows[0]
    if status == "LOAD_SKIPPED":  # not what Snowflake returns for a loaded-before file; kept for older twins
        return "SKIPPED", 0, None
    err = None
    if len(rest) >= 6 and rest[2]:
        err = audit.CopyError(
            message=str(rest[2]), file=str(file_), line=rest[3], character=rest[4], column=audit.column_name(rest[5])
        )
    status = {"LOADED": "LOADED", "PARTIALLY_LOADED": "PARTIALLY_LOADED", "LOAD_FAILED": "FAILED"}.get(status, status)
    return status, int(loaded or 0), err


def fill(rec: audit.AuditRecord, status: str, *, parsed: int, loaded: int, err: audit.CopyError | None) -> None:
    """Complete an audit record with the outcome."""
    rec.status = status
    rec.rows_parsed, rec.rows_loaded, rec.rows_rejected = parsed, loaded, parsed - loaded
    rec.finished_at = datetime.now(UTC).replace(tzinfo=None)
    if err:
        rec.first_error, rec.first_error_line = err.message, err.line
        rec.first_error_character, rec.first_error_column = err.character, err.column
