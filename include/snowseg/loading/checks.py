"""File checks that run before anything touches the warehouse.

A file that is missing, too big for the path it was sent to, not UTF-8, or whose header does not
match the dataset contract is refused here, with an error that names the file (and the line and
column where it applies) and says what to do. Row values are judged by the warehouse's COPY.

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
import hashlib
import io
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from snowseg.config import DatasetContract

BOM = b"\xef\xbb\xbf"


class FileCheckError(ValueError):
    """A file was refused before loading; the message names the file and what to do.

    ``line`` and ``column`` locate the problem in the file when it has a place (1-based; else None).
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line, self.column = line, column


class FileTooLarge(FileCheckError):
    """The file is over the small-file limit."""


class NotUtf8(FileCheckError):
    """The file has bytes that are not UTF-8."""


class HeaderMismatch(FileCheckError):
    """The header is not the contract's: the contract columns it lacks, the positions of columns the contract
    does not have, and how many columns it has (never the header's own text)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 missing: list[str] | None = None, unexpected_positions: list[int] | None = None,
                 found_count: int | None = None):
        super().__init__(message, line=line, column=column)
        self.missing, self.unexpected_positions = list(missing or []), list(unexpected_positions or [])
        self.found_count = found_count


class RaggedRow(FileCheckError):
    """Records with more or fewer fields than the header: ``records`` lists them (up to :data:`LISTED`), ``total``
    counts them all; ``line``/``column`` locate the first."""

    def __init__(self, message: str, *, records: list[dict], total: int):
        first = records[0]
        super().__init__(message, line=first["line"], column=first["column"])
        self.records, self.total = records, total


class CorruptGzip(FileCheckError):
    """A ``.gz`` input is truncated or not a gzip stream."""


GZIP_MAGIC = b"\x1f\x8b"
#: How many bad records a refusal lists (it counts them all).
LISTED = 10
#: Snowflake's error for a record whose field count is not the table's (ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE).
COLUMN_COUNT_CODE = 100080


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
    #: (``check_file(..., ragged="collect")``): line, column (first field past the header's), fields, record
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
        Records whose field count is not the header's: ``refuse`` the file (the small path: its COPY would abort),
        or ``collect`` them in ``FileInfo.ragged`` (bulk and Snowpipe: Snowflake rejects just those records under
        ERROR_ON_COLUMN_COUNT_MISMATCH, but a COPY with a transformation would pad or cut them, so they are kept
        out of the load and put on record as rejected).

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
        raise FileNotFoundError(f"{p}: no such file (check the file_path parameter)")
    limit_mb = contract.csv.max_file_mb if max_mb is None else max_mb
    size = p.stat().st_size
    if size > limit_mb * 1_000_000:
        raise FileTooLarge(
            f"{p}: {size / 1e6:.1f} MB is over the small-file limit of {limit_mb:g} MB; "
            "load big files with the bulk stage path (DAG load_bulk_stage), which splits and compresses them"
        )
    raw = p.read_bytes()
    data = _gunzip(p, raw) if raw.startswith(GZIP_MAGIC) else raw
    if not data:
        raise HeaderMismatch(f"{p}: the file is empty; expected a header line: {','.join(contract.header)}",
                             line=1, column=1)
    has_bom = data.startswith(BOM)
    text = _decode(p, data[len(BOM):] if has_bom else data)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=contract.csv.delimiter, quotechar=contract.csv.quote)
    header = next(reader, [])
    _check_header(p, contract, header)
    if ragged not in ("refuse", "collect"):
        raise ValueError(f"ragged {ragged!r}: use 'refuse' or 'collect'")
    lines = text.splitlines(keepends=True)
    rows, bad = 0, []
    previous_end = reader.line_num
    for record in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not record:  # csv yields [] for a blank line; COPY skips blank lines too (SKIP_BLANK_LINES = TRUE)
            continue
        rows += 1
        if len(record) != len(header):
            bad.append({"line": start, "column": min(len(record), len(header)) + 1, "fields": len(record),
                        "row": rows, "record": "".join(lines[start - 1:previous_end]).rstrip("\r\n")})
    if bad and ragged == "refuse":
        listed = "; ".join(f"line {b['line']} has {b['fields']} fields" for b in bad[:LISTED])
        more = f" (and {len(bad) - LISTED} more)" if len(bad) > LISTED else ""
        raise RaggedRow(
            f"{p}: {len(bad)} record(s) with another number of fields than the header's {len(header)} "
            f"({', '.join(header)}): {listed}{more}; fix the rows or quote fields that contain the delimiter. Nothing "
            "was loaded from this file",
            records=[{k: v for k, v in b.items() if k != "record"} for b in bad[:LISTED]], total=len(bad),
        )
    return FileInfo(
        path=str(p.resolve()), name=p.name, bytes=size, sha256=hashlib.sha256(raw).hexdigest(), rows=rows,
        has_bom=has_bom, ragged=bad,
    )


def _gunzip(path: Path, raw: bytes) -> bytes:
    """The decompressed bytes of a gzip file; CorruptGzip if it is truncated or damaged."""
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise CorruptGzip(
            f"{path}: the gzip stream is truncated or corrupt ({e}); nothing was loaded from it. "
            "Re-create or re-download the file (check its size against the source)"
        ) from None


def _decode(path: Path, data: bytes) -> str:
    """Decode strictly as UTF-8, naming the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise NotUtf8(
            f"{path}: line {line}, column {column}: a byte that is not valid UTF-8; "
            "re-save the file as UTF-8 (it looks like Latin-1/Windows-1252 if accented letters are involved)",
            line=line, column=column,
        ) from None


def _check_header(path: Path, contract: DatasetContract, found: list[str]) -> None:
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
        f"Expected: {expected}. Fix the file, or describe its schema in a dataset contract ({contract.source.name}).",
        line=1, column=unexpected[0] if unexpected else None, missing=missing, unexpected_positions=unexpected,
        found_count=len(found),
    )
