"""Ragged records: kept out of the COPY, put on record as rejected, and every other line still found.

A record with more or fewer fields than the header is an error Snowflake reports per record under the file
format's ``ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE`` (error 100080), so with ``ON_ERROR = CONTINUE`` it rejects
just those records. Our loads cannot leave that to the COPY: the bulk and Snowpipe COPYs transform (they add
``METADATA$`` lineage) and the small path's COPY matches columns by name, and a COPY of either kind would pad or
cut such a record instead of rejecting it. So the checks collect the ragged records
(:func:`snowseg.loading.checks.check_file` with ``ragged="collect"``), the path loads a copy of the file without
them (:func:`write_without`), each one goes to the rejected table with Snowflake's own error
(:func:`rejected_records`), and a line the COPY reports in the copy is mapped back to the file the user gave
(:func:`source_line`): nothing is lost, nothing shifts.

Examples
--------
>>> info = FileInfo(path="/x/s.csv", name="s.csv", bytes=1, sha256="0" * 64, rows=5, has_bom=False,
...                 ragged=[{"line": 3, "lines": 1, "column": 18, "fields": 18, "row": 2, "column_name": None},
...                         {"line": 5, "lines": 2, "column": 16, "fields": 15, "row": 3, "column_name": "x"}])
>>> [source_line(info, n) for n in (2, 3, 4)]  # line 3 of the copy is line 4 of the file, line 4 is line 7
[2, 4, 7]
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path

from snowseg.config import DatasetContract
from snowseg.loading.checks import FileInfo, open_text
from snowseg.loading.rejects import Rejected
from snowseg.loading.scan import RecordLines

#: Snowflake's error code for a record whose number of fields is not the table's
COLUMN_COUNT_CODE = 100080


def column_count_message(fields: int, width: int) -> str:
    """Snowflake's message for error 100080 (the COPY's own wording, so both read alike in SALES_REJECTED)."""
    return (f"Number of columns in file ({fields}) does not match that of the corresponding table ({width}), use file "
            "format option error_on_column_count_mismatch=false to ignore this error")


def rejected_records(info: FileInfo, contract: DatasetContract) -> list[Rejected]:
    """The file's ragged records as rejected records, located in the file itself (``staged_file`` = its name) at the
    line Snowflake's validator gives (the first extra field's, or the record's last line), with their text read back
    from the file (None if the file is gone or changed since the checks)."""
    if not info.ragged:
        return []
    width = len(contract.columns)
    texts = _texts(info, contract)
    return [
        Rejected(staged_file=info.name, line=r.get("error_line", r["line"]), character=1, column_name=r["column_name"],
                 error=column_count_message(r["fields"], width), code=COLUMN_COUNT_CODE, record=texts.get(r["line"]))
        for r in info.ragged
    ]


def _texts(info: FileInfo, contract: DatasetContract) -> dict[int, str]:
    """The ragged records' text by first line, read from the file if it still has the checked content (an s3://
    input: from a fresh local copy of the object, checked the same way)."""
    from snowseg import storage

    if storage.is_url(info.path):
        from snowseg.errors import InputError
        from snowseg.inputs import local_input

        try:
            with local_input(info) as local:
                return _texts(local, contract)
        except (InputError, OSError):  # changed since the checks, or gone
            return {}
    path = Path(info.path)
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() != info.sha256:
            return {}
    except OSError:
        return {}
    wanted = {r["line"] for r in info.ragged}
    found: dict[int, str] = {}
    for start, text in _records(path, contract):
        if start in wanted:
            found[start] = text.rstrip("\r\n")
    return found


def _records(path: Path, contract: DatasetContract) -> Iterator[tuple[int, str]]:
    """(first line, text) of each record of the file, the header included (line 1)."""
    with open_text(path) as src:
        lines = RecordLines(src)
        reader = csv.reader(lines, delimiter=contract.csv.delimiter, quotechar=contract.csv.quote)
        while True:
            start = lines.line + 1
            try:
                next(reader)
            except StopIteration:
                return
            yield start, lines.take()


def source_line(info: FileInfo, line: int | None) -> int | None:
    """A physical line of the copy without the ragged records (header = 1) as a line of the original file."""
    if line is None:
        return None
    shift = 0
    for r in sorted(info.ragged, key=lambda r: r["line"]):
        if r["line"] <= line + shift:
            shift += r["lines"]
        else:
            break
    return line + shift


def write_without(info: FileInfo, contract: DatasetContract, out_dir: str | Path) -> Path:
    """Write the file without its ragged records to `out_dir` (same name; gzip if the original is), return the path.

    The header and every other record are copied as they are (line endings and quoting kept; a UTF-8 BOM dropped).
    """
    out = Path(out_dir) / info.name
    out.parent.mkdir(parents=True, exist_ok=True)
    skip = {r["line"] for r in info.ragged}
    gz = info.name.lower().endswith(".gz")
    with (gzip.open(out, "wt", encoding="utf-8", newline="", compresslevel=1) if gz
          else out.open("w", encoding="utf-8", newline="")) as dst:
        for start, text in _records(Path(info.path), contract):
            if start not in skip:
                dst.write(text)
    return out
