"""Read a staged CSV file into records, keeping the line numbers Snowflake reports errors with.

Emulates Snowflake's CSV parsing for loading: decompression (COMPRESSION = AUTO detects gzip/bz2
by content, GZIP, BZ2, NONE), SKIP_BYTE_ORDER_MARK (default TRUE strips a UTF-8 BOM),
SKIP_HEADER (physical lines), FIELD_DELIMITER, FIELD_OPTIONALLY_ENCLOSED_BY with doubled quotes
inside enclosed fields, delimiters and newlines inside enclosed fields, \\n or \\r\\n record
delimiters, SKIP_BLANK_LINES, TRIM_SPACE. Invalid UTF-8 bytes survive decoding (as surrogate escapes)
so the loader can reject just the affected records, or they are replaced by U+FFFD with
REPLACE_INVALID_CHARACTERS = TRUE.

Parsing uses Python's csv module, so a file parses at C speed; character positions are only
computed (by rescanning the record) when a record is rejected.

Differs from Snowflake: an enclosed empty field ("") is indistinguishable from an empty one, so
EMPTY_FIELD_AS_NULL applies to both; a blank line is a record with one empty field unless
SKIP_BLANK_LINES = TRUE.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass

from snowseg_twin.extensions._copy_options import CsvFormat

_INVALID = re.compile("[\udc80-\udcff]")


def read_text(path: str, fmt: CsvFormat) -> str:
    with open(path, "rb") as f:
        data = f.read()
    compression = fmt.compression
    if compression in {"AUTO", "AUTO_DETECT"}:
        compression = "GZIP" if data[:2] == b"\x1f\x8b" else "BZ2" if data[:3] == b"BZh" else "NONE"
    if compression == "GZIP":
        data = gzip.decompress(data)
    elif compression == "BZ2":
        data = bz2.decompress(data)
    if fmt.skip_byte_order_mark and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace" if fmt.replace_invalid_characters else "surrogateescape")


def has_invalid_utf8(text: str) -> bool:
    return _INVALID.search(text) is not None


def invalid_utf8(field: str) -> str | None:
    """The field as Snowflake shows it in an invalid UTF-8 error (bad bytes as 0xNN), or None if valid."""
    if not _INVALID.search(field):
        return None
    return _INVALID.sub(lambda m: f"0x{ord(m[0]) - 0xDC00:02X}", field)


@dataclass
class CsvFile:
    """The physical lines of a file and an iterator over its data records."""

    lines: list[str]  # with line endings
    fmt: CsvFormat

    @classmethod
    def parse(cls, text: str, fmt: CsvFormat) -> CsvFile:
        lines = text.split("\n")
        last = lines.pop()
        lines = [line + "\n" for line in lines]
        if last:
            lines.append(last)
        return cls(lines, fmt)

    def records(self) -> Iterator[tuple[list[str], int, int]]:
        """Yield (fields, first line, last line) per data record; lines are 1-based."""
        fmt = self.fmt
        skip = min(fmt.skip_header, len(self.lines))
        kwargs = (
            {"quotechar": fmt.quote, "doublequote": True, "quoting": csv.QUOTE_MINIMAL}
            if fmt.quote
            else {"quoting": csv.QUOTE_NONE}
        )
        reader = csv.reader(iter(self.lines[skip:]), delimiter=fmt.field_delimiter, strict=False, **kwargs)
        end = skip
        for fields in reader:
            start, end = end + 1, skip + reader.line_num
            if not fields:
                if fmt.skip_blank_lines:
                    continue
                fields = [""]
            if fmt.trim_space:
                fields = [f.strip() for f in fields]
            yield fields, start, end

    def raw_record(self, start: int, end: int) -> str:
        return "".join(self.lines[start - 1 : end]).rstrip("\r\n")

    def field_position(self, start: int, end: int, index: int) -> tuple[int, int]:
        """(line, character) where field `index` (0-based) of the record on lines start..end begins.

        For an index past the last field, the position just after the record's end.
        """
        text = self.raw_record(start, end)
        offsets = _field_offsets(text, self.fmt.field_delimiter, self.fmt.quote)
        offset = offsets[index] if index < len(offsets) else len(text)
        line = start + text.count("\n", 0, offset)
        line_start = text.rfind("\n", 0, offset) + 1
        return line, offset - line_start + 1


def _field_offsets(text: str, delimiter: str, quote: str | None) -> list[int]:
    offsets = [0]
    in_quotes = False
    i = 0
    while i < len(text):
        ch = text[i]
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
