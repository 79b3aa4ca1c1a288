"""Convert one staged CSV file's records into rows for the target table, applying ON_ERROR.

Emulates Snowflake's per-file COPY outcome: a record with any bad value (or a field count that
doesn't match, or invalid UTF-8) is rejected whole; ON_ERROR decides what happens next:
- ABORT_STATEMENT: the statement fails on the first rejected record.
- CONTINUE: good records load; status LOADED, PARTIALLY_LOADED, or LOAD_FAILED if none loaded;
  error_limit is the number of rows parsed.
- SKIP_FILE / SKIP_FILE_<n> / 'SKIP_FILE_<n>%': the file loads nothing (LOAD_FAILED) once the error
  rows reach n (SKIP_FILE: 1) or exceed n% of the rows parsed; below that, good records load
  (PARTIALLY_LOADED). error_limit is n (SKIP_FILE: 1; percent: n% of the rows, rounded up).

Differs from Snowflake: rows_parsed and errors_seen always cover the whole file (Snowflake may stop
scanning a skipped file early); the error_limit shown for 'SKIP_FILE_<n>%' is the twin's reading.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress

import pyarrow as pa

from snowseg_twin.extensions._copy_options import CopyOptions
from snowseg_twin.extensions._csv_records import CsvFile, has_invalid_utf8, invalid_utf8, read_text
from snowseg_twin.extensions._errors import LoadError, RowError, column_count_mismatch
from snowseg_twin.extensions._errors import invalid_utf8 as invalid_utf8_error
from snowseg_twin.extensions._projection import FILE, ROW, FileContext, ItemFn, Projection
from snowseg_twin.extensions._staged_files import StagedFile
from snowseg_twin.extensions._values import column_converter


class _CellError(Exception):
    def __init__(self, error: LoadError, target: int | None, field_index: int | None) -> None:
        self.error, self.target, self.field_index = error, target, field_index


@dataclass
class FileOutcome:
    file: StagedFile
    status: str
    rows_parsed: int = 0
    rows_loaded: int = 0
    error_limit: int | None = 1
    errors: list[RowError] = field(default_factory=list)
    table: pa.Table | None = None  # converted rows to insert, one text column per target
    aborted: bool = False
    message: str | None = None  # first_error when there are no row errors, eg: LOAD_SKIPPED

    @property
    def errors_seen(self) -> int:
        return len(self.errors) if self.errors else (1 if self.message else 0)

    @property
    def first_error(self) -> RowError | None:
        return self.errors[0] if self.errors else None


def _field_values(
    item_fn: ItemFn,
    convert: Callable[[object], str],
    nulls: frozenset[str],
    raw_values: Sequence[str | None],
    ctx: FileContext,
) -> tuple[list[str | None], dict[str | None, LoadError]]:
    """Convert a column of staged fields, converting each distinct value once."""
    mapping: dict[str | None, str | None] = {}
    bad: dict[str | None, LoadError] = {}
    for raw in set(raw_values):
        try:
            value = None if raw is None or raw in nulls else item_fn(raw, 0, ctx)
            mapping[raw] = None if value is None else convert(value)
        except LoadError as e:
            bad[raw] = e
            mapping[raw] = None
    return list(map(mapping.__getitem__, raw_values)), bad


def _convert(
    projection: Projection,
    opts: CopyOptions,
    ctx: FileContext,
    fields: list[list[str]],
    row_errors: dict[int, _CellError],
) -> list[list[str | None]]:
    """The target columns' values for every record; adds conversion errors to row_errors.

    A record keeps its first error: one found earlier (field count, UTF-8) or its left-most bad value.
    """
    n = len(fields)
    shortest = min(map(len, fields), default=0)
    out: list[list[str | None]] = []
    for j, item in enumerate(projection.items):
        convert = column_converter(projection.targets[j].ctype, opts.csv.formats, opts.truncate_columns)
        if item.scope == FILE:
            try:
                value = item.fn(None, 0, ctx)
                out.append([None if value is None else convert(value)] * n)
            except LoadError as e:
                out.append([None] * n)
                for i in range(n):
                    row_errors.setdefault(i, _CellError(e, j, None))
        elif item.scope == ROW or item.field is None:
            # per record: the item needs the row number (and perhaps a field, eg: $1 || METADATA$FILE_ROW_NUMBER)
            k = item.field
            values: list[str | None] = []
            for i in range(n):
                raw = fields[i][k] if k is not None and k < len(fields[i]) else None
                try:
                    value = item.fn(None if raw in opts.csv.nulls else raw, i + 1, ctx)
                    values.append(None if value is None else convert(value))
                except LoadError as e:
                    values.append(None)
                    row_errors.setdefault(i, _CellError(e, j, k))
            out.append(values)
        else:
            k = item.field
            if k < shortest:
                raw_values: list[str | None] = [r[k] for r in fields]
            else:
                raw_values = [r[k] if k < len(r) else None for r in fields]
            values, bad = _field_values(item.fn, convert, opts.csv.nulls, raw_values, ctx)
            if bad:
                for i, raw in enumerate(raw_values):
                    if raw in bad and i not in row_errors:
                        row_errors[i] = _CellError(bad[raw], j, k)
            out.append(values)
    return out


def load_file(
    f: StagedFile, projection: Projection, opts: CopyOptions, statement_time: datetime.datetime
) -> FileOutcome:
    fmt = opts.csv
    text = read_text(f.path, fmt)
    csv_file = CsvFile.parse(text, fmt)
    ctx = FileContext.of(f, statement_time)
    records = list(csv_file.records())
    fields = [r[0] for r in records]
    expected = len(projection.targets)

    row_errors: dict[int, _CellError] = {}
    if not projection.transform and fmt.error_on_column_count_mismatch:
        for i, values in enumerate(fields):
            if len(values) != expected:
                index = min(len(values), expected)
                target = index if index < expected else None
                row_errors[i] = _CellError(column_count_mismatch(len(values), expected), target, index)
    if has_invalid_utf8(text):
        for i, values in enumerate(fields):
            for k, value in enumerate(values):
                if i not in row_errors and (rendered := invalid_utf8(value)) is not None:
                    row_errors[i] = _CellError(invalid_utf8_error(rendered), projection.target_of_field(k), k)
    columns = _convert(projection, opts, ctx, fields, row_errors)

    rows = len(records)
    on_error = opts.on_error
    failed = sorted(row_errors)
    if failed and on_error.mode == "ABORT_STATEMENT":
        first = _row_error(f, projection, csv_file, records, failed[0], row_errors[failed[0]])
        return FileOutcome(f, "LOAD_FAILED", rows, 0, 1, [first], aborted=True)
    errors = [_row_error(f, projection, csv_file, records, i, row_errors[i]) for i in failed]
    outcome = FileOutcome(f, "LOADED", rows, rows - len(errors), on_error.error_limit(rows), errors)
    if on_error.skips_file(len(errors), rows):
        outcome.status, outcome.rows_loaded = "LOAD_FAILED", 0
        return outcome
    if errors:
        outcome.status = "PARTIALLY_LOADED" if outcome.rows_loaded else "LOAD_FAILED"
    if row_errors:
        keep = [i not in row_errors for i in range(rows)]
        columns = [list(compress(col, keep)) for col in columns]
    outcome.table = pa.table({f"c{j}": pa.array(col, type=pa.string()) for j, col in enumerate(columns)})
    return outcome


def _row_error(
    f: StagedFile,
    projection: Projection,
    csv_file: CsvFile,
    records: list[tuple[list[str], int, int]],
    i: int,
    e: _CellError,
) -> RowError:
    _, start, end = records[i]
    line, character = csv_file.field_position(start, end, e.field_index) if e.field_index is not None else (start, 1)
    return RowError(
        error=e.error,
        file=f.name,
        line=line,
        character=character,
        row=i + 1,
        row_start_line=start,
        column_name=projection.column_label(e.target, e.field_index),
        rejected_record=csv_file.raw_record(start, end),
    )
