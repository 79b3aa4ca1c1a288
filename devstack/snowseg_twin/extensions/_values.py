"""Convert staged CSV strings to a target column's type, as Snowflake does when loading.

Emulates the implicit conversion COPY INTO <table> applies per target column, and explicit
`$n::TYPE` casts in a COPY transformation:
- VARCHAR(n): length checked in characters (error 100074), or truncated with TRUNCATECOLUMNS.
- NUMBER(p,s): decimal text with optional sign and exponent, rounded half away from zero to the
  scale; more than p-s integer digits is "out of range" (100039). Integer types likewise, scale 0.
- FLOAT/DOUBLE: decimal text, exponent, NaN and [+-]inf/infinity.
- DATE/TIME/TIMESTAMP: the file format's DATE_FORMAT/TIME_FORMAT/TIMESTAMP_FORMAT (or AUTO).
- BOOLEAN: true/false, t/f, yes/no, y/n, on/off, 1/0 (case-insensitive).
- VARIANT: the string, as a JSON string. BINARY: hex text.

A converter returns the value as canonical text that DuckDB casts losslessly to the column type,
so rows can be inserted in bulk with one INSERT ... SELECT CAST(...).

fast_sql() is the vectorised twin of a converter: a DuckDB expression that gives the typed value of a
staged string, or NULL when it cannot vouch for the value. It accepts a subset of what the converter
accepts (a syntax check in RE2 before any cast, since DuckDB's casts are more lenient, eg: '1_000',
'+-3', '8e0.'), with the same value; the COPY engine hands every string it leaves NULL to the converter,
which is the reference (and the only source of error messages).

Differs from Snowflake: numeric, boolean and float values tolerate surrounding whitespace; casts to
VARCHAR(n) in a transformation don't check length (the target column still does); binary columns
only accept hex.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from snowseg_twin.extensions import _errors as errors
from snowseg_twin.extensions._datetime_formats import (
    DATE_AUTO,
    date_parser,
    pattern_and_strptime,
    time_parser,
    timestamp_parser,
)

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_FLOAT_SPECIAL = {"nan": "NaN", "inf": "Infinity", "+inf": "Infinity", "-inf": "-Infinity",
                  "infinity": "Infinity", "+infinity": "Infinity", "-infinity": "-Infinity"}  # fmt: skip
_CONTEXT = Context(prec=120)  # wider than NUMBER(38,s), so quantize never loses digits
_TRUE = {"true", "t", "yes", "y", "on", "1"}
_FALSE = {"false", "f", "no", "n", "off", "0"}
_INT_BOUNDS = {
    "TINYINT": 2**7, "SMALLINT": 2**15, "INTEGER": 2**31, "INT": 2**31, "BIGINT": 2**63, "HUGEINT": 2**127,
}  # fmt: skip
_UINT_BOUNDS = {"UTINYINT": 2**8, "USMALLINT": 2**16, "UINTEGER": 2**32, "UBIGINT": 2**64}


@dataclass(frozen=True)
class ColumnType:
    """A load target type, derived from the DuckDB type fakesnow stores the Snowflake column as."""

    kind: str  # text | number | float | date | time | timestamp | timestamp_tz | boolean | variant | binary
    duck_type: str
    precision: int = 38
    scale: int = 0
    max_length: int | None = None
    low: int | None = None  # integer bounds, inclusive
    high: int | None = None


@dataclass(frozen=True)
class Formats:
    date: str = "AUTO"
    time: str = "AUTO"
    timestamp: str = "AUTO"


def column_type(duck_type: str, max_length: int | None = None) -> ColumnType:
    t = duck_type.upper()
    if t.startswith("VARCHAR") or t in {"TEXT", "STRING"}:
        return ColumnType("text", "VARCHAR", max_length=max_length)
    if m := re.fullmatch(r"(?:DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)", t):
        return ColumnType("number", t, precision=int(m[1]), scale=int(m[2]))
    if t in _INT_BOUNDS:
        bound = _INT_BOUNDS[t]
        return ColumnType("number", t, precision=38, scale=0, low=-bound, high=bound - 1)
    if t in _UINT_BOUNDS:
        return ColumnType("number", t, precision=38, scale=0, low=0, high=_UINT_BOUNDS[t] - 1)
    if t in {"DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8"}:
        return ColumnType("float", t)
    if t == "DATE":
        return ColumnType("date", t)
    if t.startswith("TIME") and "STAMP" not in t:
        return ColumnType("time", "TIME")
    if t in {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}:
        return ColumnType("timestamp_tz", "TIMESTAMPTZ")
    if t.startswith("TIMESTAMP"):
        return ColumnType("timestamp", "TIMESTAMP")
    if t == "BOOLEAN":
        return ColumnType("boolean", t)
    if t == "JSON":
        return ColumnType("variant", t)
    if t == "BLOB":
        return ColumnType("binary", t)
    raise NotImplementedError(f"COPY INTO a column of type {duck_type}")


def to_text(value: object) -> str:
    """Typed value as Snowflake renders it when converting to VARCHAR."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _decimal(value: object, ctype: ColumnType) -> Decimal:
    if isinstance(value, str):
        if not _NUMBER.fullmatch(value):
            raise errors.not_recognized("Numeric value", value)
        number = Decimal(value.strip())
    elif isinstance(value, bool):
        number = Decimal(int(value))
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise errors.not_recognized("Numeric value", value)
        number = Decimal(repr(value))
    else:
        raise errors.not_recognized("Numeric value", to_text(value))
    try:
        rounded = number.quantize(Decimal(1).scaleb(-ctype.scale), rounding=ROUND_HALF_UP, context=_CONTEXT)
    except InvalidOperation:
        raise errors.out_of_range(value) from None
    integer_digits = len(rounded.as_tuple().digits) - ctype.scale if rounded else 0
    if integer_digits > ctype.precision - ctype.scale:
        raise errors.out_of_range(value)
    if ctype.low is not None and not ctype.low <= rounded <= ctype.high:  # type: ignore[operator]
        raise errors.out_of_range(value)
    return rounded


def caster(ctype: ColumnType, formats: Formats, truncate: bool = False) -> Callable[[object], object]:
    """A function converting a staged string or typed value to a typed Python value of ctype.

    Raises LoadError for values Snowflake doesn't recognise as the type.
    """
    kind = ctype.kind
    if kind == "text":
        limit = ctype.max_length

        def text(value: object) -> str:
            s = value if isinstance(value, str) else to_text(value)
            if limit is not None and len(s) > limit:
                if truncate:
                    return s[:limit]
                raise errors.too_long(limit, s)
            return s

        return text
    if kind == "number":
        return lambda value: _decimal(value, ctype)
    if kind == "float":

        def to_float(value: object) -> float:
            if isinstance(value, str):
                s = value.strip()
                if special := _FLOAT_SPECIAL.get(s.lower()):
                    return float(special)
                if not _NUMBER.fullmatch(s):
                    raise errors.not_recognized("Numeric value", value)
                return float(s)
            if isinstance(value, int | float | Decimal):
                return float(value)
            raise errors.not_recognized("Numeric value", to_text(value))

        return to_float
    if kind == "date":
        parse_date = date_parser(formats.date)

        def to_date(value: object) -> datetime.date:
            if isinstance(value, datetime.datetime):
                return value.date()
            if isinstance(value, datetime.date):
                return value
            if isinstance(value, str) and (d := parse_date(value)) is not None:
                return d
            raise errors.not_recognized("Date", to_text(value))

        return to_date
    if kind == "time":
        parse_time = time_parser(formats.time)

        def to_time(value: object) -> datetime.time:
            if isinstance(value, datetime.datetime):
                return value.time()
            if isinstance(value, datetime.time):
                return value
            if isinstance(value, str) and (t := parse_time(value)) is not None:
                return t
            raise errors.not_recognized("Time", to_text(value))

        return to_time
    if kind in {"timestamp", "timestamp_tz"}:
        parse_ts = timestamp_parser(formats.timestamp)

        def to_timestamp(value: object) -> datetime.datetime:
            if isinstance(value, datetime.datetime):
                ts = value
            elif isinstance(value, datetime.date):
                ts = datetime.datetime.combine(value, datetime.time())
            elif isinstance(value, str) and (parsed := parse_ts(value)) is not None:
                ts = parsed
            else:
                raise errors.not_recognized("Timestamp", to_text(value))
            if kind == "timestamp" and ts.tzinfo is not None:
                return ts.replace(tzinfo=None)  # NTZ keeps the wallclock, dropping the offset
            if kind == "timestamp_tz" and ts.tzinfo is None:
                return ts.replace(tzinfo=datetime.UTC)  # session timezone is UTC
            return ts

        return to_timestamp
    if kind == "boolean":

        def to_bool(value: object) -> bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, int | float | Decimal):
                return value != 0
            s = str(value).strip().lower()
            if s in _TRUE:
                return True
            if s in _FALSE:
                return False
            raise errors.not_recognized("Boolean value", value)

        return to_bool
    if kind == "variant":
        return lambda value: value
    if kind == "binary":

        def to_binary(value: object) -> bytes:
            try:
                return bytes.fromhex(str(value))
            except ValueError:
                msg = f"The following string is not a legal hex-encoded value: '{value}'"
                raise errors.LoadError(100115, "22000", msg) from None

        return to_binary
    raise NotImplementedError(kind)


def _serialize(ctype: ColumnType, value: object) -> str:
    """Typed value as text that DuckDB casts exactly to the column's DuckDB type."""
    kind = ctype.kind
    if kind == "number":
        return format(value, "f")
    if kind == "float":
        return repr(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind in {"timestamp", "timestamp_tz"}:
        return value.isoformat(sep=" ")  # type: ignore[attr-defined]
    if kind in {"date", "time"}:
        return value.isoformat()  # type: ignore[attr-defined]
    if kind == "variant":
        return json.dumps(value if isinstance(value, str | int | float | bool) else to_text(value))
    if kind == "binary":
        return value.hex()  # type: ignore[attr-defined]
    return value  # type: ignore[return-value]


def column_converter(ctype: ColumnType, formats: Formats, truncate: bool = False) -> Callable[[object], str]:
    """A function converting a staged string or typed value to the column's canonical text."""
    cast = caster(ctype, formats, truncate)
    if ctype.kind == "text":
        return cast  # type: ignore[return-value]
    if ctype.kind == "number":
        # fast path for integers, eg: METADATA$FILE_ROW_NUMBER on every row
        suffix = "." + "0" * ctype.scale if ctype.scale else ""
        limit = 10 ** (ctype.precision - ctype.scale)
        low = -limit + 1 if ctype.low is None else ctype.low
        high = limit - 1 if ctype.high is None else ctype.high

        def number(value: object) -> str:
            if type(value) is int and low <= value <= high:
                return f"{value}{suffix}"
            return _serialize(ctype, cast(value))

        return number
    return lambda value: _serialize(ctype, cast(value))


def duck_cast_sql(ctype: ColumnType, column: str) -> str:
    """SQL converting the canonical text in column to the target DuckDB type."""
    if ctype.kind == "text":
        return column
    if ctype.kind == "binary":
        return f"unhex({column})"
    return f"CAST({column} AS {ctype.duck_type})"


# what DuckDB may cast: the converter's number syntax without surrounding whitespace (RE2 syntax; its \\d
# is ASCII-only, so it accepts a subset of the converter's Unicode-aware regex)
_NUMBER_RE2 = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
_BOOL_SQL = ", ".join(
    [f"'{v}': true" for v in sorted(_TRUE)] + [f"'{v}': false" for v in sorted(_FALSE)]
)
_FAST_FORMATS = {"date": ("date", "DATE"), "time": ("time", "TIME"), "timestamp": ("timestamp", "TIMESTAMP")}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _datetime_sql(ctype: ColumnType, formats: Formats, raw: str) -> tuple[str, str | None] | None:
    attr, duck = _FAST_FORMATS[ctype.kind]
    fmt = getattr(formats, attr)
    if fmt.upper() == "AUTO":
        if ctype.kind != "date":
            return None  # AUTO times and timestamps include fractions and zones: the converter decides
        candidates = DATE_AUTO
    else:
        candidates = [fmt]
    need = {"date": {"year", "month", "day"}, "time": {"hour", "minute"}}.get(ctype.kind, {"year", "month", "day", "hour", "minute"})
    found_formats = [pattern_and_strptime(c) for c in candidates]
    if len(found_formats) == 1 and found_formats[0] is not None and need <= found_formats[0][2]:
        pattern, strptime_format, _ = found_formats[0]
        value = f"CAST(try_strptime({raw}, {_sql_string(strptime_format)}) AS {duck})"
        return value, f"regexp_full_match({raw}, {_sql_string('(?i)' + pattern)})"
    whens = []
    for candidate in candidates:
        found = pattern_and_strptime(candidate)
        if found is None or not need <= found[2]:
            return None
        pattern, strptime_format, _ = found
        # the converter uses the first format whose pattern matches, valid or not: so does the CASE
        whens.append(
            f"WHEN regexp_full_match({raw}, {_sql_string('(?i)' + pattern)}) "
            f"THEN CAST(try_strptime({raw}, {_sql_string(strptime_format)}) AS {duck})"
        )
    return f"CASE {' '.join(whens)} END", None


#: Bytes a staged number may be made of for its syntax check to be left to DuckDB's cast: over this alphabet, a
#: TRY_CAST to DECIMAL (or through DECIMAL(38,0) to an integer) succeeds exactly on the strings _NUMBER_RE2 accepts
#: (tests/twin/test_copy_batches.py checks every string of up to five such characters). Not for DOUBLE: its
#: cast takes '+-3'.
PLAIN_NUMBER_BYTES = b"0123456789.+-"


@dataclass(frozen=True)
class Known:
    """What the COPY engine knows of every value of a column in a batch (from the batch's bytes), so that
    fast_sql() can drop a guard the values cannot fail: ``plain_number``: every byte is in PLAIN_NUMBER_BYTES;
    ``max_bytes``: no value is longer (in bytes, so in characters) than this."""

    plain_number: bool = False
    max_bytes: int | None = None


def fast_sql(ctype: ColumnType, formats: Formats, raw: str, known: Known = Known()) -> tuple[str, str | None] | None:
    """DuckDB SQL (value, guard) for the typed value of the non-NULL staged string `raw`.

    Where guard (a condition; None: always) holds and value is not NULL, value is what the converter gives;
    elsewhere the converter must decide. None when the type has no vectorised conversion (the engine then
    converts each distinct string with the converter). The guard is kept apart so that a query can test
    it once, in its WHERE, and compute values without it; `known` lets it go where it cannot fail (the
    syntax check of a number made of digits, point and signs only; the length of a short text).
    """
    kind = ctype.kind
    if kind == "text":
        short = ctype.max_length is None or (known.max_bytes is not None and known.max_bytes <= ctype.max_length)
        return raw, None if short else f"length({raw}) <= {ctype.max_length}"
    if kind in {"number", "float"}:
        plain = known.plain_number and kind == "number"
        guard = None if plain else f"regexp_full_match({raw}, {_sql_string(_NUMBER_RE2)})"
        if kind == "float":
            return f"TRY_CAST({raw} AS DOUBLE)", guard  # nan / inf spellings are left to the converter
        if ctype.duck_type.startswith(("DECIMAL", "NUMERIC")):
            return f"TRY_CAST({raw} AS {ctype.duck_type})", guard
        # integer types: round like NUMBER(38,0) first (a cast to an integer type would also take hex)
        return f"TRY_CAST(TRY_CAST({raw} AS DECIMAL(38,0)) AS {ctype.duck_type})", guard
    if kind == "boolean":
        return f"map_extract_value(MAP {{{_BOOL_SQL}}}, lower({raw}))", None
    if kind in _FAST_FORMATS:
        return _datetime_sql(ctype, formats, raw)
    return None


def fast_int_sql(ctype: ColumnType, column: str) -> str | None:
    """DuckDB SQL for the typed value of a positive integer column (eg: a row number), NULL where the converter
    must decide; None when only the converter converts integers to the type."""
    if ctype.kind == "number":
        limit = 10 ** (ctype.precision - ctype.scale) - 1
        high = limit if ctype.high is None else min(limit, ctype.high)
        return f"CASE WHEN {column} <= {high} THEN CAST({column} AS {ctype.duck_type}) END"
    if ctype.kind == "text":
        text = f"CAST({column} AS VARCHAR)"
        return text if ctype.max_length is None else f"CASE WHEN length({text}) <= {ctype.max_length} THEN {text} END"
    if ctype.kind == "float":
        return f"CAST({column} AS DOUBLE)"
    return None
