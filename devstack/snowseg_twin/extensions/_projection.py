"""Map a COPY INTO <table>'s staged fields onto target columns.

Emulates both forms Snowflake accepts:
- plain `COPY INTO t [(cols)] FROM @stage`: field n loads into the n-th listed column (or the n-th
  table column); ERROR_ON_COLUMN_COUNT_MISMATCH (default TRUE) rejects records whose field count
  differs, otherwise missing fields are NULL and extra fields are ignored.
- transformation `COPY INTO t [(cols)] FROM (SELECT ... FROM @stage)`: each select item loads into
  the corresponding column. Items may be `$n` / `alias.$n`, casts `::TYPE` of items, TRIM/UPPER/LOWER,
  METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, METADATA$START_SCAN_TIME, METADATA$FILE_LAST_MODIFIED,
  METADATA$FILE_CONTENT_KEY, string/number/boolean/NULL literals and CURRENT_TIMESTAMP()/SYSDATE(),
  and these functions of items:
  - SPLIT_PART(<item>, <delimiter>, <n>): the n-th part of the text split at every occurrence of the
    whole delimiter; n is 1-based, 0 counts as 1, a negative n counts from the end (-1 is the last
    part, -2 the one before: `SPLIT_PART(METADATA$FILENAME, '/', -2)` is the file's parent folder);
    a part out of range is '', an empty delimiter leaves the text whole (one part).
  - CONCAT(<item>, ...) and <item> || <item>: the items' text joined.
  - CONVERT_TIMEZONE('<target tz>', <item>) and CONVERT_TIMEZONE('<source tz>', '<target tz>', <item>) of a
    timestamp item (eg: METADATA$START_SCAN_TIME, a TIMESTAMP_LTZ in the session's zone).
  All three are NULL if any argument is NULL; arguments that aren't text are converted to VARCHAR
  first (numbers as written, eg: METADATA$FILE_ROW_NUMBER 7 as '7').
  ERROR_ON_COLUMN_COUNT_MISMATCH is ignored: a field past the end of the record is NULL.

With MATCH_BY_COLUMN_NAME (CSV with PARSE_HEADER = TRUE) each file's header decides which field loads into
which column, and INCLUDE_METADATA fills columns with METADATA$ values (match_projection).

Errors name a column as Snowflake does: "TABLE"["COLUMN":ordinal in the table].

Differs from Snowflake: other expressions, and items reading two or more fields (eg: CONCAT($1, $2))
raise NotImplementedError; VARCHAR(n) casts don't check length; timestamps converted to text inside
CONCAT / || / SPLIT_PART use the twin's rendering (ISO form), not TIMESTAMP_OUTPUT_FORMAT.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import snowflake.connector.errors
from sqlglot import exp

from snowseg_twin.extensions._copy_options import CopyOptions
from snowseg_twin.extensions._errors import not_recognized
from snowseg_twin.extensions._staged_files import StagedFile
from snowseg_twin.extensions._values import ColumnType, caster, column_type, to_text

FIELD, ROW, FILE = "field", "row", "file"  # what an item's value depends on


@dataclass
class FileContext:
    """Per-file values of METADATA$ columns, and the statement's CURRENT_TIMESTAMP()."""

    path: str
    name: str
    scan_time: datetime.datetime
    statement_time: datetime.datetime

    @classmethod
    def of(cls, f: StagedFile, statement_time: datetime.datetime) -> FileContext:
        # METADATA$START_SCAN_TIME is a TIMESTAMP_LTZ: in the statement's (the session's) time zone
        return cls(f.path, f.name, datetime.datetime.now(statement_time.tzinfo or datetime.UTC), statement_time)

    @functools.cached_property
    def last_modified(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(os.path.getmtime(self.path), tz=datetime.UTC)

    @functools.cached_property
    def content_key(self) -> str:
        with open(self.path, "rb") as fh:
            return hashlib.md5(fh.read()).hexdigest()  # noqa: S324 - an identity, not security


# value of an item, given the staged field it reads (None if NULL or missing), row number and file
ItemFn = Callable[[str | None, int, FileContext], object]


@dataclass(frozen=True)
class Item:
    fn: ItemFn
    scope: str  # FIELD | ROW | FILE (constant items are FILE)
    field: int | None = None  # 0-based index of the staged field read, if any
    plain: str | None = None  # "field" ($n as is) or "row_number" (METADATA$FILE_ROW_NUMBER): SQL reads them


@dataclass(frozen=True)
class Target:
    name: str
    ordinal: int  # 1-based position in the table
    ctype: ColumnType


@dataclass(frozen=True)
class Projection:
    table: str
    targets: list[Target]
    items: list[Item]
    transform: bool

    def column_label(self, j: int | None, field_index: int | None = None) -> str:
        if j is None:
            return f'"{self.table}"[{(field_index or 0) + 1}]'
        t = self.targets[j]
        return f'"{self.table}"["{t.name}":{t.ordinal}]'

    def target_of_field(self, field_index: int) -> int | None:
        for j, item in enumerate(self.items):
            if item.field == field_index:
                return j
        return None


_METADATA: dict[str, tuple[str, ItemFn]] = {
    "METADATA$FILENAME": (FILE, lambda v, r, c: c.name),
    "METADATA$FILE_ROW_NUMBER": (ROW, lambda v, r, c: r),
    "METADATA$START_SCAN_TIME": (FILE, lambda v, r, c: c.scan_time),
    "METADATA$FILE_LAST_MODIFIED": (FILE, lambda v, r, c: c.last_modified),
    "METADATA$FILE_CONTENT_KEY": (FILE, lambda v, r, c: c.content_key),
}
_STRING_FUNCS: dict[type, Callable[[str], str]] = {exp.Upper: str.upper, exp.Lower: str.lower}


def _field_item(index: int) -> Item:
    return Item(lambda v, r, c: v, FIELD, index, plain="field")


def _literal(value: object) -> Item:
    return Item(lambda v, r, c: value, FILE)


def _wrap(inner: Item, fn: Callable[[object], object]) -> Item:
    inner_fn = inner.fn

    def wrapped(v: str | None, r: int, c: FileContext) -> object:
        value = inner_fn(v, r, c)
        return None if value is None else fn(value)

    return Item(wrapped, inner.scope, inner.field)


def _combine(e: exp.Expression, parts: list[Item], fn: Callable[[list[object]], object]) -> Item:
    """An item computed from other items' values, NULL if any of them is NULL."""
    fields = {p.field for p in parts if p.field is not None}
    if len(fields) > 1:
        raise NotImplementedError(f"COPY transformation item {e.sql(dialect='snowflake')} reading two or more fields")
    # an item reads at most one field; it needs the row number if any part does
    scope = ROW if any(p.scope == ROW for p in parts) else FIELD if fields else FILE
    fns = [p.fn for p in parts]

    def combined(v: str | None, r: int, c: FileContext) -> object:
        values = [f(v, r, c) for f in fns]
        return None if any(value is None for value in values) else fn(values)

    return Item(combined, scope, next(iter(fields), None))


def _part_number(value: object) -> int:
    """SPLIT_PART's part number as an integer (text is converted like a NUMBER; halves round away from 0)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        number = value if isinstance(value, Decimal) else Decimal(to_text(value).strip())
        return int(number.quantize(Decimal(1), rounding=decimal.ROUND_HALF_UP))
    except (decimal.InvalidOperation, ValueError) as e:
        raise not_recognized("Numeric value", to_text(value)) from e


def split_part(text: str, delimiter: str, n: int) -> str:
    """Snowflake's SPLIT_PART of non-NULL values.

    >>> [split_part("day=1/batch_7/a.csv", "/", n) for n in (1, 0, -1, -2, 4, -4)]
    ['day=1', 'day=1', 'a.csv', 'batch_7', '', '']
    >>> split_part("a.csv", "/", -2), split_part("abc", "", 1)
    ('', 'abc')
    """
    parts = text.split(delimiter) if delimiter else [text]
    index = max(n, 1) - 1 if n >= 0 else len(parts) + n
    return parts[index] if 0 <= index < len(parts) else ""


def _compile(e: exp.Expression, opts: CopyOptions) -> Item:
    if isinstance(e, exp.Alias):
        return _compile(e.this, opts)
    if isinstance(e, exp.Column) and isinstance(e.this, exp.Parameter):
        return _compile(e.this, opts)
    if isinstance(e, exp.Parameter) and isinstance(e.this, exp.Literal) and not e.this.is_string:
        return _field_item(int(e.this.this) - 1)
    if isinstance(e, exp.Column) and not e.table and e.name.upper() in _METADATA:
        scope, fn = _METADATA[e.name.upper()]
        return Item(fn, scope, plain="row_number" if e.name.upper() == "METADATA$FILE_ROW_NUMBER" else None)
    if isinstance(e, exp.Literal):
        return _literal(e.this if e.is_string else Decimal(e.this))
    if isinstance(e, exp.Neg) and isinstance(e.this, exp.Literal) and not e.this.is_string:
        return _literal(-Decimal(e.this.this))
    if isinstance(e, exp.Null):
        return _literal(None)
    if isinstance(e, exp.Boolean):
        return _literal(bool(e.this))
    if isinstance(e, exp.CurrentTimestamp | exp.CurrentDate) or (
        isinstance(e, exp.Anonymous) and e.name.upper() in {"SYSDATE", "CURRENT_TIMESTAMP", "LOCALTIMESTAMP"}
    ):
        as_date = isinstance(e, exp.CurrentDate)
        return Item(lambda v, r, c: c.statement_time.date() if as_date else c.statement_time, FILE)
    if isinstance(e, exp.Cast):
        ctype = column_type(e.to.sql(dialect="duckdb"))
        return _wrap(_compile(e.this, opts), caster(ctype, opts.csv.formats))
    if isinstance(e, exp.Anonymous) and e.name.lower() == "_fs_to_timestamp":
        # fakesnow rewrites $n::TIMESTAMP_NTZ to _fs_to_timestamp($n, 0)
        return _wrap(_compile(e.expressions[0], opts), caster(column_type("TIMESTAMP"), opts.csv.formats))
    if isinstance(e, exp.Trim) and not e.args.get("expression"):
        return _wrap(_compile(e.this, opts), lambda value: to_text(value).strip())
    if type(e) in _STRING_FUNCS:
        fn = _STRING_FUNCS[type(e)]
        return _wrap(_compile(e.this, opts), lambda value: fn(to_text(value)))
    if isinstance(e, exp.SplitPart):
        args = [e.this, e.args.get("delimiter"), e.args.get("part_index")]
        if any(a is None for a in args):
            raise NotImplementedError(f"COPY transformation item {e.sql(dialect='snowflake')}")
        return _combine(
            e,
            [_compile(a, opts) for a in args],
            lambda v: split_part(to_text(v[0]), to_text(v[1]), _part_number(v[2])),
        )
    if isinstance(e, exp.ConvertTimezone):
        return _convert_timezone(e, opts)
    if isinstance(e, exp.Concat | exp.DPipe):
        args = e.expressions if isinstance(e, exp.Concat) else [e.this, e.expression]
        return _combine(e, [_compile(a, opts) for a in args], lambda v: "".join(map(to_text, v)))
    raise NotImplementedError(f"COPY transformation item {e.sql(dialect='snowflake')}")


def _convert_timezone(e: exp.ConvertTimezone, opts: CopyOptions) -> Item:
    """CONVERT_TIMEZONE(target_tz, ts): a zoned (LTZ/TZ) value at the same instant in target_tz;
    CONVERT_TIMEZONE(source_tz, target_tz, ts): a wall-clock (NTZ) value read in source_tz, as target_tz's wall clock
    (https://docs.snowflake.com/en/sql-reference/functions/convert_timezone)."""
    from zoneinfo import ZoneInfo

    target, source = e.args.get("target_tz"), e.args.get("source_tz")
    if not isinstance(target, exp.Literal) or (source is not None and not isinstance(source, exp.Literal)):
        raise NotImplementedError(f"COPY transformation item {e.sql(dialect='snowflake')} (time zones as literals)")
    to_zone = ZoneInfo(target.this)
    from_zone = ZoneInfo(source.this) if source is not None else None

    def convert(value: object) -> object:
        if not isinstance(value, datetime.datetime):
            raise NotImplementedError(f"COPY transformation item {e.sql(dialect='snowflake')} of a non-timestamp")
        if from_zone is not None:  # NTZ in, NTZ out
            return value.replace(tzinfo=from_zone).astimezone(to_zone).replace(tzinfo=None)
        return (value if value.tzinfo else value.replace(tzinfo=datetime.UTC)).astimezone(to_zone)

    return _wrap(_compile(e.args["timestamp"], opts), convert)


def build_projection(
    expr: exp.Copy,
    table: str,
    columns: list[tuple[str, str]],
    text_lengths: dict[str, int],
    opts: CopyOptions,
) -> Projection:
    """columns: the table's (name, DuckDB type), in order."""
    ordinals = {name: i + 1 for i, (name, _) in enumerate(columns)}
    by_upper = {name.upper(): name for name, _ in columns}
    types = dict(columns)

    target_expr = expr.this
    if isinstance(target_expr, exp.Schema) and target_expr.expressions:
        names = []
        for ident in target_expr.expressions:
            name = ident.name
            if name not in ordinals and not (ident.args.get("quoted") is False and name.upper() in by_upper):
                raise snowflake.connector.errors.ProgrammingError(
                    msg=f"SQL compilation error:\nerror line 1 at position 0\ninvalid identifier '{name}'",
                    errno=904,
                    sqlstate="42000",
                )
            names.append(name if name in ordinals else by_upper[name.upper()])
    else:
        names = [name for name, _ in columns]
    targets = [Target(n, ordinals[n], column_type(types[n], text_lengths.get(n))) for n in names]

    source = expr.args["files"][0]
    if isinstance(source, exp.Subquery):
        select = source.this
        assert isinstance(select, exp.Select), f"{select.__class__} is not a Select"
        items = [_compile(e, opts) for e in select.expressions]
        if len(items) != len(targets):
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nInsert value list does not match column list expecting "
                f"{len(targets)} but got {len(items)}",
                errno=2020,
                sqlstate="21S01",
            )
        return Projection(table, targets, items, transform=True)
    return Projection(table, targets, [_field_item(i) for i in range(len(targets))], transform=False)


def match_projection(
    table: str, columns: list[tuple[str, str]], text_lengths: dict[str, int], header: list[str], opts: CopyOptions,
) -> Projection:
    """The projection of a MATCH_BY_COLUMN_NAME load for one file, given its header (PARSE_HEADER).

    A table column loads the file's field of the same name (exact, or ignoring case for CASE_INSENSITIVE);
    INCLUDE_METADATA's columns load their METADATA$ value (it takes precedence over a field of the same name);
    any other table column loads NULL, and fields that match no column are not loaded
    (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table, MATCH_BY_COLUMN_NAME and INCLUDE_METADATA).
    """
    fold = (lambda s: s.upper()) if opts.match_by_column_name == "CASE_INSENSITIVE" else (lambda s: s)
    by_name: dict[str, int] = {}
    for i, name in enumerate(header):
        by_name.setdefault(fold(name.strip()), i)
    known = {name for name, _ in columns}
    for column in opts.include_metadata:
        if column not in known:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\nerror line 1 at position 0\ninvalid identifier '{column}'",
                errno=904, sqlstate="42000")
    targets, items = [], []
    for ordinal, (name, duck_type) in enumerate(columns, start=1):
        targets.append(Target(name, ordinal, column_type(duck_type, text_lengths.get(name))))
        if name in opts.include_metadata:
            field_ = opts.include_metadata[name]
            scope, fn = _METADATA[field_]
            items.append(Item(fn, scope, plain="row_number" if field_ == "METADATA$FILE_ROW_NUMBER" else None))
        elif (index := by_name.get(fold(name))) is not None:
            items.append(_field_item(index))
        else:
            items.append(_literal(None))
    return Projection(table, targets, items, transform=True)
