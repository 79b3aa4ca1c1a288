"""The streaming scan (:mod:`snowseg.loading.scan`) against the implementations it replaced.

``_reference_check`` and ``_reference_split`` (at the end) are check_file and split_csv as they were before the
scan: the whole file read, csv.reader per record. The checks and the splitter must give the same FileInfo, the
same refusals (type, fields, message) and the same chunks (manifest and decompressed content) on files made to
hit the scan's edges, with blocks small enough that every file crosses block boundaries.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import random
import threading
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from snowseg.config import DatasetContract, load_contract
from snowseg.errors import InputError, InputNotFound
from snowseg.loading import scan
from snowseg.loading.checks import (
    GZIP_MAGIC,
    LISTED,
    CorruptGzip,
    FileInfo,
    FileTooLarge,
    HeaderMismatch,
    NotUtf8,
    RaggedRow,
    _check_header,
    _where,
    check_file,
    open_text,
)
from snowseg.loading.scan import BOM, RecordLines
from snowseg.loading.splitting import DEFAULT_TARGET_BYTES, Chunk, split_csv

CONTRACT = load_contract()
HEADER = ",".join(CONTRACT.header).encode()
ROW = (b"750-67-8428,A,Yangon,Member,Female,Health and beauty,74.69,7,26.1415,548.9715,1/5/2019,13:08,Ewallet,"
       b"522.83,4.761904762,26.1415,9.1")
SMALL = replace(CONTRACT, columns=CONTRACT.columns[:3])  # header Invoice ID,Branch,City
SMALL_HEADER = ",".join(SMALL.header).encode()
QUOTED = b'"x, ""y""\nz",B,"Yan\r\ngon"'  # a delimiter, doubled quotes, a newline and a CRLF inside quotes
BLOCKS = [1, 7, 64, scan.BLOCK_BYTES]  # bytes read at a time: every file crosses block boundaries, or none


def _rows(n: int, sep: bytes = b"\n") -> bytes:
    return b"".join(ROW.replace(b"750", str(i).encode()) + sep for i in range(n))


#: (file bytes, contract); every file is also checked gzip-compressed
FILES: dict[str, tuple[bytes, DatasetContract]] = {
    "plain": (HEADER + b"\n" + _rows(40), CONTRACT),
    "no-final-newline": (HEADER + b"\n" + _rows(40)[:-1], CONTRACT),
    "crlf": (HEADER + b"\r\n" + _rows(40, b"\r\n"), CONTRACT),
    "lone-cr": (HEADER + b"\n" + _rows(20) + ROW + b"\r" + _rows(20), CONTRACT),
    "lone-cr-in-quotes": (SMALL_HEADER + b"\n" + b'1,"a\rb",c\n' * 30, SMALL),
    "blank-lines": (HEADER + b"\n\n\n" + _rows(10) + b"\n\r\n" + _rows(10) + b"\n\n", CONTRACT),
    "blank-first-line": (b"\n" + HEADER + b"\n" + _rows(3), CONTRACT),
    "only-blank-lines": (HEADER + b"\n\n\n\n", CONTRACT),
    "spaces-line": (SMALL_HEADER + b"\n1,2,3\n  \n4,5,6\n", SMALL),
    "bom": (BOM + HEADER + b"\n" + _rows(5), CONTRACT),
    "bom-only": (BOM, CONTRACT),
    "empty": (b"", CONTRACT),
    "header-only": (HEADER + b"\n", CONTRACT),
    "header-no-newline": (HEADER, CONTRACT),
    "other-header": (b"a,b\n1,2\n", CONTRACT),
    "quoted": (SMALL_HEADER + b"\n" + (QUOTED + b"\n1,2,3\n") * 40, SMALL),
    "quoted-header": (b'"Invoice ID","Bra\nnch",City\n1,2,3\n' + QUOTED + b"\n", SMALL),
    "quoted-empty-and-long": (SMALL_HEADER + b"\n" + b'"",,""\n' + b'"' + b"q\n" * 500 + b'",2,3\n' + b"1,2,3\n" * 9,
                              SMALL),
    "quote-inside-field": (SMALL_HEADER + b"\n" + b"1,2,3\n" * 30 + b'1,a"b,3\n' + b"1,2,3\n" * 30, SMALL),
    "text-after-closing-quote": (SMALL_HEADER + b"\n" + b"1,2,3\n" * 30 + b'1,"a"b,3\n' + b"1,2,3\n" * 30, SMALL),
    "unclosed-quote": (SMALL_HEADER + b"\n" + b"1,2,3\n" * 30 + b'1,"open,3\n4,5,6\n', SMALL),
    # no record ends by quote parity for many blocks: read by lines from there (memory stays a few blocks)
    "unclosed-quote-early": (SMALL_HEADER + b"\n" + b'1,"open,3\n' + b"4,5,6\n" * 300, SMALL),
    "ragged-first-and-last": (SMALL_HEADER + b"\n1,2\n" + b"1,2,3\n" * 50 + b"1,2,3,4\n" + b'"a\nb",2,"c\nd",4', SMALL),
    "ragged-quoted-newlines": (SMALL_HEADER + b"\n" + b'"a\nb",2,"c\nd",4,"e\nf"\n' * 3 + b'"a\nb","c\nd"\n' * 3,
                               SMALL),
    "ragged-many": (SMALL_HEADER + b"\n" + b"1,2\n" * 25 + b"1,2,3\n" * 5, SMALL),
    "all-ragged-wrong-delimiter": (SMALL_HEADER + b"\n" + b"1;2;3\n" * 30, SMALL),
    "nul": (SMALL_HEADER + b"\n" + b"1,\x002,3\n" * 20, SMALL),
    "latin-1": (HEADER + b"\n" + _rows(30).replace(b"Yangon", b"Yang\xf3n"), CONTRACT),
    "latin-1-in-quotes-and-crlf": (SMALL_HEADER + b"\r\n" + b'1,"\xe9\r\n\xe9",3\r\n' * 20, SMALL),
    "utf-8-multibyte": (SMALL_HEADER + b"\n" + "1,\u00e9t\u00e9 \u20ac \U0001f600,3\n".encode() * 40, SMALL),
    "truncated-utf-8": (SMALL_HEADER + b"\n" + b"1,2,\xe2\x82\n" * 20 + b"1,2,\xe2", SMALL),
    "bad-header-byte": (SMALL_HEADER.replace(b"City", b"C\xefty") + b"\n1,2,3\n", SMALL),
}


def _variants() -> list[Any]:
    out = []
    for name, (data, contract) in FILES.items():
        out.append(pytest.param(data, contract, False, id=name))
        out.append(pytest.param(data, contract, True, id=f"{name}-gz"))
    return out


def _outcome(fn, *args, **kwargs) -> Any:
    """The result, or the refusal as (type, its fields, its message)."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # compared whole: type, every field and the message
        return type(e), {k: v for k, v in vars(e).items() if not k.startswith("__")}, str(e)


def _write(tmp_path: Path, data: bytes, gz: bool) -> Path:
    p = tmp_path / ("f.csv.gz" if gz else "f.csv")
    p.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return p


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize(("data", "contract", "gz"), _variants())
def test_check_file_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes,
                              contract: DatasetContract, gz: bool, block: int):
    monkeypatch.setattr(scan, "BLOCK_BYTES", block)
    p = _write(tmp_path, data, gz)
    for ragged in ("refuse", "collect"):
        assert _outcome(check_file, p, contract, max_mb=1, ragged=ragged) == \
            _outcome(_reference_check, p, contract, max_mb=1, ragged=ragged)


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize(("data", "contract", "gz"), _variants())
def test_split_csv_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes,
                             contract: DatasetContract, gz: bool, block: int):
    monkeypatch.setattr(scan, "BLOCK_BYTES", block)
    p = _write(tmp_path, data, gz)
    for target, every in [(1, 1), (1, 3), (10**9, 4)]:  # a chunk per record, per 3 records, one chunk
        got = _split_outcome(split_csv, p, tmp_path / f"new-{every}", target, every)
        assert got == _split_outcome(_reference_split, p, tmp_path / f"old-{every}", target, every), (target, every)


def _split_outcome(fn, p: Path, out: Path, target: int, every: int) -> Any:
    try:
        chunks = fn(p, out, target_bytes=target, rows_per_check=every)
    except UnicodeDecodeError as e:  # where in the stream it is found differs; that it is found does not
        return type(e)
    return [(c.name, c.source, c.first_line, c.first_row, c.rows, c.raw_bytes,
             gzip.decompress(Path(c.path).read_bytes())) for c in chunks]


def test_chunks_are_gzip_members_of_the_stated_size_and_hash(tmp_path: Path):
    src = tmp_path / "s.csv"
    src.write_bytes(FILES["quoted"][0])
    for c in split_csv(src, tmp_path / "out", target_bytes=300, rows_per_check=5):
        raw = Path(c.path).read_bytes()
        assert (c.gz_bytes, c.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
        with gzip.open(c.path) as f:  # the stream's own CRC and length are checked on the way
            assert len(f.read()) == c.raw_bytes


def test_random_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Files of random bytes from the characters that matter, blocks of random size."""
    rnd = random.Random(15)
    alphabet = [b"a", b"b", b",", b",", b'"', b"\n", b"\n", b"\r", b"\r\n", b" ", "\u00e9".encode(), b"\xe9"]
    for i in range(300):
        body = b"".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 120)))
        if rnd.random() < 0.5:  # mostly clean quoting, so the fast path runs too
            body = body.replace(b'"', b"")
            body += b"".join(b'1,"a,""\n",' + rnd.choice(alphabet) + b"\n" for _ in range(rnd.randint(0, 5)))
        data = SMALL_HEADER + b"\n" + body
        monkeypatch.setattr(scan, "BLOCK_BYTES", rnd.choice([4, 16, 100]))
        p = _write(tmp_path, data, rnd.random() < 0.2)
        for ragged in ("refuse", "collect"):
            assert _outcome(check_file, p, SMALL, max_mb=1, ragged=ragged) == \
                _outcome(_reference_check, p, SMALL, max_mb=1, ragged=ragged), (i, data)
        every = rnd.choice([2, 3, 1000])
        got = _split_outcome(split_csv, p, tmp_path / f"n{i}", 1, every)
        assert got == _split_outcome(_reference_split, p, tmp_path / f"o{i}", 1, every), (i, data)


def test_corrupt_gzip_is_refused_as_before(tmp_path: Path):
    whole = gzip.compress(HEADER + b"\n" + _rows(2000), mtime=0)
    for name, data in {"truncated": whole[: len(whole) // 2], "garbage-after": whole + b"garbage",
                       "bad-crc": whole[:-8] + b"\0\0\0\0" + whole[-4:], "only-magic": GZIP_MAGIC}.items():
        p = tmp_path / f"{name}.csv.gz"
        p.write_bytes(data)
        got, want = _outcome(check_file, p, CONTRACT), _outcome(_reference_check, p, CONTRACT)
        assert got[:2] == want[:2] and got[0] is CorruptGzip, name  # the zlib detail in the message may differ


def test_missing_and_too_large_as_before(tmp_path: Path):
    p = tmp_path / "big.csv"
    p.write_bytes(HEADER + b"\n" + _rows(100))
    assert _outcome(check_file, p, CONTRACT, max_mb=0.001) == _outcome(_reference_check, p, CONTRACT, max_mb=0.001)
    assert _outcome(check_file, tmp_path / "nope.csv", CONTRACT) == \
        _outcome(_reference_check, tmp_path / "nope.csv", CONTRACT)


def test_bad_ragged_option(tmp_path: Path):
    p = _write(tmp_path, HEADER + b"\n" + _rows(3), False)
    assert _outcome(check_file, p, CONTRACT, ragged="pad") == _outcome(_reference_check, p, CONTRACT, ragged="pad")


def test_memory_is_bounded_by_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A file of 40 blocks is read a block at a time: no read asks for more than a block."""
    monkeypatch.setattr(scan, "BLOCK_BYTES", 4096)
    p = _write(tmp_path, HEADER + b"\n" + _rows(1300), False)
    sizes: list[int] = []
    read = scan.Source.read

    def spy(self: scan.Source, n: int) -> bytes:
        sizes.append(n)
        return read(self, n)

    monkeypatch.setattr(scan.Source, "read", spy)
    info = check_file(p, CONTRACT, max_mb=1)
    chunks = split_csv(p, tmp_path / "out", target_bytes=1, rows_per_check=100)
    assert (info.rows, sum(c.rows for c in chunks)) == (1300, 1300)
    assert len(sizes) > 80 and max(sizes) == 4096


# The implementations the scan replaced ---------------------------------------------------------------------------


def _reference_check(path: str | Path, contract: DatasetContract, max_mb: float | None = None, *,
               ragged: str = "refuse") -> FileInfo:
    """check_file as it was before the scan (reads the whole file, csv.reader per record)."""
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
    raw = p.read_bytes()
    data = _gunzip(p, raw) if raw.startswith(GZIP_MAGIC) else raw
    if not data:
        raise HeaderMismatch(f"{p}: the file is empty; expected a header line: {','.join(contract.header)}",
                             line=1, column=1)
    if ragged not in ("refuse", "collect"):
        raise ValueError(f"ragged {ragged!r}: use 'refuse' or 'collect'")
    has_bom = data.startswith(BOM)
    body = data[len(BOM):] if has_bom else data
    text, bad_bytes = _decode(body)
    header, rows, bad = _scan(text, contract)
    if bad_bytes:
        raise _not_utf8(p, body, bad_bytes, contract, rows)
    _check_header(p, contract, header, rows)
    if bad and ragged == "refuse":
        listed = "; ".join(f"line {b['line']} has {b['fields']} fields" for b in bad[:LISTED])
        more = f" (and {len(bad) - LISTED} more)" if len(bad) > LISTED else ""
        raise RaggedRow(
            f"{p}: {len(bad)} record(s) with another number of fields than the header's {len(header)}: {listed}"
            f"{more}; fix the rows or quote fields that contain the delimiter. Nothing was loaded from this file",
            records=bad[:LISTED], total=len(bad), rows=rows,
        )
    return FileInfo(
        path=str(p.resolve()), name=p.name, bytes=size, sha256=hashlib.sha256(raw).hexdigest(), rows=rows,
        has_bom=has_bom, ragged=bad,
    )




def _scan(text: str, contract: DatasetContract) -> tuple[list[str], int, list[dict]]:
    """The header, the number of records and the ragged ones (first line, physical lines, the line Snowflake reports
    the error at, field number, contract column, field count, record number; never the record's text, which would
    travel through XCom). Blank lines are not records: the contract's format skips them (SKIP_BLANK_LINES)."""
    lines = RecordLines(io.StringIO(text, newline=""))
    reader = csv.reader(lines, delimiter=contract.csv.delimiter, quotechar=contract.csv.quote)
    header = next(reader, [])
    lines.take()
    rows, bad = 0, []
    width = len(header)
    while True:
        start = lines.line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        lines.take()
        if not record:
            continue
        rows += 1
        if len(record) != width:
            field = min(len(record), width) + 1
            name = contract.columns[field - 1].column if field <= len(contract.columns) else None
            # Snowflake reports the line of the field where the count goes wrong: the first extra field's, or the
            # record's last line when fields are missing (a quoted field may span lines)
            at = start + (sum(f.count("\n") for f in record[:width]) if len(record) > width else lines.line - start)
            bad.append({"line": start, "lines": lines.line - start + 1, "error_line": at, "column": field,
                        "fields": len(record), "row": rows, "column_name": name})
    return header, rows, bad


def _gunzip(path: Path, raw: bytes) -> bytes:
    """The decompressed bytes of a gzip file; CorruptGzip if it is truncated or damaged."""
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise CorruptGzip(
            f"{path}: the gzip stream is truncated or corrupt ({e}); nothing was loaded from it. "
            "Re-create or re-download the file (check its size against the source)"
        ) from None


_bad_positions = threading.local()


def _note_bad_byte(e: UnicodeError) -> tuple[str, int]:
    assert isinstance(e, UnicodeDecodeError)
    _bad_positions.found.append(e.start)
    return "\ufffd", e.end


codecs.register_error("snowseg_reference_bad_byte", _note_bad_byte)


def _decode(data: bytes) -> tuple[str, list[int]]:
    """The text (bad bytes as U+FFFD) and the offsets of the bytes that are not valid UTF-8 (one pass)."""
    _bad_positions.found = []
    try:
        return data.decode("utf-8", errors="snowseg_reference_bad_byte"), _bad_positions.found
    finally:
        _bad_positions.found = []




def _not_utf8(path: Path, data: bytes, positions: list[int], contract: DatasetContract, rows: int) -> NotUtf8:
    """NotUtf8 listing each line with bad bytes (the first ten: line, field, column, character), counting all."""
    lines: list[dict] = []
    total, line_no, scanned, last_line = 0, 1, 0, 0
    for pos in positions:
        line_no += data.count(b"\n", scanned, pos)
        scanned = pos
        if line_no == last_line:
            continue
        last_line, total = line_no, total + 1
        if len(lines) >= LISTED:
            continue
        line_start = data.rfind(b"\n", 0, pos) + 1
        prefix = data[line_start:pos].decode("utf-8", errors="replace")
        field = len(next(csv.reader([prefix], delimiter=contract.csv.delimiter, quotechar=contract.csv.quote),
                         [""])) if prefix else 1
        lines.append({"line": line_no, "column": field, "character": len(prefix) + 1,
                      "header": contract.header[field - 1] if field <= len(contract.header) else None,
                      "column_name": contract.columns[field - 1].column if field <= len(contract.columns) else None})
    listed = "; ".join(f"line {x['line']}, {_where(x['column'], x['header'])}, character {x['character']}"
                       for x in lines)
    more = f" (and {total - LISTED} more)" if total > LISTED else ""
    return NotUtf8(
        f"{path}: {total} line(s) with bytes that are not valid UTF-8: {listed}{more}; re-save the file as UTF-8 (it "
        "looks like Latin-1/Windows-1252 if accented letters are involved). Nothing was loaded from this file",
        lines=lines, total=total, rows=rows,
    )




def _reference_split(
    path: str | Path,
    out_dir: str | Path,
    *,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    delimiter: str = ",",
    quotechar: str = '"',
    rows_per_check: int = 1000,
    compresslevel: int = 1,
) -> list[Chunk]:
    """split_csv as it was before the scan (csv.reader per record, one gzip stream per chunk)."""
    if target_bytes < 1:
        raise InputError(f"target_bytes must be >= 1, got {target_bytes}")
    src = Path(path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = src.name.split(".")[0]
    chunks: list[Chunk] = []

    with open_text(src) as f:
        header = f.readline()
        tracker = RecordLines(f, first_line=1)  # the header is line 1
        reader = csv.reader(tracker, delimiter=delimiter, quotechar=quotechar)
        writer = None
        row_no = 0
        while True:
            record_start_line = tracker.line + 1
            try:
                next(reader)
            except StopIteration:
                break
            text = tracker.take()
            if not text.strip("\r\n"):
                # a blank line is no record: the contract's format skips it (SKIP_BLANK_LINES = TRUE, migration
                # dataset/V003). Inside a chunk it is kept, so that the chunk's lines stay the source's lines
                # (source_line); before a chunk's first record it is dropped (first_line is that record's line).
                if writer is not None:
                    writer.write_blank(text)
                continue
            row_no += 1
            if writer is None:
                writer = _ChunkWriter(out, stem, len(chunks) + 1, src, header, record_start_line, row_no,
                                      compresslevel)
            writer.write(text)
            if writer.rows % rows_per_check == 0 and writer.gz_bytes() >= target_bytes:
                chunks.append(writer.close())
                writer = None
        if writer is None and not chunks:
            writer = _ChunkWriter(out, stem, 1, src, header, 2, 1, compresslevel)
        if writer is not None:
            chunks.append(writer.close())
    return chunks




class _ChunkWriter:
    """Writes one gzip chunk and measures it."""

    def __init__(self, out: Path, stem: str, index: int, src: Path, header: str, first_line: int, first_row: int,
                 compresslevel: int):
        self.name = f"{stem}.part-{index:05d}.csv.gz"
        self.path = out / self.name
        self.src, self.first_line, self.first_row = src, first_line, first_row
        self._raw = self.path.open("wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=compresslevel, mtime=0)
        self.rows = 0
        self.raw_bytes = 0
        self._write(header if header.endswith("\n") else header + "\n")

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        self._gz.write(data)
        self.raw_bytes += len(data)

    def write(self, record_text: str) -> None:
        self._write(record_text if record_text.endswith("\n") else record_text + "\n")
        self.rows += 1

    def write_blank(self, line: str) -> None:
        """A blank line between records: written, not counted."""
        self._write(line if line.endswith("\n") else line + "\n")

    def gz_bytes(self) -> int:
        # zlib holds output back until a block fills; a sync flush (only every rows_per_check records)
        # makes the size on disk exact at a small cost in ratio
        self._gz.flush(zlib.Z_SYNC_FLUSH)
        return self._raw.tell()

    def close(self) -> Chunk:
        self._gz.close()
        self._raw.close()
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return Chunk(
            name=self.name, path=str(self.path), source=str(self.src), first_line=self.first_line,
            first_row=self.first_row, rows=self.rows, raw_bytes=self.raw_bytes, gz_bytes=self.path.stat().st_size,
            sha256=digest,
        )
