"""Read a staged CSV file in batches of whole records, keeping the line numbers Snowflake reports errors with.

Emulates Snowflake's CSV parsing for loading: decompression (COMPRESSION = AUTO detects gzip/bz2
by content, GZIP, BZ2, NONE), SKIP_BYTE_ORDER_MARK (default TRUE strips a UTF-8 BOM),
SKIP_HEADER (physical lines), FIELD_DELIMITER, FIELD_OPTIONALLY_ENCLOSED_BY with doubled quotes
inside enclosed fields, delimiters and newlines inside enclosed fields, \\n or \\r\\n record
delimiters, SKIP_BLANK_LINES (default FALSE: a blank line is a record of one empty field), TRIM_SPACE, and
ESCAPE_UNENCLOSED_FIELD (default backslash): in an unenclosed field the escape character is dropped and the
character after it is taken literally, be it the delimiter, itself, or the line's newline (the record then
goes on on the next line: "If a row in a data file ends in the backslash (\\) character, this character
escapes the newline"); a field written exactly as a NULL_IF string (the default \\N) is NULL. Invalid UTF-8
bytes survive decoding (as surrogate escapes) so the loader can reject just the affected records, or they are
replaced by U+FFFD with REPLACE_INVALID_CHARACTERS = TRUE.

The file is streamed: batches() decompresses it and cuts it into Batches of about BATCH_BYTES
(SNOWSEG_TWIN_COPY_BATCH_BYTES) at record boundaries, so memory is bounded by a batch, not by the file.
A batch is either
- fast: bytes pyarrow's CSV reader parses exactly as Python's csv module does (checked: valid UTF-8,
  no blank line, no lone CR, no NUL, no escape character, and every enclosing quote opens at a field's
  start and closes at its end, so quote parity finds record boundaries); its record n starts on line first_line + n plus
  the newlines inside the records before it;
- exact: records already parsed by Python's csv module (or, when the data holds the
  ESCAPE_UNENCLOSED_FIELD character, by _EscapingReader), for anything else. Once a batch's quoting is
  not clean, or an escape character appears, the rest of the file is read this way (quote parity can no
  longer find boundaries).
CsvFile gives an exact batch's (or a fast batch's, when it has rejected records) raw records and field
positions; character positions are only computed when a record is rejected.

Differs from Snowflake: an enclosed empty field ("") is indistinguishable from an empty one, so
EMPTY_FIELD_AS_NULL applies to both; a blank line is a record with one empty field unless
SKIP_BLANK_LINES = TRUE.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from snowseg_twin import copy_batch_bytes
from snowseg_twin.extensions._copy_options import CsvFormat

_INVALID = re.compile("[\udc80-\udcff]")
BATCH_BYTES = copy_batch_bytes()  # tests shrink it to cross batch boundaries on small files
_READ_BYTES = 8 << 20


def _compression(head: bytes, fmt: CsvFormat) -> str:
    compression = fmt.compression
    if compression in {"AUTO", "AUTO_DETECT"}:
        compression = "GZIP" if head[:2] == b"\x1f\x8b" else "BZ2" if head[:3] == b"BZh" else "NONE"
    return compression


def open_data(path: str, fmt: CsvFormat) -> IO[bytes]:
    """The staged file's bytes, decompressed as COMPRESSION says, as a stream.

    gzip is read through Arrow's stream (C++, GIL released: ~1.7x Python's gzip module on one core, which matters
    as the COPY's reader thread decompresses while the statement's thread converts).
    """
    raw = open(path, "rb")  # noqa: SIM115 - returned (or wrapped) open
    compression = _compression(raw.peek(3)[:3], fmt)
    if compression == "GZIP":
        raw.close()
        return pa.CompressedInputStream(pa.OSFile(path), "gzip")  # type: ignore[return-value]
    if compression == "BZ2":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    return raw


def read_text(path: str, fmt: CsvFormat) -> str:
    with open_data(path, fmt) as f:
        data = f.read()
    if fmt.skip_byte_order_mark and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors=_errors(fmt))


def _errors(fmt: CsvFormat) -> str:
    return "replace" if fmt.replace_invalid_characters else "surrogateescape"


def has_invalid_utf8(text: str) -> bool:
    return _INVALID.search(text) is not None


def invalid_utf8(field: str) -> str | None:
    """The field as Snowflake shows it in an invalid UTF-8 error (bad bytes as 0xNN), or None if valid."""
    if not _INVALID.search(field):
        return None
    return _INVALID.sub(lambda m: f"0x{ord(m[0]) - 0xDC00:02X}", field)


def _reader(lines: Iterator[str], fmt: CsvFormat) -> Iterator[list[str]]:
    if fmt.escape_unenclosed is not None:
        return _EscapingReader(lines, fmt)
    kwargs = (
        {"quotechar": fmt.quote, "doublequote": True, "quoting": csv.QUOTE_MINIMAL}
        if fmt.quote
        else {"quoting": csv.QUOTE_NONE}
    )
    return csv.reader(lines, delimiter=fmt.field_delimiter, strict=False, **kwargs)


class _EscapingReader:
    """Records as csv.reader yields them (lists of fields, [] for a blank line, ``line_num``), for a format with an
    ESCAPE_UNENCLOSED_FIELD character.

    Python's csv module applies its escapechar inside enclosed fields too, where Snowflake's ESCAPE_UNENCLOSED_FIELD
    does not apply; so this reads them itself: an enclosed field as csv does (doubled quotes, newlines inside, text
    after the closing quote appended), an unenclosed one with the escape character taking the next character
    literally. An unenclosed field written exactly as a NULL_IF string is returned as written, so that it is NULL.
    """

    def __init__(self, lines: Iterator[str], fmt: CsvFormat) -> None:
        self.lines = iter(lines)
        self.line_num = 0
        self.delimiter, self.quote, self.escape = fmt.field_delimiter, fmt.quote, fmt.escape_unenclosed
        self.null_if = fmt.null_if

    def __iter__(self) -> _EscapingReader:
        return self

    def _next_line(self) -> str | None:
        line = next(self.lines, None)
        if line is not None:
            self.line_num += 1
        return line

    def __next__(self) -> list[str]:
        line = self._next_line()
        if line is None:
            raise StopIteration
        if line in ("\n", "\r\n"):
            return []
        fields: list[str] = []
        i = 0
        while True:
            if self.quote is not None and line[i : i + 1] == self.quote:
                value, line, i = self._enclosed(line, i + 1)
            else:
                value, line, i = self._unenclosed(line, i)
            fields.append(value)
            if i < len(line) and line[i] == self.delimiter:
                i += 1
                continue
            return fields

    def _enclosed(self, line: str, i: int) -> tuple[str, str, int]:
        """The field whose opening quote is before line[i]: (value, line, index after it)."""
        out: list[str] = []
        while True:
            if i >= len(line):
                nxt = self._next_line()
                if nxt is None:
                    break  # unterminated at the end of the data: what was read (csv's strict=False)
                line, i = nxt, 0
                continue
            ch = line[i]
            if ch == self.quote:
                if line[i + 1 : i + 2] == self.quote:
                    out.append(ch)
                    i += 2
                    continue
                i += 1
                break
            out.append(ch)
            i += 1
        while i < len(line) and line[i] != self.delimiter and line[i] not in "\r\n":
            out.append(line[i])  # after the closing quote, as csv's strict=False keeps it
            i += 1
        return "".join(out), line, i

    def _unenclosed(self, line: str, i: int) -> tuple[str, str, int]:
        """The unenclosed field starting at line[i]: (value, line, index of the delimiter or line end after it)."""
        out: list[str] = []
        raw: list[str] = []
        while i < len(line):
            ch = line[i]
            if ch == self.escape and i + 1 < len(line):
                nxt = line[i + 1 :] if line[i + 1 :] in ("\n", "\r\n") else line[i + 1]
                out.append(nxt)
                raw.append(ch + nxt)
                i += 1 + len(nxt)
                if i >= len(line):  # an escaped newline: the record goes on on the next line
                    following = self._next_line()
                    if following is None:
                        break
                    line, i = following, 0
                continue
            if ch == self.delimiter or ch == "\n" or (ch == "\r" and line[i + 1 : i + 2] == "\n"):
                break
            out.append(ch)
            raw.append(ch)
            i += 1
        written = "".join(raw)
        return (written if written in self.null_if else "".join(out)), line, i


@dataclass
class CsvFile:
    """Physical lines of (part of) a file, from line first_line on, and their data records."""

    lines: list[str]  # with line endings
    fmt: CsvFormat
    first_line: int = 1
    records_: list[tuple[list[str], int, int]] | None = None  # already parsed (an exact batch)

    @classmethod
    def parse(cls, text: str, fmt: CsvFormat, first_line: int = 1) -> CsvFile:
        lines = text.split("\n")
        last = lines.pop()
        lines = [line + "\n" for line in lines]
        if last:
            lines.append(last)
        return cls(lines, fmt, first_line)

    def records(self) -> Iterator[tuple[list[str], int, int]]:
        """Yield (fields, first line, last line) per data record; lines are 1-based, in the file."""
        if self.records_ is None:
            self.records_ = list(_records(iter(self.lines), self.fmt, self.first_line))
        yield from self.records_

    def raw_record(self, start: int, end: int) -> str:
        return "".join(self.lines[start - self.first_line : end - self.first_line + 1]).rstrip("\r\n")

    def field_position(self, start: int, end: int, index: int) -> tuple[int, int]:
        """(line, character) where field `index` (0-based) of the record on lines start..end begins.

        For an index past the last field, the position just after the record's end.
        """
        text = self.raw_record(start, end)
        offsets = _field_offsets(text, self.fmt.field_delimiter, self.fmt.quote, self.fmt.escape_unenclosed)
        offset = offsets[index] if index < len(offsets) else len(text)
        line = start + text.count("\n", 0, offset)
        line_start = text.rfind("\n", 0, offset) + 1
        return line, offset - line_start + 1


def _records(lines: Iterator[str], fmt: CsvFormat, first_line: int) -> Iterator[tuple[list[str], int, int]]:
    reader = _reader(lines, fmt)
    end = first_line - 1
    for fields in reader:
        start, end = end + 1, first_line - 1 + reader.line_num
        if not fields:
            if fmt.skip_blank_lines:
                continue
            fields = [""]
        if fmt.trim_space:
            fields = [f.strip() for f in fields]
        yield fields, start, end


def _field_offsets(text: str, delimiter: str, quote: str | None, escape: str | None = None) -> list[int]:
    offsets = [0]
    in_quotes = False
    i = 0
    while i < len(text):
        ch = text[i]
        if not in_quotes and ch == escape and ch != quote:
            i += 2  # the escaped character is the field's, whatever it is
            continue
        if in_quotes:
            if ch == quote:
                if i + 1 < len(text) and text[i + 1] == quote:
                    i += 1
                else:
                    in_quotes = False
        elif ch == quote and i == offsets[-1]:
            in_quotes = True
        elif ch == delimiter:
            offsets.append(i + 1)
        i += 1
    return offsets


@dataclass
class Batch:
    """Consecutive whole records of a file."""

    first_line: int  # physical line (1-based, header lines counted) the batch starts on
    first_row: int  # 1-based record number of the batch's first record in the file
    rows: int  # records in the batch
    lines: int  # physical lines the batch spans
    table: pa.Table | None = None  # a fast batch's fields: string columns f0, f1, ... (all records alike)
    data: bytes = b""  # a fast batch's bytes (decompressed, BOM and header removed)
    quoted: bool = False  # a fast batch contains quote characters (records may span lines)
    exact: CsvFile | None = None  # an exact batch's lines and parsed records

    def csv_file(self, fmt: CsvFormat) -> CsvFile:
        """The batch's lines, for raw records and field positions."""
        if self.exact is None:
            self.exact = CsvFile.parse(self.data.decode("utf-8", _errors(fmt)), fmt, self.first_line)
        return self.exact


def _fast_format(fmt: CsvFormat) -> bool:
    """Whether pyarrow can parse this format at all (single-byte delimiter and quote, no TRIM_SPACE)."""
    return (
        not fmt.trim_space
        and len(fmt.field_delimiter.encode()) == 1
        and fmt.field_delimiter not in "\r\n"
        and (fmt.quote is None or (len(fmt.quote.encode()) == 1 and fmt.quote not in "\r\n"))
        and fmt.quote != fmt.field_delimiter
    )


def _plain_bytes(data: bytes, quoted: bool) -> bool:
    """No lone CR, NUL or invalid UTF-8, nor (if quoted) a blank line: pyarrow reads records as Python's csv
    module does. (pyarrow skips blank lines: without quotes, a record count short of the lines shows them.)"""
    if b"\x00" in data or (quoted and (data.startswith((b"\n", b"\r\n")) or b"\n\n" in data)):
        return False
    if b"\r" in data and (b"\n\r\n" in data or data.count(b"\r") != data.count(b"\r\n")):
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def clean_quotes(data: bytes, quote: int, delimiter: int) -> bool:
    """Whether every quote opens a field at its start and closes it at its end (doubled quotes inside).

    Then quote parity tells exactly where Python's csv module is inside an enclosed field.
    """
    a = np.frombuffer(data, dtype=np.uint8)
    pos = np.flatnonzero(a == quote)
    if len(pos) % 2:
        return False
    opens, closes = pos[0::2], pos[1::2]
    if len(opens) == 0:
        return True
    # an opening quote follows a delimiter, a newline, the batch start, or the closing quote it doubles
    before = np.where(opens > 0, a[np.maximum(opens - 1, 0)], ord("\n"))
    doubled_open = np.zeros(len(opens), dtype=bool)
    doubled_open[1:] = opens[1:] == closes[:-1] + 1
    ok_open = (before == delimiter) | (before == ord("\n")) | doubled_open
    # a closing quote precedes a delimiter, a line end, the batch end, or the opening quote that doubles it
    after = np.where(closes + 1 < len(a), a[np.minimum(closes + 1, len(a) - 1)], ord("\n"))
    doubled_close = np.zeros(len(closes), dtype=bool)
    doubled_close[:-1] = closes[:-1] + 1 == opens[1:]
    ok_close = (after == delimiter) | (after == ord("\n")) | (after == ord("\r")) | doubled_close
    return bool(ok_open.all() and ok_close.all())


def _cut(buf: bytes, quote: bytes | None) -> int | None:
    """Where the last whole record of buf ends (after its newline), by quote parity; None if none does."""
    nl = buf.rfind(b"\n")
    if nl < 0:
        return None
    if quote is None or buf.find(quote, 0, nl + 1) < 0:
        return nl + 1
    quotes = buf.count(quote, 0, nl + 1)
    while quotes % 2:
        prev = buf.rfind(b"\n", 0, nl)
        if prev < 0:
            return None
        quotes -= buf.count(quote, prev + 1, nl + 1)
        nl = prev
    return nl + 1


class _Stream:
    """Decompressed bytes of a staged file, read in large blocks, with the BOM removed."""

    def __init__(self, path: str, fmt: CsvFormat) -> None:
        self.f = open_data(path, fmt)
        self.fmt = fmt
        self.first = True

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if self.first:
            self.first = False
            if self.fmt.skip_byte_order_mark and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
        return data

    def close(self) -> None:
        self.f.close()


def batches(path: str, fmt: CsvFormat, batch_bytes: int | None = None) -> Iterator[Batch]:
    """The staged file's data records (header lines skipped) as Batches of about batch_bytes.

    The next batch is read, decompressed and parsed in a thread while the caller converts this one.
    """
    size = max(1, batch_bytes or BATCH_BYTES)

    def produce() -> Iterator[Batch]:
        stream = _Stream(path, fmt)
        try:
            yield from _batches(stream, fmt, size)
        finally:
            stream.close()

    return _prefetched(produce())


def _prefetched(items: Iterator[Batch]) -> Iterator[Batch]:
    """items, produced one ahead in a thread (pyarrow, zlib and DuckDB release the GIL)."""
    slots: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                slots.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put("end", None)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put("error", e)
        finally:
            items.close()  # type: ignore[attr-defined]

    thread = threading.Thread(target=run, name="copy batch reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def _batches(stream: _Stream, fmt: CsvFormat, size: int) -> Iterator[Batch]:
    parts: list[bytes] = []
    have, eof = 0, False

    def fill(target: int) -> None:
        nonlocal have, eof
        while not eof and have < target:
            chunk = stream.read(max(target - have, _READ_BYTES))
            if not chunk:
                eof = True
            else:
                parts.append(chunk)
                have += len(chunk)

    # SKIP_HEADER counts physical lines
    line, skipped = 1, 0
    fill(1)
    buf = b"".join(parts)
    while skipped < fmt.skip_header:
        nl = buf.find(b"\n")
        while nl < 0 and not eof:
            fill(have + _READ_BYTES)
            buf = b"".join(parts)
            nl = buf.find(b"\n")
        if nl < 0:
            return  # fewer lines than the header
        buf = buf[nl + 1 :]
        parts[:] = [buf]
        have = len(buf)
        skipped += 1
        line += 1

    fast_format = _fast_format(fmt)
    quote = fmt.quote.encode() if fmt.quote else None
    escape = fmt.escape_unenclosed.encode() if fmt.escape_unenclosed else None
    row = 1
    target = size
    while True:
        fill(target)
        buf = b"".join(parts) if len(parts) != 1 else parts[0]
        if not buf:
            return
        if escape is not None and escape in buf:
            # escaped delimiters and newlines: neither pyarrow nor quote parity can read them
            yield from _exact_batches(buf, [], stream, fmt, size, line, row, eof)
            return
        cut = len(buf) if eof else _cut(buf, quote)
        if cut is None:
            target = have * 2  # one record longer than a batch: read on
            parts[:] = [buf]
            continue
        target = size
        data, rest = buf[:cut], buf[cut:]
        parts[:] = [rest] if rest else []
        have = len(rest)
        quoted = quote is not None and quote in data
        clean = not quoted or clean_quotes(data, quote[0], ord(fmt.field_delimiter))  # type: ignore[index]
        if not clean:
            # quote parity may have cut inside a record: Python's csv module reads everything left
            yield from _exact_batches(data, parts, stream, fmt, size, line, row, eof)
            return
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        table = _parse_fast(data, fmt, quoted) if fast_format and _plain_bytes(data, quoted) else None
        if table is not None and (quoted or table.num_rows == lines):
            yield Batch(line, row, table.num_rows, lines, table, data, quoted)
            row += table.num_rows
        else:
            csv_file = CsvFile.parse(data.decode("utf-8", _errors(fmt)), fmt, line)
            rows = sum(1 for _ in csv_file.records())
            yield Batch(line, row, rows, lines, exact=csv_file)
            row += rows
        line += lines


def _first_record(data: bytes, fmt: CsvFormat) -> list[str]:
    def lines() -> Iterator[str]:
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            end = len(data) if nl < 0 else nl + 1
            yield data[pos:end].decode("utf-8")
            pos = end

    return next(iter(_reader(lines(), fmt)), [])


def _parse_fast(data: bytes, fmt: CsvFormat, quoted: bool) -> pa.Table | None:
    """The batch's fields as string columns, or None if its records don't all have the first one's field count."""
    width = len(_first_record(data, fmt))
    if width == 0:
        return None
    invalid: list[object] = []

    def on_invalid(row: object) -> str:
        invalid.append(row)
        return "skip"

    names = [f"f{i}" for i in range(width)]
    table = pa_csv.read_csv(
        pa.py_buffer(data),
        read_options=pa_csv.ReadOptions(column_names=names, block_size=4 << 20),
        parse_options=pa_csv.ParseOptions(
            delimiter=fmt.field_delimiter,
            quote_char=fmt.quote or False,
            double_quote=True,
            escape_char=False,
            newlines_in_values=quoted,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return None if invalid else table


def _exact_batches(
    head: bytes, parts: list[bytes], stream: _Stream, fmt: CsvFormat, size: int, line: int, row: int, eof: bool
) -> Iterator[Batch]:
    """Batches of records parsed by Python's csv module, from head + what is left of the stream."""
    decoder = codecs.getincrementaldecoder("utf-8")(_errors(fmt))

    def texts() -> Iterator[str]:
        yield decoder.decode(head)
        for part in parts:
            yield decoder.decode(part)
        while not eof and (chunk := stream.read(_READ_BYTES)):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)

    pending: list[str] = []  # lines read since the batch began

    def lines() -> Iterator[str]:
        tail = ""
        for text in texts():
            pieces = (tail + text).split("\n")
            tail = pieces.pop()
            for piece in pieces:
                pending.append(piece + "\n")
                yield pending[-1]
        if tail:
            pending.append(tail)
            yield tail

    first = line
    records: list[tuple[list[str], int, int]] = []
    chars = 0
    for rec in _records(lines(), fmt, line):
        records.append(rec)
        chars += sum(map(len, rec[0]))
        if chars >= size:
            done = rec[2] - first + 1  # lines of the batch's records (the reader reads no further)
            csv_file = CsvFile(pending[:done], fmt, first, records)
            del pending[:done]
            yield Batch(first, row, len(records), done, exact=csv_file)
            row += len(records)
            first += done
            records, chars = [], 0
    if records or pending:
        csv_file = CsvFile(list(pending), fmt, first, records)
        yield Batch(first, row, len(records), len(pending), exact=csv_file)


def read_header(path: str, fmt: CsvFormat) -> list[str]:
    """The first record of a staged file (PARSE_HEADER): the column names, BOM dropped."""
    with open_data(path, fmt) as f:
        data = f.read(1 << 20)
    if fmt.skip_byte_order_mark and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return _first_record(data, fmt)
