"""Read a CSV file's records in large blocks, as Python's csv module reads them, without a csv call per record.

The file checks (:mod:`snowseg.loading.checks`) and the splitter (:mod:`snowseg.loading.splitting`) both
need each record's place (byte range, physical line, blank or not) and the checks its number of fields.
Reading a 1e7-row file record by record with :func:`csv.reader` takes minutes and reading it whole takes
gigabytes, so a :class:`Scanner` streams the file (plain or gzip) in blocks of about ``block_bytes``, cut at
record boundaries, and finds records by byte positions with numpy:

- fast blocks: no lone carriage return, and every quote opens a field at its start and closes it at its
  end (doubled quotes inside). Then a newline or delimiter is inside a quoted field exactly when an odd
  number of quotes precedes it, which is what the csv module's state machine would say; records end at
  the newlines outside quotes, and a record's field count is its delimiters outside quotes plus one;
- exact blocks: anything else (a lone CR, a quote in the middle of a field, an unclosed quote). From the
  first such block to the end of the file, records are read by :func:`csv.reader` over physical lines
  (universal newlines, as ``open(..., newline="")`` gives them), as the checks did before; quote parity
  cannot be trusted to find record boundaries any more.

Either way a :class:`Block` gives the same facts, so the callers never know which reader ran.
A blank line (nothing between two line ends) is no record of the file, as csv reads it (``[]``); the
contract's format skips it (SKIP_BLANK_LINES). Blocks are cut only after a newline, so no UTF-8
character is ever split between two blocks and each block decodes on its own.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
#: Bytes read, cut and scanned at a time (memory is a few blocks, whatever the file's size).
BLOCK_BYTES = 8 << 20
_NL, _CR = 10, 13


class Source:
    """A file's data bytes: gunzipped if it is gzip (by content, as COMPRESSION = AUTO), BOM dropped, read a block
    ahead in a thread (reading, gunzip and the hash release the GIL); with `hashed`, the sha256 of the file's own
    bytes as they are read."""

    def __init__(self, path: str | Path, *, hashed: bool = False):
        self._raw = open(path, "rb")  # closed by close()
        self._hash = hashlib.sha256() if hashed else None
        self.gzip = self._raw.read(2) == GZIP_MAGIC
        self._raw.seek(0)
        inner: IO[bytes] = _Hashing(self._raw, self._hash) if self._hash else self._raw  # type: ignore[assignment]
        self._data: IO[bytes] = gzip.GzipFile(fileobj=inner, mode="rb") if self.gzip else inner  # type: ignore[assignment]
        self._queue: queue.Queue[tuple[bytes, BaseException | None]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first, self._ended = True, False
        self.empty = False
        self.has_bom = False

    def read(self, n: int) -> bytes:
        """n data bytes (fewer at the end, b'' after it). The first call sets the size of every read."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._produce, args=(n,), name="snowseg-read", daemon=True)
            self._thread.start()
        data = self._next()
        if self._first:
            self._first = False
            self.empty = not data
            if data.startswith(BOM):
                self.has_bom, data = True, data[len(BOM):] or self._next()
        return data

    def _next(self) -> bytes:
        if self._ended:
            return b""
        data, error = self._queue.get()
        if error is not None:
            self._ended = True
            raise error
        self._ended = not data
        return data

    def _produce(self, n: int) -> None:
        try:
            size = max(n, len(BOM))  # the first read holds a whole BOM
            while True:
                data = self._data.read(size)
                size = n
                if not data and self._hash is not None:
                    while chunk := self._raw.read(n):  # what the gzip stream leaves unread is hashed too
                        self._hash.update(chunk)
                if not self._put(data, None) or not data:
                    return
        except BaseException as e:  # handed to the reader
            self._put(b"", e)

    def _put(self, data: bytes, error: BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put((data, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def sha256(self) -> str:
        """The hex sha256 of the whole file (reading what is left)."""
        assert self._hash is not None, "Source(hashed=True) hashes the file"
        while self.read(BLOCK_BYTES):
            pass
        return self._hash.hexdigest()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._data.close()
        self._raw.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Hashing(io.RawIOBase):
    """A raw binary file that hashes what is read through it."""

    def __init__(self, f: IO[bytes], h: hashlib._Hash):
        self._f, self._h = f, h

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._f.readinto(b)  # type: ignore[attr-defined]
        if n:
            self._h.update(memoryview(b)[:n])
        return n


@dataclass
class Block:
    """Whole records of the file (blank lines included), after the header.

    ``starts``/``ends`` are each record's byte range in ``data`` (``ends`` after its line end), ``line`` its first
    physical line in the file (the header is line 1), ``blank`` whether it is a blank line (no record).
    """

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    line: np.ndarray
    blank: np.ndarray


#: Called with each block's bytes that are not valid UTF-8: the block's data, the offsets of the bad bytes in
#: it, and how many newline bytes came before the block in the file.
BadBytes = Callable[[bytes, list[int], int], None]


@dataclass
class Scanner:
    """Streams `source`'s records as :class:`Block` s (see the module docstring).

    ``header`` says what the header is: ``"record"`` (the first record, as csv reads it: the checks) or
    ``"line"`` (the first physical line: the splitter, which copies it into every chunk). ``count_fields`` makes
    the scan collect ``ragged`` records as the checks report them (``names``: the contract's column names);
    ``end_lines`` gives every record and blank line in ``Block.data`` a newline at its end if it has none (a lone
    CR's line, the file's last record), as the splitter writes them; ``bad_bytes`` gets the bytes that are not
    UTF-8 (without it they raise UnicodeDecodeError). After the blocks: ``header_fields`` (the header as csv
    reads it), ``header_text`` (its bytes), ``rows`` (records, blank lines not counted), ``ragged``.
    """

    source: Source
    delimiter: str = ","
    quote: str | None = '"'
    header: str = "record"
    count_fields: bool = False
    end_lines: bool = False
    names: list[str] = field(default_factory=list)
    bad_bytes: BadBytes | None = None
    block_bytes: int = 0  # 0: BLOCK_BYTES
    # results
    header_fields: list[str] = field(default_factory=list)
    header_text: bytes = b""
    rows: int = 0
    ragged: list[dict] = field(default_factory=list)
    exact: bool = False  # whether the csv module read any part of the file

    def __post_init__(self) -> None:
        if self.header not in ("record", "line"):
            raise ValueError(f"header {self.header!r}: use 'record' or 'line'")
        self._d = ord(self.delimiter)
        self._q = ord(self.quote) if self.quote else None
        self._qb = self.quote.encode() if self.quote else None
        self._nl_seen = 0  # newline bytes in the blocks decoded so far (the UTF-8 error's line numbers count these)
        self._line = 1  # physical line of the next block's first byte
        self._width: int | None = None
        self._buf = b""
        self._eof = False
        self._block_newlines = 0
        self.block_bytes = self.block_bytes or BLOCK_BYTES

    # reading -----------------------------------------------------------------------------------------------------

    def _take(self, cut: Callable[[bytes], int | None]) -> tuple[bytes, bool, bool] | None:
        """The next piece of the file up to `cut` (all that is left at the end), whether it is the last, and whether
        it was cut at a line end instead, `cut` finding none in a few blocks (an unclosed quote)."""
        while True:
            if not self._eof:
                more = self.source.read(self.block_bytes)
                if more:
                    self._buf = self._buf + more if self._buf else more
                else:
                    self._eof = True
            if not self._buf:
                return None
            forced = False
            at = len(self._buf) if self._eof else cut(self._buf)
            if at is None and len(self._buf) > 2 * self.block_bytes:
                at, forced = self._cut_line(self._buf), True
            if at is not None and at > 0:
                data, self._buf = self._buf[:at], self._buf[at:]
                return data, self._eof and not self._buf, forced

    def _cut_record(self, buf: bytes) -> int | None:
        """After the last newline that ends a record by quote parity; None if there is none."""
        nl = buf.rfind(b"\n")
        if nl < 0:
            return None
        if self._qb is None or buf.find(self._qb, 0, nl + 1) < 0:
            return nl + 1
        quotes = buf.count(self._qb, 0, nl + 1)
        while quotes % 2:
            prev = buf.rfind(b"\n", 0, nl)
            if prev < 0:
                return None
            quotes -= buf.count(self._qb, prev + 1, nl + 1)
            nl = prev
        return nl + 1

    @staticmethod
    def _cut_line(buf: bytes) -> int | None:
        return buf.rfind(b"\n") + 1 or None

    def _check_text(self, data: bytes, want_text: bool, newlines: int | None = None) -> str:
        """Check data is UTF-8 (reporting bad bytes to bad_bytes, or raising) and count its newlines; its text if
        `want_text` (bad bytes as U+FFFD, as the checks read them)."""
        if data.isascii():
            text = data.decode("ascii") if want_text else ""
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                if self.bad_bytes is None:
                    raise
                text, bad = _decode_noting(data)
                self.bad_bytes(data, bad, self._nl_seen)
            if not want_text:
                text = ""
        self._nl_seen += data.count(b"\n") if newlines is None else newlines
        return text

    # blocks ------------------------------------------------------------------------------------------------------

    def blocks(self) -> Iterator[Block]:
        """The file's records in blocks, the header's taken out (``header_fields``/``header_text``)."""
        first = True
        while not self.exact:
            got = self._take(self._cut_record)
            if got is None:
                return
            data, last, forced = got
            block = None if forced else self._fast(data, last, first)
            if block is None:
                yield from self._exact(data, last, first)
                return
            self._check_text(data, want_text=False, newlines=self._block_newlines)
            first = False
            if len(block.blank):
                yield block

    def _fast(self, data: bytes, last: bool, first: bool) -> Block | None:
        """The block read by byte positions; None if it is not a fast block (module docstring)."""
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
            return None
        a = np.frombuffer(data, dtype=np.uint8)
        unended = data[-1] != _NL  # the file's last record, with no line end
        quotes = None
        if self._qb is not None and self._qb in data:
            quotes = np.flatnonzero(a == self._q)
            if not _clean_quotes(a, quotes, self._d):
                return None
        before_end = None  # delimiters (outside quotes) before each record's end
        if quotes is None and self.count_fields:
            # one pass finds newlines and delimiters: the delimiters before the k-th newline are its index less k
            marks = np.flatnonzero((a == _NL) | (a == self._d))
            k = np.flatnonzero(a[marks] == _NL)
            nl = marks[k]
            ends = nl + 1
            before_end = k - np.arange(len(k))
            if unended:
                ends, before_end = np.append(ends, len(data)), np.append(before_end, len(marks) - len(k))

            def delimiters() -> np.ndarray:
                return marks[a[marks] != _NL]
        else:
            nl = np.flatnonzero(a == _NL)
            ends = (nl if quotes is None else nl[(np.searchsorted(quotes, nl) & 1) == 0]) + 1
            if unended:
                ends = np.append(ends, len(data))

            def delimiters() -> np.ndarray:
                found = np.flatnonzero(a == self._d)
                return found if quotes is None else found[(np.searchsorted(quotes, found) & 1) == 0]
        starts = np.empty_like(ends)
        starts[:1] = 0
        starts[1:] = ends[:-1]
        if first:
            if self.header == "line" and len(ends) and ends[0] != (nl[0] + 1 if len(nl) else len(data)):
                return None  # the header record spans lines: the first line alone is the splitter's header
            self.header_text = data[: ends[0]]
            self.header_fields = _header_fields(self.header_text)
            self._width = len(self.header_fields)
        # without quotes every line is a record: record i starts on the block's line i
        line = self._line + (np.arange(len(starts)) if quotes is None else np.searchsorted(nl, starts))
        length = ends - starts
        head = a[starts]
        second = a[np.minimum(starts + 1, len(a) - 1)]
        blank = ((length == 1) & (head == _NL)) | ((length == 2) & (head == _CR) & (second == _NL))
        if self.count_fields and len(ends):
            delims = None
            if before_end is None:
                delims = delimiters()
                before_end = np.searchsorted(delims, ends)
            before_start = np.empty_like(before_end)
            before_start[:1] = 0
            before_start[1:] = before_end[:-1]
            fields = before_end - before_start + 1
            width = self._width if self._width is not None else 0
            skip = 1 if first else 0
            bad = np.flatnonzero((fields != width) & ~blank)
            bad = bad[bad >= skip]
            if len(bad):
                row = self.rows + np.cumsum(~blank[skip:])  # the record number of each record in the block
                nl_start = np.searchsorted(nl, starts[bad])
                nl_end = np.searchsorted(nl, ends[bad])
                lines = nl_end - nl_start + ((ends[bad] == len(data)) & unended)
                over = fields[bad] > width
                if delims is None:
                    delims = delimiters()
                # the delimiter after field `width` (where an extra field starts); the record's start if width is 0
                top = max(len(delims) - 1, 0)
                if width and len(delims):
                    width_end = delims[np.minimum(before_start[bad] + width - 1, top)]
                else:
                    width_end = starts[bad]
                at_over = line[bad] + np.searchsorted(nl, width_end) - nl_start
                at = np.where(over, at_over, line[bad] + lines - 1)
                self._collect(line[bad], lines, at, fields[bad], row[bad - skip])
        self._line += len(nl)
        self._block_newlines = len(nl)
        if self.end_lines and unended:
            data, ends[-1] = data + b"\n", ends[-1] + 1
        if first:
            self.rows += int(np.count_nonzero(~blank[1:]))
            data_block = Block(data, starts[1:], ends[1:], line[1:], blank[1:])
        else:
            self.rows += int(np.count_nonzero(~blank))
            data_block = Block(data, starts, ends, line, blank)
        return data_block

    def _collect(self, line: np.ndarray, lines: np.ndarray, at: np.ndarray, fields: np.ndarray,
                 row: np.ndarray) -> None:
        width = self._width or 0
        for ln, n, e, f, r in zip(line.tolist(), lines.tolist(), at.tolist(), fields.tolist(), row.tolist(),
                                  strict=True):
            col = min(f, width) + 1
            self.ragged.append({"line": ln, "lines": n, "error_line": e, "column": col, "fields": f, "row": r,
                                "column_name": self.names[col - 1] if col <= len(self.names) else None})

    def _exact(self, data: bytes, last: bool, first: bool) -> Iterator[Block]:
        """From `data` to the end of the file, records as csv.reader reads them, in blocks."""
        self.exact = True

        def texts() -> Iterator[str]:
            yield self._check_text(data, want_text=True)
            while not last_seen[0]:
                got = self._take(self._cut_line)
                if got is None:
                    return
                chunk, is_last, _ = got
                last_seen[0] = is_last
                yield self._check_text(chunk, want_text=True)

        last_seen = [last]

        def physical() -> Iterator[str]:
            for text in texts():
                yield from io.StringIO(text, newline="")

        lines = RecordLines(physical(), first_line=self._line - 1)
        reader = csv.reader(lines, delimiter=self.delimiter, quotechar=self.quote or '"',
                            quoting=csv.QUOTE_MINIMAL if self.quote else csv.QUOTE_NONE)
        if first:
            if self.header == "line":
                text = next(lines, "")
                self.header_text = text.encode("utf-8")
                lines.take()
                self.header_fields = _header_fields(self.header_text)
            else:
                self.header_fields = next(reader, [])
                self.header_text = lines.take().encode("utf-8")
            self._width = len(self.header_fields)
        width = self._width or 0
        pieces: list[bytes] = []
        size = 0
        rec_line: list[int] = []
        rec_blank: list[bool] = []
        while True:
            start = lines.line + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            text = lines.take()
            blank = not record if self.header == "record" else not text.strip("\r\n")
            if not blank:
                self.rows += 1
                if self.count_fields and len(record) != width:
                    at = start + (sum(f.count("\n") for f in record[:width]) if len(record) > width
                                  else lines.line - start)
                    self._collect(np.array([start]), np.array([lines.line - start + 1]), np.array([at]),
                                  np.array([len(record)]), np.array([self.rows]))
            raw = text.encode("utf-8")
            if self.end_lines and not raw.endswith(b"\n"):
                raw += b"\n"
            pieces.append(raw)
            size += len(raw)
            rec_line.append(start)
            rec_blank.append(blank)
            if size >= self.block_bytes:
                yield _block(pieces, rec_line, rec_blank)
                pieces, size, rec_line, rec_blank = [], 0, [], []
        if pieces:
            yield _block(pieces, rec_line, rec_blank)


def _block(pieces: list[bytes], line: list[int], blank: list[bool]) -> Block:
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    ends = np.cumsum(lengths)
    return Block(b"".join(pieces), ends - lengths, ends, np.array(line, dtype=np.int64), np.array(blank, dtype=bool))


def _header_fields(text: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(text.decode("utf-8", errors="replace"), newline="")), [])


class RecordLines:
    """Physical lines (of a text file opened with ``newline=""``, or any iterator of lines) for csv.reader, keeping the
    text of the record it is reading (csv gives no offsets): ``line`` is the last line read (``first_line`` lines
    already read), :meth:`take` the text since the last take."""

    def __init__(self, lines: Iterable[str], first_line: int = 0):
        self._lines, self.line = iter(lines), first_line
        self._buf: list[str] = []

    def __iter__(self) -> RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.line += 1
        self._buf.append(line)
        return line

    def take(self) -> str:
        text, self._buf = "".join(self._buf), []
        return text


def _clean_quotes(a: np.ndarray, pos: np.ndarray, delimiter: int) -> bool:
    """Whether every quote opens a field at its start and closes it at its end (doubled quotes inside)."""
    if len(pos) % 2:
        return False
    opens, closes = pos[0::2], pos[1::2]
    # an opening quote follows a delimiter, a newline, the block start, or the closing quote it doubles
    before = np.where(opens > 0, a[np.maximum(opens - 1, 0)], _NL)
    doubled_open = np.zeros(len(opens), dtype=bool)
    doubled_open[1:] = opens[1:] == closes[:-1] + 1
    ok_open = (before == delimiter) | (before == _NL) | doubled_open
    # a closing quote precedes a delimiter, a line end, the end of the file, or the opening quote that doubles it
    after = np.where(closes + 1 < len(a), a[np.minimum(closes + 1, len(a) - 1)], _NL)
    doubled_close = np.zeros(len(closes), dtype=bool)
    doubled_close[:-1] = closes[:-1] + 1 == opens[1:]
    ok_close = (after == delimiter) | (after == _NL) | (after == _CR) | doubled_close
    return bool(ok_open.all() and ok_close.all())


_found = threading.local()


def _note_bad_byte(e: UnicodeError) -> tuple[str, int]:
    assert isinstance(e, UnicodeDecodeError)
    _found.positions.append(e.start)
    return "\ufffd", e.end


codecs.register_error("snowseg_scan_bad_byte", _note_bad_byte)


def _decode_noting(data: bytes) -> tuple[str, list[int]]:
    """The text (bad bytes as U+FFFD, as errors='replace') and the offsets of the bytes that are not UTF-8."""
    _found.positions = []
    try:
        return data.decode("utf-8", errors="snowseg_scan_bad_byte"), _found.positions
    finally:
        _found.positions = []
