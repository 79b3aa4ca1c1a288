"""File checks that run before anything touches the warehouse.

A file that is missing, too big for the path it was sent to, not UTF-8, or whose header does not
match the dataset contract is refused here, with an error that names the file (and the line and
column where it applies) and says what to do. Row values are judged by the warehouse's COPY.

The file is streamed in blocks (:mod:`snowseg.loading.scan`): its sha256, UTF-8 validity, record count
and each record's field count are found a block at a time, so memory is a few blocks whatever its size.

Examples
--------
>>> import tempfile, pathlib
>>> from snowseg.config import load_contract
>>> p = pathlib.Path(tempfile.mkdtemp()) / "other.csv"
>>> _ = p.write_text("a,b\\n1,2\\n")
>>> check_file(p, load_contract())  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
HeaderMismatch: .../other.csv: the header does not match contract 'supermarket_sales' (missing: [...
"""

from __future__ import annotations

import csv
import gzip
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from snowseg.config import DatasetContract
from snowseg.errors import InputError, InputNotFound
from snowseg.loading.scan import GZIP_MAGIC, Scanner, Source


class FileCheckError(InputError):
    """A file was refused before loading; the message names the file and what to do.

    Where the problem has a place (1-based; else None): ``line`` (physical line, header = 1), ``column`` (the field
    number in the record, as COPY's errors count columns), ``character`` (position in the line) and ``column_name``
    (the contract's column at that field). ``rows`` counts the file's records when they could be counted (the
    refused file's ROWS_PARSED), else 0.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 character: int | None = None, column_name: str | None = None, rows: int = 0):
        super().__init__(message)
        self.line, self.column, self.character, self.column_name = line, column, character, column_name
        self.rows = rows


class FileTooLarge(FileCheckError):
    """The file is over the small-file limit."""


class NotUtf8(FileCheckError):
    """The file has bytes that are not UTF-8: ``lines`` lists the lines that do (up to :data:`LISTED`), ``total``
    counts them all."""

    def __init__(self, message: str, *, lines: list[dict], total: int, rows: int):
        first = lines[0]
        super().__init__(message, line=first["line"], column=first["column"], character=first["character"],
                         column_name=first["column_name"], rows=rows)
        self.lines, self.total = lines, total


class HeaderMismatch(FileCheckError):
    """The header is not the contract's: the contract columns it lacks, the positions of columns the contract
    does not have, and how many columns it has (never the header's own text)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 missing: list[str] | None = None, unexpected_positions: list[int] | None = None,
                 found_count: int | None = None, rows: int = 0, column_name: str | None = None):
        super().__init__(message, line=line, column=column, column_name=column_name, rows=rows)
        self.missing, self.unexpected_positions = list(missing or []), list(unexpected_positions or [])
        self.found_count = found_count


class RaggedRow(FileCheckError):
    """Records with more or fewer fields than the header: ``records`` lists them (up to :data:`LISTED`), ``total``
    counts them all; ``line``/``column`` locate the first."""

    def __init__(self, message: str, *, records: list[dict], total: int, rows: int):
        first = records[0]
        super().__init__(message, line=first["line"], column=first["column"], column_name=first["column_name"],
                         rows=rows)
        self.records, self.total = records, total


class CorruptGzip(FileCheckError):
    """A ``.gz`` input is truncated or not a gzip stream."""


#: How many bad records a refusal lists (it counts them all).
LISTED = 10


def open_text(path: str | Path):
    """Open a CSV (plain or gzip-compressed) for reading as UTF-8 text, dropping a BOM."""
    p = Path(path)
    with p.open("rb") as f:
        gz = f.read(2) == GZIP_MAGIC
    if gz:
        return gzip.open(p, "rt", encoding="utf-8-sig", newline="")
    return p.open("r", encoding="utf-8-sig", newline="")


@dataclass(frozen=True)
class FileInfo:
    """What the checks learnt about a file: identity, size, content hash and record count."""

    path: str
    name: str
    bytes: int
    sha256: str
    rows: int
    has_bom: bool
    #: records with another field count than the header, kept out of the load and put on record as rejected
    #: (``check_file(..., ragged="collect")``): line, lines, error_line, column (first field past the header's),
    #: fields, row,
    #: column_name -- not their text (FileInfo goes through XCom; :mod:`snowseg.loading.ragged` reads it back)
    ragged: list[dict] = field(default_factory=list)

    @property
    def rows_to_load(self) -> int:
        """The records the warehouse is given: all but the ragged ones."""
        return self.rows - len(self.ragged)

    def to_dict(self) -> dict:
        """A JSON-safe dict (for XCom)."""
        return asdict(self)


def check_file(path: str | Path, contract: DatasetContract, max_mb: float | None = None, *,
               ragged: str = "refuse") -> FileInfo:
    """Check a CSV file against the small-file path's rules and the dataset contract.

    Parameters
    ----------
    path : str or Path
        The local CSV file.
    contract : DatasetContract
        Gives the expected header and the delimiter/quote characters.
    max_mb : float, optional
        Size limit in MB (10**6 bytes); defaults to the contract's ``csv.max_file_mb`` (50, as the
        Snowflake web UI loader).
    ragged : {'refuse', 'collect'}
        Records whose field count is not the header's: ``refuse`` the file, or ``collect`` them in
        ``FileInfo.ragged`` (what the load paths do: Snowflake rejects just those records under
        ERROR_ON_COLUMN_COUNT_MISMATCH, as any bad record under the path's ON_ERROR; a COPY that transforms or
        matches by name would pad or cut them instead, so the paths keep them out of such a COPY and put them on
        record as rejected).

    Returns
    -------
    FileInfo

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    FileTooLarge
        Over the limit; points at the bulk stage load.
    NotUtf8
        With the line and column of the first bad byte.
    HeaderMismatch
        Lists expected and found columns, missing and unexpected ones.
    RaggedRow
        Records with another number of fields than the header (``ragged="refuse"``), every one counted, the
        first ten listed with their lines.
    """
    p = Path(path)
    if not p.is_file():
        raise InputNotFound(f"{p}: no such file (check the file_path parameter)")
    limit_mb = contract.csv.max_file_mb if max_mb is None else max_mb
    size = p.stat().st_size
    if size > limit_mb * 1_000_000:
        raise FileTooLarge(
            f"{p}: {size / 1e6:.1f} MB is over the small-file limit of {limit_mb:g} MB; "
            "load big files with the bulk stage path (DAG load_bulk_stage), which splits and compresses them"
        )
    bad = _BadBytes(contract)
    try:
        with Source(p, hashed=True) as src:
            scanner = Scanner(src, contract.csv.delimiter, contract.csv.quote, header="record", count_fields=True,
                              names=[c.column for c in contract.columns], bad_bytes=bad.add)
            blocks = scanner.blocks()
            next(blocks, None)  # the first block tells whether there is any data
            if src.empty:
                raise HeaderMismatch(f"{p}: the file is empty; expected a header line: {','.join(contract.header)}",
                                     line=1, column=1)
            if ragged not in ("refuse", "collect"):
                raise ValueError(f"ragged {ragged!r}: use 'refuse' or 'collect'")
            for _ in blocks:
                pass
            digest, has_bom = src.sha256(), src.has_bom
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise CorruptGzip(
            f"{p}: the gzip stream is truncated or corrupt ({e}); nothing was loaded from it. "
            "Re-create or re-download the file (check its size against the source)"
        ) from None
    rows, header, found = scanner.rows, scanner.header_fields, scanner.ragged
    if bad.total:
        raise bad.error(p, rows)
    _check_header(p, contract, header, rows)
    if found and ragged == "refuse":
        listed = "; ".join(f"line {b['line']} has {b['fields']} fields" for b in found[:LISTED])
        more = f" (and {len(found) - LISTED} more)" if len(found) > LISTED else ""
        raise RaggedRow(
            f"{p}: {len(found)} record(s) with another number of fields than the header's {len(header)}: {listed}"
            f"{more}; fix the rows or quote fields that contain the delimiter. Nothing was loaded from this file",
            records=found[:LISTED], total=len(found), rows=rows,
        )
    return FileInfo(
        path=str(p.resolve()), name=p.name, bytes=size, sha256=digest, rows=rows, has_bom=has_bom, ragged=found,
    )


def _where(field: int, name: str | None) -> str:
    return f"column {field} ({name})" if name else f"column {field}"


class _BadBytes:
    """Collects the lines with bytes that are not UTF-8 as the scan finds them (the first ten: line, field, column,
    character), counting all; :meth:`error` is the NotUtf8 to raise."""

    def __init__(self, contract: DatasetContract):
        self.contract = contract
        self.lines: list[dict] = []
        self.total = 0
        self._last_line = 0

    def add(self, data: bytes, positions: list[int], newlines_before: int) -> None:
        """Bad bytes at `positions` of `data` (whole lines), after `newlines_before` newlines of the file."""
        csv_format = self.contract.csv
        line_no, scanned = newlines_before + 1, 0
        for pos in positions:
            line_no += data.count(b"\n", scanned, pos)
            scanned = pos
            if line_no == self._last_line:
                continue
            self._last_line, self.total = line_no, self.total + 1
            if len(self.lines) >= LISTED:
                continue
            line_start = data.rfind(b"\n", 0, pos) + 1
            prefix = data[line_start:pos].decode("utf-8", errors="replace")
            field = len(next(csv.reader([prefix], delimiter=csv_format.delimiter, quotechar=csv_format.quote),
                             [""])) if prefix else 1
            self.lines.append({
                "line": line_no, "column": field, "character": len(prefix) + 1,
                "header": self.contract.header[field - 1] if field <= len(self.contract.header) else None,
                "column_name": self.contract.columns[field - 1].column if field <= len(self.contract.columns) else None,
            })

    def error(self, path: Path, rows: int) -> NotUtf8:
        """NotUtf8 listing the lines found."""
        total, lines = self.total, self.lines
        listed = "; ".join(f"line {x['line']}, {_where(x['column'], x['header'])}, character {x['character']}"
                           for x in lines)
        more = f" (and {total - LISTED} more)" if total > LISTED else ""
        return NotUtf8(
            f"{path}: {total} line(s) with bytes that are not valid UTF-8: {listed}{more}; re-save the file as UTF-8 "
            "(it looks like Latin-1/Windows-1252 if accented letters are involved). Nothing was loaded from this file",
            lines=lines, total=total, rows=rows,
        )


def _check_header(path: Path, contract: DatasetContract, found: list[str], rows: int) -> None:
    """Compare the header with the contract's, by name and order.

    The error names only the contract's own column names and counts: a header that is not the
    contract's may be any text (another file's first line), and that never reaches a message.
    """
    expected = contract.header
    found = [h.strip() for h in found]
    if found == expected:
        return
    known = set(expected)
    missing = [c for c in expected if c not in found]
    unexpected = [i for i, c in enumerate(found, start=1) if c not in known]
    detail = [f"{len(found)} columns, the contract has {len(expected)}"]
    if missing:
        detail.append(f"missing: {missing}")
    if unexpected:
        detail.append(f"{len(unexpected)} column(s) not in the contract at position(s) "
                      f"{', '.join(map(str, unexpected[:20]))}{' ...' if len(unexpected) > 20 else ''}")
    if not missing and not unexpected:
        detail.append("the contract's columns in another order: "
                      f"{[c for c in found if c in known]}")
    raise HeaderMismatch(
        f"{path}: line 1: the header does not match contract {contract.name!r} ({'; '.join(detail)}). "
        f"Expected: {expected}. Fix the file, choose the contract that describes it (the `contract` param; "
        f"`make demo FILE=... CONTRACT=<name or path.yaml>`), or draft one from the file: `make contract FILE=...` "
        "(docs/contracts.md).",
        line=1, column=unexpected[0] if unexpected else None, missing=missing, unexpected_positions=unexpected,
        found_count=len(found), rows=rows,
        column_name=next((c.column for c in contract.columns if c.name == missing[0]), None) if missing else None,
    )
