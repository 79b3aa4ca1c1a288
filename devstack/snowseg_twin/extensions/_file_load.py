"""Load one staged CSV file into the target table batch by batch, applying ON_ERROR.

Emulates Snowflake's per-file COPY outcome: a record with any bad value (or a field count that
doesn't match, or invalid UTF-8) is rejected whole; ON_ERROR decides what happens next:
- ABORT_STATEMENT: the statement fails on the first rejected record.
- CONTINUE: good records load; status LOADED, PARTIALLY_LOADED, or LOAD_FAILED if none loaded;
  error_limit is the number of rows parsed.
- SKIP_FILE / SKIP_FILE_<n> / 'SKIP_FILE_<n>%': the file loads nothing (LOAD_FAILED) once the error
  rows reach n (SKIP_FILE: 1) or exceed n% of the rows parsed; below that, good records load
  (PARTIALLY_LOADED). error_limit is n (SKIP_FILE: 1; percent: n% of the rows, rounded up).

How (the file streams through _csv_records.batches(), so memory is bounded by a batch):
- a fast batch (pyarrow-parsed string columns) is converted in DuckDB with one INSERT ... SELECT:
  each target's value is _values.fast_sql() of its field (NULL_IF first), or, for items and types SQL
  doesn't read (eg: SPLIT_PART($1, ...), TIMESTAMP AUTO), the converter applied once per distinct
  string (per row for items that need the row number); only rows every value vouches for are inserted.
  If the INSERT's count falls short, the rows left out are converted again one by one with the
  converters (the reference): each is either a rejected record (its first bad value, left to right,
  as Snowflake reports it) or a row SQL was too cautious about, inserted from the converters' text.
- an exact batch (records Python's csv module parsed) is converted with the converters throughout,
  each distinct string once per column, as the whole engine used to.
Rejected records get their line, character and raw text from the batch's bytes, only when there are some.

Rows are inserted as they are converted, inside the COPY's transaction; a file that SKIP_FILE skips
after some batches were inserted has them deleted again (DuckDB has no savepoints: rows a transaction
appended have row ids above any the table had, so deleting above a mark taken before the file removes
exactly them). ABORT_STATEMENT stops at the first rejected record: copy_csv undoes the statement.

Differs from Snowflake: rows_parsed and errors_seen always cover the whole file for CONTINUE and
SKIP_FILE (Snowflake may stop scanning a skipped file early), while an ABORT_STATEMENT file's
rows_parsed counts the records up to the end of the batch with the first error; the error_limit
shown for 'SKIP_FILE_<n>%' is the twin's reading; rejected records are kept in memory until the
statement records them (bounded by the number of errors, not of rows).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from duckdb import DuckDBPyConnection

from snowseg_twin.extensions._copy_options import CopyOptions
from snowseg_twin.extensions._csv_records import Batch, CsvFile, batches, has_invalid_utf8, invalid_utf8
from snowseg_twin.extensions._errors import LoadError, RowError, column_count_mismatch
from snowseg_twin.extensions._errors import invalid_utf8 as invalid_utf8_error
from snowseg_twin.extensions._projection import FILE, ROW, FileContext, Item, ItemFn, Projection
from snowseg_twin.extensions._staged_files import StagedFile
from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions._values import (
    PLAIN_NUMBER_BYTES,
    Known,
    column_converter,
    duck_cast_sql,
    fast_int_sql,
    fast_sql,
)


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
    table: pa.Table | None = None  # the first rows as canonical text (load_file(..., rows_limit=n) only)
    aborted: bool = False
    message: str | None = None  # first_error when there are no row errors, eg: LOAD_SKIPPED

    @property
    def errors_seen(self) -> int:
        return len(self.errors) if self.errors else (1 if self.message else 0)

    @property
    def first_error(self) -> RowError | None:
        return self.errors[0] if self.errors else None


@dataclass
class Target:
    """Where converted rows go: a DuckDB table, in the session's transaction."""

    duck_conn: DuckDBPyConnection
    qualified: str  # eg: "DB"."RAW"."SALES_RAW"
    projection: Projection

    @property
    def columns(self) -> str:
        return ", ".join(f'"{t.name}"' for t in self.projection.targets)

    def mark(self) -> int:
        """The largest row id now in the table: rows appended after this have larger ones."""
        found = self.duck_conn.execute(f"SELECT max(rowid) FROM {self.qualified}").fetchall()
        return -1 if found[0][0] is None else int(found[0][0])

    def undo(self, mark: int) -> None:
        """Delete the rows appended (by this transaction) since mark."""
        self.duck_conn.execute(f"DELETE FROM {self.qualified} WHERE rowid > {mark}").fetchall()

    def insert_text(self, table: pa.Table) -> None:
        """Insert rows of canonical text (columns c0, c1, ... one per target)."""
        if not table.num_rows:
            return
        values = ", ".join(duck_cast_sql(t.ctype, f"c{j}") for j, t in enumerate(self.projection.targets))
        with _registered(self.duck_conn, table) as view:
            self.duck_conn.execute(f"INSERT INTO {self.qualified} ({self.columns}) SELECT {values} FROM {view}").fetchall()


class _registered:  # noqa: N801 - a statement-like context manager
    """An Arrow table as a DuckDB view for the duration of a block."""

    def __init__(self, duck_conn: DuckDBPyConnection, table: pa.Table) -> None:
        self.duck_conn, self.table = duck_conn, table
        self.view = f"_fs_copy_rows_{uuid.uuid4().hex}"

    def __enter__(self) -> str:
        self.duck_conn.register(self.view, self.table)
        return self.view

    def __exit__(self, *_: object) -> None:
        self.duck_conn.unregister(self.view)


# --- per-value conversion (the reference) -------------------------------------------------------------------------


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


def _item_value(
    item: Item, convert: Callable[[object], str], nulls: frozenset[str], fields: Sequence[str], row: int,
    ctx: FileContext,
) -> str | None:
    """One item's canonical text for one record (raises LoadError), as _convert computes it."""
    k = item.field
    if item.scope == FILE:
        value = item.fn(None, 0, ctx)
    elif item.scope == ROW or k is None:
        raw = fields[k] if k is not None and k < len(fields) else None
        value = item.fn(None if raw in nulls else raw, row, ctx)
    else:
        raw = fields[k] if k < len(fields) else None
        value = None if raw is None or raw in nulls else item.fn(raw, 0, ctx)
    return None if value is None else convert(value)


def _convert(
    projection: Projection,
    converters: list[Callable[[object], str]],
    opts: CopyOptions,
    ctx: FileContext,
    fields: list[list[str]],
    first_row: int,
    row_errors: dict[int, _CellError],
) -> list[list[str | None]]:
    """The target columns' values for every record; adds conversion errors to row_errors.

    A record keeps its first error: one found earlier (field count, UTF-8) or its left-most bad value.
    """
    n = len(fields)
    shortest = min(map(len, fields), default=0)
    out: list[list[str | None]] = []
    for j, item in enumerate(projection.items):
        convert = converters[j]
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
                    value = item.fn(None if raw in opts.csv.nulls else raw, first_row + i, ctx)
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


# --- the file -----------------------------------------------------------------------------------------------------


@dataclass
class _File:
    """What converting one file's batches needs."""

    f: StagedFile
    projection: Projection
    opts: CopyOptions
    ctx: FileContext
    converters: list[Callable[[object], str]]
    target: Target | None  # None: only find the rejected records
    duck_conn: DuckDBPyConnection | None  # None: no SQL, the converters convert everything
    sql_cache: dict[tuple[int, tuple[Known, ...]], _FastSql | None] = field(default_factory=dict)

    def row_error(self, csv_file: CsvFile, row: int, start: int, end: int, e: _CellError) -> RowError:
        if e.field_index is not None:
            line, character = csv_file.field_position(start, end, e.field_index)
        else:
            line, character = start, 1
        return RowError(
            error=e.error,
            file=self.f.name,
            line=line,
            character=character,
            row=row,
            row_start_line=start,
            column_name=self.projection.column_label(e.target, e.field_index),
            rejected_record=csv_file.raw_record(start, end),
        )


def load_file(
    f: StagedFile,
    projection: Projection,
    opts: CopyOptions,
    statement_time: datetime.datetime,
    *,
    target: Target | None = None,
    duck_conn: DuckDBPyConnection | None = None,
    rows_limit: int | None = None,
) -> FileOutcome:
    """Convert a staged file and insert its good rows into target (if given); the file's COPY outcome.

    duck_conn (or target's) runs the vectorised conversion; without one, the converters do all of it.
    With rows_limit, stop once that many records are read and keep their canonical text in the
    outcome's table (VALIDATION_MODE = RETURN_<n>_ROWS).
    """
    ctx = FileContext.of(f, statement_time)
    converters = [column_converter(t.ctype, opts.csv.formats, opts.truncate_columns) for t in projection.targets]
    conn = target.duck_conn if target is not None else duck_conn
    job = _File(f, projection, opts, ctx, converters, target, None if rows_limit is not None else conn)
    on_error = opts.on_error
    mark = target.mark() if target is not None and on_error.mode == "SKIP_FILE" else None
    inserting = target is not None
    rows, loaded = 0, 0
    errors: list[RowError] = []
    kept: list[pa.Table] = []
    for batch in batches(f.path, opts.csv):
        rows += batch.rows
        batch_loaded, batch_errors, text = _convert_batch(job, batch, inserting, keep=rows_limit is not None)
        loaded += batch_loaded
        errors.extend(batch_errors)
        if text is not None:
            kept.append(text)
        if errors and on_error.mode == "ABORT_STATEMENT":
            return FileOutcome(f, "LOAD_FAILED", rows, 0, 1, [errors[0]], aborted=True)
        if rows_limit is not None and rows >= rows_limit:
            break
        if inserting and mark is not None and on_error.percent is None and on_error.skips_file(len(errors), rows):
            # the file is skipped whatever follows: stop inserting, keep counting
            inserting = False
            target.undo(mark)  # type: ignore[union-attr, arg-type]

    outcome = FileOutcome(f, "LOADED", rows, rows - len(errors), on_error.error_limit(rows), errors)
    if kept:
        outcome.table = pa.concat_tables(kept)
    if on_error.skips_file(len(errors), rows):
        if inserting and mark is not None:
            target.undo(mark)  # type: ignore[union-attr]
        outcome.status, outcome.rows_loaded = "LOAD_FAILED", 0
        return outcome
    if errors:
        outcome.status = "PARTIALLY_LOADED" if outcome.rows_loaded else "LOAD_FAILED"
    return outcome


def _convert_batch(job: _File, batch: Batch, inserting: bool, keep: bool) -> tuple[int, list[RowError], pa.Table | None]:
    """(rows inserted, rejected records, canonical text of the good rows if keep) for one batch."""
    if batch.table is not None and job.duck_conn is not None and not keep:
        fast = _fast_sql(job, batch.table.num_columns, _known(job, batch.table))
        if fast is not None:
            return _convert_fast(job, batch, fast, inserting)
    csv_file = batch.csv_file(job.opts.csv)
    return _convert_exact(job, batch, csv_file, inserting, keep)


def _convert_exact(
    job: _File, batch: Batch, csv_file: CsvFile, inserting: bool, keep: bool
) -> tuple[int, list[RowError], pa.Table | None]:
    fmt, projection = job.opts.csv, job.projection
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
    if any(has_invalid_utf8(line) for line in csv_file.lines):
        for i, values in enumerate(fields):
            for k, value in enumerate(values):
                if i not in row_errors and (rendered := invalid_utf8(value)) is not None:
                    row_errors[i] = _CellError(invalid_utf8_error(rendered), projection.target_of_field(k), k)
    columns = _convert(projection, job.converters, job.opts, job.ctx, fields, batch.first_row, row_errors)
    errors = []
    for i in sorted(row_errors):
        _, start, end = records[i]
        errors.append(job.row_error(csv_file, batch.first_row + i, start, end, row_errors[i]))
    if row_errors:
        keep_rows = [i not in row_errors for i in range(len(records))]
        columns = [list(compress(col, keep_rows)) for col in columns]
    table = pa.table({f"c{j}": pa.array(col, type=pa.string()) for j, col in enumerate(columns)})
    if inserting and job.target is not None and (not errors or job.opts.on_error.mode != "ABORT_STATEMENT"):
        job.target.insert_text(table)
        return table.num_rows, errors, table if keep else None
    return 0, errors, table if keep else None


# --- the vectorised path ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FastSql:
    """SQL over a batch view (f0.. fields, rid, and p<j>/e<j> columns the converters fill)."""

    values: list[str]  # per target, the typed value
    checks: list[str]  # conditions a row must meet to be inserted as is
    by_value: list[int]  # targets the converters fill per distinct field value (into p<j>, e<j>)
    by_row: list[int]  # targets the converters fill per row


def _sql_in(raw: str, nulls: frozenset[str]) -> str:
    return f"{raw} IN ({', '.join(literal(v) for v in sorted(nulls))})" if nulls else "false"


def _plain_number(column: pa.ChunkedArray) -> bool:
    """Whether every byte of every value is one of PLAIN_NUMBER_BYTES (a look at the data buffers, in C)."""
    for chunk in column.chunks:
        if not len(chunk):
            continue
        offsets_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=offsets_type)
        start, end = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        if memoryview(chunk.buffers()[2])[start:end].tobytes().translate(None, PLAIN_NUMBER_BYTES):
            return False
    return True


def _known(job: _File, table: pa.Table) -> tuple[Known, ...]:
    """Per field of the batch, what its values are known to be (only where a target's guard could use it)."""
    known = [Known()] * table.num_columns
    for item, t in zip(job.projection.items, job.projection.targets, strict=True):
        k = item.field
        if item.plain != "field" or k is None or k >= table.num_columns:
            continue
        column = table.column(k)
        if t.ctype.kind == "number" and not known[k].plain_number and _plain_number(column):
            known[k] = Known(plain_number=True, max_bytes=known[k].max_bytes)
        elif t.ctype.kind == "text" and t.ctype.max_length is not None and known[k].max_bytes is None:
            longest = pc.max(pc.binary_length(column)).as_py()
            known[k] = Known(plain_number=known[k].plain_number, max_bytes=longest or 0)
    return tuple(known)


def _fast_sql(job: _File, width: int, known: tuple[Known, ...]) -> _FastSql | None:
    """The batch SQL for records of `width` fields (whose values are as `known` says), or None when the converters
    must do the whole batch."""
    if (width, known) in job.sql_cache:
        return job.sql_cache[width, known]
    projection, opts = job.projection, job.opts
    fmt = opts.csv
    found: _FastSql | None = None
    if projection.transform or not fmt.error_on_column_count_mismatch or width == len(projection.targets):
        found = _FastSql([], [], [], [])
        for j, (item, t) in enumerate(zip(projection.items, projection.targets, strict=True)):
            k = item.field
            if item.scope == FILE:
                try:
                    text = _item_value(item, job.converters[j], fmt.nulls, [], 0, job.ctx)
                except LoadError:
                    found = None  # every record is rejected: the converters say how
                    break
                found.values.append(duck_cast_sql(t.ctype, literal(text)) if text is not None else "NULL")
            elif item.plain == "field" and k is not None and k >= width:
                found.values.append("NULL")  # a field past the record's end
            elif item.plain == "field" and (sql := fast_sql(t.ctype, fmt.formats, f"f{k}", known[k])) is not None:
                value, guard = sql
                nulled = _sql_in(f"f{k}", fmt.nulls)
                found.values.append(f"CASE WHEN {nulled} THEN NULL ELSE {value} END")
                if value != f"f{k}" or guard is not None:
                    vouched = f"({value}) IS NOT NULL" if guard is None else f"{guard} AND ({value}) IS NOT NULL"
                    found.checks.append(f"({nulled} OR ({vouched}))")
            elif item.plain == "row_number" and (sql := fast_int_sql(t.ctype, "rid")):
                found.values.append(sql)
                found.checks.append(f"({sql}) IS NOT NULL")
            else:
                (found.by_row if item.scope == ROW or k is None else found.by_value).append(j)
                found.values.append(duck_cast_sql(t.ctype, f"p{j}"))
                found.checks.append(f"NOT e{j}")
    job.sql_cache[width, known] = found
    return found


def _converter_columns(job: _File, batch: Batch, fast: _FastSql) -> pa.Table:
    """The batch's table with rid, and p<j> (canonical text) / e<j> (rejected) for targets SQL doesn't convert."""
    table = batch.table
    assert table is not None
    n = table.num_rows
    table = table.append_column("rid", pa.array(np.arange(batch.first_row, batch.first_row + n, dtype=np.int64)))
    nulls = job.opts.csv.nulls
    for j in fast.by_value:
        item, convert = job.projection.items[j], job.converters[j]
        k = item.field
        assert k is not None
        if k >= batch.table.num_columns:  # type: ignore[union-attr]
            texts: list[str | None] = [None]
            bad = [False]
            idx = pa.array(np.zeros(n, dtype=np.int32))
        else:
            column = table.column(f"f{k}")
            distinct = pc.unique(column)
            texts, bad = [], []
            for raw in distinct.to_pylist():
                try:
                    texts.append(_distinct_value(item, convert, nulls, raw, job.ctx))
                    bad.append(False)
                except LoadError:
                    texts.append(None)
                    bad.append(True)
            idx = pc.index_in(column, value_set=distinct)
        table = table.append_column(f"p{j}", pc.take(pa.array(texts, type=pa.string()), idx))
        table = table.append_column(f"e{j}", pc.take(pa.array(bad, type=pa.bool_()), idx))
    if fast.by_row:
        rows = _rows(table, batch)
        for j in fast.by_row:
            item, convert = job.projection.items[j], job.converters[j]
            texts, bad = [], []
            for i, fields in enumerate(rows):
                try:
                    texts.append(_item_value(item, convert, nulls, fields, batch.first_row + i, job.ctx))
                    bad.append(False)
                except LoadError:
                    texts.append(None)
                    bad.append(True)
            table = table.append_column(f"p{j}", pa.array(texts, type=pa.string()))
            table = table.append_column(f"e{j}", pa.array(bad, type=pa.bool_()))
    return table


def _distinct_value(item: Item, convert: Callable[[object], str], nulls: frozenset[str], raw: str | None,
                    ctx: FileContext) -> str | None:
    value = None if raw is None or raw in nulls else item.fn(raw, 0, ctx)
    return None if value is None else convert(value)


def _rows(table: pa.Table, batch: Batch, indices: Sequence[int] | None = None) -> list[list[str]]:
    """The records' fields as lists of strings (all of them, or those at indices)."""
    width = batch.table.num_columns  # type: ignore[union-attr]
    part = table.select([f"f{k}" for k in range(width)])
    if indices is not None:
        part = part.take(pa.array(indices, type=pa.int64()))
    columns = [part.column(k).to_pylist() for k in range(width)]
    return [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in range(part.num_rows)]


def _convert_fast(job: _File, batch: Batch, fast: _FastSql, inserting: bool) -> tuple[int, list[RowError], None]:
    conn = job.duck_conn
    assert conn is not None
    table = _converter_columns(job, batch, fast)
    checks = " AND ".join(fast.checks) or "true"
    n = table.num_rows
    with _registered(conn, table) as view:
        inserted = 0
        if inserting and job.target is not None:
            # one pass: rows every value vouches for go in; under ABORT_STATEMENT a rejected record anywhere
            # makes copy_csv undo the statement, so even then there is nothing to check first
            values = ", ".join(fast.values)
            where = f" WHERE {checks}" if fast.checks else ""
            sql = f"INSERT INTO {job.target.qualified} ({job.target.columns}) SELECT {values} FROM {view}{where}"
            inserted = int(conn.execute(sql).fetchall()[0][0])
            if inserted == n:
                return n, [], None
        elif not fast.checks:
            return 0, [], None
        flagged = [r[0] for r in conn.execute(f"SELECT rid FROM {view} WHERE NOT ({checks}) ORDER BY rid").fetchall()]
    if not flagged:
        return inserted, [], None
    # the converters decide each row SQL left out: a rejected record, or a row to insert from their text
    indices = [rid - batch.first_row for rid in flagged]
    rows = _rows(table, batch, indices)
    nulls = job.opts.csv.nulls
    rescued: list[list[str | None]] = []
    failed: list[tuple[int, _CellError]] = []
    for i, fields in zip(indices, rows, strict=True):
        values: list[str | None] = []
        for j, item in enumerate(job.projection.items):
            try:
                values.append(_item_value(item, job.converters[j], nulls, fields, batch.first_row + i, job.ctx))
            except LoadError as e:
                failed.append((i, _CellError(e, j, item.field)))
                break
        else:
            rescued.append(values)
    errors = _row_errors(job, batch, failed)
    if errors and job.opts.on_error.mode == "ABORT_STATEMENT":
        return inserted, errors[:1], None
    if inserting and job.target is not None:
        columns = list(zip(*rescued, strict=True)) if rescued else [[] for _ in job.projection.targets]
        job.target.insert_text(pa.table({f"c{j}": pa.array(list(col), type=pa.string()) for j, col in enumerate(columns)}))
        inserted += len(rescued)
    return inserted, errors, None


def _row_errors(job: _File, batch: Batch, failed: list[tuple[int, _CellError]]) -> list[RowError]:
    """RowErrors for records of a fast batch (by index), with lines counted through quoted newlines."""
    if not failed:
        return []
    csv_file = batch.csv_file(job.opts.csv)
    if batch.quoted:
        table = batch.table
        assert table is not None
        newlines = np.zeros(table.num_rows, dtype=np.int64)
        for column in table.columns:
            newlines += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
        before = np.concatenate([[0], np.cumsum(newlines)])
    errors = []
    for i, e in failed:
        start = batch.first_line + i + (int(before[i]) if batch.quoted else 0)
        end = start + (int(newlines[i]) if batch.quoted else 0)
        errors.append(job.row_error(csv_file, batch.first_row + i, start, end, e))
    return errors
