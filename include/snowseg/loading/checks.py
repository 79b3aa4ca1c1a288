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
from dataclasses import asdict, dataclass
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
    """A record has more or fewer fields than the header."""


class CorruptGzip(FileCheckError):
    """A ``.gz`` input is truncated or not a gzip stream."""


GZIP_MAGIC = b"\x1f\x8b"


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

    def to_dict(self) -> dict:
        """A JSON-safe dict (for XCom)."""
        return asdict(self)


def check_file(path: str | Path, contract: DatasetContract, max_mb: float | None = None) -> FileInfo:
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
        A record with a different number of fields than the header, with its line.
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
    rows = 0
    for record in reader:
        if not record:  # csv yields [] for a blank line; COPY skips blank lines too
            continue
        rows += 1
        if len(record) != len(header):
            column = min(len(record), len(header)) + 1
            raise RaggedRow(
                f"{p}: line {reader.line_num}, column {column}: record {rows} has "
                f"{len(record)} fields, expected {len(header)} ({', '.join(header)}); "
                "fix the row or quote fields that contain the delimiter. Nothing was loaded from this file: "
                "a COPY with a transformation would pad or cut such a record silently",
                line=reader.line_num, column=column,
            )
    return FileInfo(
        path=str(p.resolve()), name=p.name, bytes=size, sha256=hashlib.sha256(raw).hexdigest(), rows=rows,
        has_bom=has_bom,
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
