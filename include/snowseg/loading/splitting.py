"""Split a large CSV into gzip chunks for a bulk stage load, keeping every record whole.

Snowflake loads fastest from many compressed files of 100-250 MB (one per load thread), so the
bulk path cuts a big file into chunks of a target *compressed* size, each with the header line, and
remembers where each chunk starts in the source (first physical line and first record). With that
manifest, a rejected row reported as "chunk 7, line 12" is found again as a line of the original
file, and nothing is parsed twice or lost between chunks: records are cut only at record boundaries,
so quoted fields with embedded newlines stay in one chunk.

The file is streamed (:mod:`snowseg.loading.scan` finds the records of a block of a few MB at a
time), so memory is a few blocks whatever the file's size. A chunk's compressed size is checked every
`rows_per_check` records of the file, and the records between two checks (a *unit*) are compressed on
their own, ending byte-aligned (a sync flush); a chunk is one gzip member whose deflate stream is its
header's unit, its records' units, and an empty final block. So the units of a block can be compressed
in threads while the next block is scanned, and a chunk closes at the first check where its compressed
size reaches the target, as when a single stream was measured at each check (units start without the
previous unit's 32 KB history, which makes chunks ~1.5 % larger at 1000 records a unit).

Blank lines are no records (the contract's format skips them: SKIP_BLANK_LINES = TRUE, migration
dataset/V003). Inside a chunk they are kept, so that the chunk's lines stay the source's lines
(:func:`snowseg.loading.bulk.source_line`); before a chunk's first record they are dropped (its
``first_line`` is that record's line). A record or blank line with no newline at its end (the last one,
or a line ended by a lone CR) gets one.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> src = d / "s.csv"
>>> _ = src.write_text("a,b\\n" + "".join(f"{i},x\\n" for i in range(10)))
>>> chunks = split_csv(src, d / "out", target_bytes=1, rows_per_check=4)
>>> [(c.name, c.first_line, c.first_row, c.rows) for c in chunks]
[('s.part-00001.csv.gz', 2, 1, 4), ('s.part-00002.csv.gz', 6, 5, 4), ('s.part-00003.csv.gz', 10, 9, 2)]
"""

from __future__ import annotations

import hashlib
import queue
import struct
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from snowseg.errors import InputError
from snowseg.loading.scan import Block, Scanner, Source

DEFAULT_TARGET_BYTES = 100 * 1024 * 1024  # Snowflake's recommended 100-250 MB compressed


@dataclass(frozen=True)
class Chunk:
    """One gzip chunk of a source file."""

    name: str
    path: str
    source: str
    first_line: int  # physical line of the chunk's first record in the source (header = line 1)
    first_row: int  # 1-based record number of the chunk's first record in the source
    rows: int
    raw_bytes: int
    gz_bytes: int
    sha256: str  # of the compressed chunk

    def to_dict(self) -> dict:
        """A JSON-safe dict (for XCom and the manifest)."""
        return asdict(self)


def split_csv(
    path: str | Path,
    out_dir: str | Path,
    *,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    delimiter: str = ",",
    quotechar: str = '"',
    rows_per_check: int = 1000,
    compresslevel: int = 1,
) -> list[Chunk]:
    """Split `path` into gzip chunks of about `target_bytes` compressed, each starting with the header.

    Parameters
    ----------
    path : str or Path
        A UTF-8 CSV with a header line (a UTF-8 BOM is dropped), plain or gzip-compressed.
    out_dir : str or Path
        Where the chunks go (created).
    target_bytes : int
        Compressed size at which a chunk is closed (checked every `rows_per_check` records, so a
        chunk may overshoot by that many records).
    delimiter, quotechar : str
        The CSV dialect, from the dataset contract.
    rows_per_check : int
        How often the compressed size is measured: every this many records of the file (>= 1).
    compresslevel : int
        gzip level (zlib). 1, measured on 1e6 rows (130 MB of CSV, ``bench_loads.py --gzip-levels 0 1 6``,
        2 shared cores under load, DuckDB's read_csv 3.6 s in the same run): level 1 splits in 3.2 s (2.3 s
        of CPU) into 43.5 MB, level 6 in 10.3 s (6.2 s of CPU) into 36.0 MB, level 0 (stored) in 0.85 s into
        130 MB. Level 1 is 3x faster than 6 for chunks 21 % larger; level 0 would triple what a PUT sends
        (and Snowflake loads compressed files faster); level 2 costs the same CPU as 1 for 5 % less.

    Returns
    -------
    list of Chunk, in source order. An empty or header-only file gives one chunk with 0 rows, so the
    load still records the file.
    """
    if target_bytes < 1:
        raise InputError(f"target_bytes must be >= 1, got {target_bytes}")
    if rows_per_check < 1:
        raise InputError(f"rows_per_check must be >= 1, got {rows_per_check}")
    src = Path(path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chunks = _Chunks(out, src.name.split(".")[0], src, target_bytes, compresslevel)
    plan = _Plan(rows_per_check)
    todo: queue.Queue[tuple[Block, list[_Unit], Future[list[bytes]]] | None] = queue.Queue(maxsize=WORKERS)

    def write_in_order() -> None:
        while (item := todo.get()) is not None:
            block, units, compressed = item
            chunks.write(block, units, compressed.result())

    # threads: the source's reader, this one scanning, WORKERS compressing, one writing (crc, sha256, file)
    with Source(src) as source, ThreadPoolExecutor(max_workers=WORKERS + 1, thread_name_prefix="split") as pool:
        writer = pool.submit(write_in_order)
        scanner = Scanner(source, delimiter, quotechar, header="line", end_lines=True)
        try:
            for block in scanner.blocks():
                if chunks.header is None:
                    chunks.set_header(scanner.header_text)
                units = plan.units(block)
                _hand_over(todo, (block, units, pool.submit(_compress, block.data, units, compresslevel)), writer)
        finally:
            _hand_over(todo, None, writer)
        writer.result()
        if chunks.header is None:
            chunks.set_header(scanner.header_text)
    return chunks.finish()


def _hand_over(todo: queue.Queue, item: object, writer: Future[None]) -> None:
    """Queue item for the writer (waiting while WORKERS blocks wait: memory); the writer's error if it failed."""
    while not writer.done():
        try:
            todo.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
    writer.result()


#: Threads compressing blocks (zlib releases the GIL); at most this many blocks wait for compression.
WORKERS = 2
_UNIT_BODY, _UNIT_CHECK, _UNIT_BLANK = 0, 1, 2


class _Unit(NamedTuple):
    """A byte range of a block compressed on its own: records (``check``: the last one is a size check point) or
    the blank lines after a check point, which a chunk closed there does not keep."""

    start: int
    end: int
    kind: int
    rows: int
    first_line: int
    first_row: int


class _Plan:
    """Cuts blocks into units at the size check points (every `rows_per_check` records of the file: chunks start
    at record 1 and close only at check points, so a chunk's records counted from its start reach a multiple of
    `rows_per_check` exactly there)."""

    def __init__(self, rows_per_check: int):
        self.every = rows_per_check
        self.records = 0  # records before the block
        self.after_check = True  # the last record was a check point (or there was none): no chunk may be open

    def units(self, b: Block) -> list[_Unit]:
        recs = np.flatnonzero(~b.blank)
        number = self.records + 1 + np.arange(len(recs))
        size = len(b.data)
        units: list[_Unit] = []
        # the open unit's start byte (the block's first record or blank line: the first block holds the header too)
        # and first record (index into recs)
        pos, first = int(b.starts[0]), 0
        if self.after_check and len(recs):
            if b.starts[recs[0]] > pos:
                units.append(_Unit(pos, int(b.starts[recs[0]]), _UNIT_BLANK, 0, 0, 0))
            pos = int(b.starts[recs[0]])
        elif self.after_check:
            units.append(_Unit(pos, size, _UNIT_BLANK, 0, 0, 0))
            pos = size
        for k in np.flatnonzero(number % self.every == 0).tolist():
            end = int(b.ends[recs[k]])
            units.append(_Unit(pos, end, _UNIT_CHECK, k - first + 1, int(b.line[recs[first]]), int(number[first])))
            pos, first = end, k + 1
            if first < len(recs):
                nxt = int(b.starts[recs[first]])
                if nxt > end:
                    units.append(_Unit(end, nxt, _UNIT_BLANK, 0, 0, 0))
                pos = nxt
            elif end < size:
                units.append(_Unit(end, size, _UNIT_BLANK, 0, 0, 0))
                pos = size
        if pos < size:
            rows = len(recs) - first
            units.append(_Unit(pos, size, _UNIT_BODY, rows, int(b.line[recs[first]]) if rows else 0,
                               int(number[first]) if rows else 0))
            self.after_check = False
        elif len(recs) and first == len(recs):
            self.after_check = True
        self.records += len(recs)
        return units


def _compress(data: bytes, units: list[_Unit], level: int) -> list[bytes]:
    """Each unit as raw deflate data of its own, ending byte-aligned (a sync flush), so units concatenate."""
    view = memoryview(data)
    out = []
    for u in units:
        z = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        out.append(z.compress(view[u.start:u.end]) + z.flush(zlib.Z_SYNC_FLUSH))
    return out


#: An empty final deflate block: what ends a gzip member made of sync-flushed units.
_END = b"\x03\x00"


class _Chunks:
    """Writes the gzip chunks from compressed units, in order, and measures them."""

    def __init__(self, out: Path, stem: str, src: Path, target_bytes: int, level: int):
        self.out, self.stem, self.src, self.target, self.level = out, stem, src, target_bytes, level
        self.header: bytes | None = None
        self._header_gz = b""
        self.done: list[Chunk] = []
        self._f: BinaryIO | None = None

    def set_header(self, text: bytes) -> None:
        """The source's first line, copied into every chunk."""
        self.header = text if text.endswith(b"\n") else text + b"\n"
        self._header_gz = _compress(self.header, [_Unit(0, len(self.header), _UNIT_BODY, 0, 0, 0)], self.level)[0]

    def _open(self, first_line: int, first_row: int) -> None:
        assert self.header is not None
        self.name = f"{self.stem}.part-{len(self.done) + 1:05d}.csv.gz"
        self.path = self.out / self.name
        self.first_line, self.first_row = first_line, first_row
        self.rows, self.raw_bytes, self.crc, self.gz_bytes = 0, 0, 0, 0
        self._hash = hashlib.sha256()
        self._f = self.path.open("wb")
        xfl = 2 if self.level == 9 else 4 if self.level == 1 else 0  # as the gzip module writes it
        self._put(b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + bytes([xfl, 255]))
        self._add(memoryview(self.header), self._header_gz)

    def _put(self, data: bytes) -> None:
        assert self._f is not None
        self._f.write(data)
        self._hash.update(data)
        self.gz_bytes += len(data)

    def _add(self, raw: memoryview, gz: bytes) -> None:
        self._put(gz)
        self.crc = zlib.crc32(raw, self.crc)
        self.raw_bytes += len(raw)

    def write(self, block: Block, units: list[_Unit], compressed: list[bytes]) -> None:
        """Append a block's units: records always (opening a chunk if none is open), blank lines only into an open
        chunk; a chunk closes at a check point once it has `target_bytes`."""
        view = memoryview(block.data)
        for u, gz in zip(units, compressed, strict=True):
            if u.kind == _UNIT_BLANK:
                if self._f is not None:
                    self._add(view[u.start:u.end], gz)
                continue
            if self._f is None:
                self._open(u.first_line, u.first_row)
            self._add(view[u.start:u.end], gz)
            self.rows += u.rows
            if u.kind == _UNIT_CHECK and self.gz_bytes >= self.target:
                self._close()

    def _close(self) -> None:
        assert self._f is not None
        self._put(_END + struct.pack("<II", self.crc, self.raw_bytes & 0xFFFFFFFF))
        self._f.close()
        self._f = None
        self.done.append(Chunk(
            name=self.name, path=str(self.path), source=str(self.src), first_line=self.first_line,
            first_row=self.first_row, rows=self.rows, raw_bytes=self.raw_bytes, gz_bytes=self.gz_bytes,
            sha256=self._hash.hexdigest(),
        ))

    def finish(self) -> list[Chunk]:
        """Close the open chunk; a file without records still gets one (header only), so the load records it."""
        if self._f is None and not self.done:
            self._open(2, 1)
        if self._f is not None:
            self._close()
        return self.done
