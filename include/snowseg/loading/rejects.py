"""Rejected-row capture shared by the load paths: ask Snowflake's validator, keep every record it rejects.

Snowflake's ``VALIDATE()`` cannot read a COPY with a transformation (ours keep ``METADATA$`` lineage),
and ``VALIDATION_MODE`` is allowed only in the standard load form (no column list, no transformation).
So the rejected records of staged files are collected by validating the same files with a standard
``COPY INTO <shadow> ... VALIDATION_MODE = RETURN_ALL_ERRORS`` (loads nothing), where the dataset's
shadow table has exactly the contract's columns, on internal and external stages alike. Each record
goes to the contract's rejected table with its line in the *source* file, the column, the error and
the raw record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.loading import audit
from snowseg.objects import dataset_objects
from snowseg.warehouse import Names, quote_literal

MAX_FILES_PER_COPY = 1000


@dataclass(frozen=True)
class Rejected:
    """One rejected record, located in its staged file."""

    staged_file: str
    line: int | None
    character: int | None
    column_name: str | None
    error: str
    code: int | None
    record: str | None


def batches(items: list, size: int = MAX_FILES_PER_COPY) -> Iterator[list]:
    """`items` in runs of at most `size` (COPY's FILES takes at most 1,000 names).

    Examples
    --------
    >>> [len(b) for b in batches(list(range(2500)))]
    [1000, 1000, 500]
    """
    for i in range(0, len(items), size):
        yield items[i : i + size]


def validate_files(cur: Any, names: Names, contract: DatasetContract, files: list[str], *,
                   stage_path: str) -> list[Rejected]:
    """Every record Snowflake's validator rejects in the given staged files (paths relative to `stage_path`).

    ``staged_file`` of each result is the file's path relative to `stage_path`, as given.
    """
    from snowseg.loading.common import file_format_ref

    by_base = {PurePosixPath(f).name: f for f in files}
    out: list[Rejected] = []
    for batch in batches(sorted(files)):
        rows = wh.run(
            cur, "loading/validate_staged_files.sql", database=names.database, schema=names.raw,
            shadow_table=dataset_objects(contract).shadow, stage_path=stage_path,
            file_format=file_format_ref(names, contract), files=", ".join(quote_literal(f) for f in batch),
        )
        cols = [d[0].upper() for d in cur.description]
        for row in rows:
            r = dict(zip(cols, row, strict=True))
            name = PurePosixPath(str(r.get("FILE"))).name
            out.append(
                Rejected(
                    staged_file=by_base.get(name, name), line=r.get("LINE"), character=r.get("CHARACTER"),
                    column_name=audit.column_name(r.get("COLUMN_NAME")), error=str(r.get("ERROR")),
                    code=r.get("CODE"), record=r.get("REJECTED_RECORD"),
                )
            )
    return out


def store_rejected(cur: Any, names: Names, contract: DatasetContract, *, batch_id: str, load_path: str,
                   file_name: str, rejected: list[Rejected],
                   source_line: Callable[[Rejected], int | None] = lambda r: r.line) -> None:
    """Replace the batch's rejected records (from an earlier attempt, if any) with these, each located by
    `source_line`: SALES_REJECTED holds the latest attempt's rejects of each batch, never two copies."""
    wh.run(cur, "raw/delete_rejected_batch.sql", {"batch_id": batch_id, "load_path": load_path},
           database=names.database, schema=names.raw, rejected_table=dataset_objects(contract).rejected)
    if not rejected:
        return
    from snowseg.redaction import known_secrets, redact

    now, secrets = datetime.now(UTC).replace(tzinfo=None), known_secrets()
    cur.executemany(
        wh.render("raw/insert_rejected_row.sql", database=names.database, schema=names.raw,
                  rejected_table=dataset_objects(contract).rejected),
        [
            {
                "batch_id": batch_id, "load_path": load_path, "file_name": file_name,
                "staged_file": r.staged_file, "line": source_line(r), "character": r.character,
                "column_name": r.column_name, "error": redact(r.error, secrets), "code": r.code,
                "rejected_record": redact(r.record, secrets),
                "rejected_at": now,
            }
            for r in rejected
        ],
    )
