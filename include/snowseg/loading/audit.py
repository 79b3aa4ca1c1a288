"""Load accounting: one ``AUDIT.LOAD_AUDIT`` row per file per load, with parsed = loaded + rejected."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from snowseg import warehouse as wh
from snowseg.warehouse import Names

# Snowflake's COPY error trailer: "File 'x.csv.gz', line 3, character 14" / "Row 2, column "T"["C":7]"
_FILE_LINE = re.compile(r"File '(?P<file>[^']*)', line (?P<line>\d+), character (?P<char>\d+)")
_COLUMN = re.compile(r'column "[^"]*"\["(?P<column>[^"]+)":\d+\]')


@dataclass
class AuditRecord:
    """One file's load outcome, as written to LOAD_AUDIT."""

    batch_id: str
    file_name: str
    load_path: str
    target_table: str
    status: str
    rows_parsed: int
    rows_loaded: int
    rows_rejected: int
    started_at: datetime
    finished_at: datetime
    file_path: str | None = None
    stage_path: str | None = None
    bytes: int | None = None
    checksum: str | None = None
    first_error: str | None = None
    first_error_line: int | None = None
    first_error_character: int | None = None
    first_error_column: str | None = None
    dag_id: str | None = None
    run_id: str | None = None
    audit_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.rows_parsed != self.rows_loaded + self.rows_rejected:
            raise ValueError(
                f"audit for {self.file_name}: rows_parsed {self.rows_parsed} != rows_loaded {self.rows_loaded} "
                f"+ rows_rejected {self.rows_rejected}"
            )


@dataclass(frozen=True)
class CopyError:
    """The first error of a failed COPY, located in the file."""

    message: str
    file: str | None
    line: int | None
    character: int | None
    column: str | None

    def describe(self) -> str:
        """'file, line L, character C, column X: message' -- what an engineer needs to find it."""
        where = ", ".join(
            p for p in (
                self.file and f"file {self.file}",
                self.line and f"line {self.line}",
                self.character and f"character {self.character}",
                self.column and f"column {self.column}",
            ) if p
        )
        return f"{where}: {self.message}" if where else self.message


def error_text(error: BaseException) -> str:
    """A Snowflake error's own text, without the connector's ``"100038 (22018): <query id>: "`` prefix
    (``raw_msg``; its ``msg`` carries the prefix, with ``None`` for a query id it does not know)."""
    return str(getattr(error, "raw_msg", None) or getattr(error, "msg", None) or error)


def parse_copy_error(message: str) -> CopyError:
    """Pull file, line, character and column out of a Snowflake COPY error message.

    Examples
    --------
    >>> e = parse_copy_error("Numeric value 'abc' is not recognized\\n  File 'x/s.csv.gz', line 3, "
    ...     "character 14\\n  Row 2, column \\"SALES_RAW\\"[\\"QUANTITY\\":8]")
    >>> (e.file, e.line, e.character, e.column, e.message)
    ('x/s.csv.gz', 3, 14, 'QUANTITY', "Numeric value 'abc' is not recognized")
    """
    first_line = message.strip().splitlines()[0] if message.strip() else message
    fl = _FILE_LINE.search(message)
    col = _COLUMN.search(message)
    return CopyError(
        message=first_line,
        file=fl.group("file") if fl else None,
        line=int(fl.group("line")) if fl else None,
        character=int(fl.group("char")) if fl else None,
        column=col.group("column") if col else None,
    )


def column_name(reference: str | None) -> str | None:
    """The column of a Snowflake column reference such as ``"SALES_RAW"["QUANTITY":8]``; None for a field past the
    table's columns (``"SALES_RAW"[18]``, a record with too many fields).

    Examples
    --------
    >>> column_name('"SALES_RAW"["QUANTITY":8]'), column_name("QUANTITY"), column_name('"SALES_RAW"[18]')
    ('QUANTITY', 'QUANTITY', None)
    """
    if reference is None or re.fullmatch(r'"[^"]*"\[\d+\]', reference):
        return None
    m = _COLUMN.search(f"column {reference}")
    return m.group("column") if m else reference


def record(cur: Any, names: Names, rec: AuditRecord) -> None:
    """Insert one LOAD_AUDIT row (its texts redacted: an error may quote a file or a connection)."""
    from snowseg.redaction import redact

    row = asdict(rec)
    row.update(redact({k: row[k] for k in ("first_error", "file_path", "file_name")}))
    wh.run(cur, "audit/insert_load_audit.sql", row, database=names.database, schema=names.audit)


def find_outcome(cur: Any, names: Names, checksum: str | None, target_table: str, load_path: str,
                 status: str) -> tuple | None:
    """(batch_id, finished_at) of an earlier `status` outcome for this content, table and path, or None."""
    rows = wh.run(
        cur, "audit/select_file_outcome.sql",
        {"checksum": checksum, "target_table": target_table, "load_path": load_path, "status": status},
        database=names.database, schema=names.audit,
    )
    return rows[0] if rows else None


def find_loaded(cur: Any, names: Names, checksum: str, target_table: str) -> tuple | None:
    """(batch_id, rows_loaded, finished_at) of an earlier successful load of the same content, or None."""
    rows = wh.run(
        cur, "audit/select_loaded_file.sql", {"checksum": checksum, "target_table": target_table},
        database=names.database, schema=names.audit,
    )
    return rows[0] if rows else None
