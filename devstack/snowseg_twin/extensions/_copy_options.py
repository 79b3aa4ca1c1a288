"""Read COPY INTO <table> copy options and CSV file format options.

Emulates Snowflake's option handling: FILE_FORMAT = (FORMAT_NAME = '...' | TYPE = CSV ...), where
options given inline override the named format's; FILES, PATTERN, ON_ERROR (ABORT_STATEMENT,
CONTINUE, SKIP_FILE, SKIP_FILE_<n>, 'SKIP_FILE_<n>%'), FORCE, PURGE, TRUNCATECOLUMNS/ENFORCE_LENGTH,
RETURN_FAILED_ONLY and LOAD_UNCERTAIN_FILES (accepted; the twin has no files of uncertain status).

CSV options a format doesn't set take Snowflake's defaults
(https://docs.snowflake.com/en/sql-reference/sql/create-file-format): ESCAPE_UNENCLOSED_FIELD = '\\'
(backslash: "A singlebyte character string used as the escape character for unenclosed field values only"),
SKIP_BLANK_LINES = FALSE, NULL_IF = ('\\N'), EMPTY_FIELD_AS_NULL = TRUE, ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE,
SKIP_BYTE_ORDER_MARK = TRUE, ESCAPE = NONE, FIELD_OPTIONALLY_ENCLOSED_BY = NONE.

Differs from Snowflake: options the twin can't honour raise NotImplementedError naming the option
(eg: multi-character FIELD_DELIMITER, RECORD_DELIMITER other than newline, ESCAPE other than NONE,
ENCODING other than UTF8, VALIDATION_MODE, SIZE_LIMIT).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, cast

import snowflake.connector.errors
from duckdb import DuckDBPyConnection
from snowseg_twin.extensions._fakesnow_compat import MutableParams, pop_qmark_param
from snowseg_twin.extensions._fakesnow_compat import lookup_file_format
from snowseg_twin.extensions._fakesnow_compat import parse_options
from sqlglot import exp

from snowseg_twin.extensions._values import Formats


@dataclass(frozen=True)
class CsvFormat:
    field_delimiter: str = ","
    skip_header: int = 0
    skip_blank_lines: bool = False
    quote: str | None = None
    escape_unenclosed: str | None = "\\"  # ESCAPE_UNENCLOSED_FIELD; None for NONE
    null_if: frozenset[str] = frozenset({"\\N"})
    empty_field_as_null: bool = True
    trim_space: bool = False
    formats: Formats = Formats()
    compression: str = "AUTO"
    error_on_column_count_mismatch: bool = True
    skip_byte_order_mark: bool = True
    replace_invalid_characters: bool = False
    parse_header: bool = False  # the first record names the columns (MATCH_BY_COLUMN_NAME reads it)

    @property
    def nulls(self) -> frozenset[str]:
        return self.null_if | {""} if self.empty_field_as_null else self.null_if


@dataclass(frozen=True)
class OnError:
    mode: str = "ABORT_STATEMENT"  # ABORT_STATEMENT | CONTINUE | SKIP_FILE
    limit: int | None = None  # SKIP_FILE_<n>
    percent: float | None = None  # SKIP_FILE_<n>%

    def error_limit(self, rows_parsed: int) -> int:
        """The error_limit column of COPY's output."""
        if self.mode == "CONTINUE":
            return rows_parsed
        if self.percent is not None:
            return max(1, math.ceil(rows_parsed * self.percent / 100))
        return self.limit or 1

    def skips_file(self, errors_seen: int, rows_parsed: int) -> bool:
        """Whether a file with this many error rows is skipped (LOAD_FAILED) rather than loaded."""
        if errors_seen == 0 or self.mode == "CONTINUE":
            return False
        if self.percent is not None:
            return errors_seen * 100 > self.percent * rows_parsed
        return errors_seen >= (self.limit or 1)


@dataclass
class CopyOptions:
    format_type: str = "CSV"
    csv: CsvFormat = field(default_factory=CsvFormat)
    files: list[str] | None = None
    pattern: str | None = None
    on_error: OnError = field(default_factory=OnError)
    force: bool = False
    purge: bool = False
    truncate_columns: bool = False
    return_failed_only: bool = False
    match_by_column_name: str | None = None  # CASE_SENSITIVE | CASE_INSENSITIVE; None for NONE
    include_metadata: dict[str, str] = field(default_factory=dict)  # target column -> METADATA$ column


def _value(param: exp.CopyParameter) -> Any:  # noqa: ANN401
    value = param.args.get("expression")
    if value is None and param.expressions:
        return [e.name for e in param.expressions]
    if isinstance(value, exp.Boolean):
        return value.this
    if isinstance(value, exp.Tuple | exp.Paren):
        return [e.name for e in value.find_all(exp.Literal)]
    if isinstance(value, exp.Literal | exp.Var):
        return value.name
    raise NotImplementedError(f"COPY option {param.this.name} = {value and value.sql(dialect='snowflake')}")


def _bool(value: Any) -> bool:  # noqa: ANN401
    return value if isinstance(value, bool) else str(value).upper() == "TRUE"


def _on_error(value: str) -> OnError:
    v = value.upper()
    if v in {"ABORT_STATEMENT", "CONTINUE", "SKIP_FILE"}:
        return OnError(v)
    if m := re.fullmatch(r"SKIP_FILE_(\d+)", v):
        return OnError("SKIP_FILE", limit=int(m[1]))
    if m := re.fullmatch(r"SKIP_FILE_(\d+(?:\.\d+)?)%", v):
        return OnError("SKIP_FILE", percent=float(m[1]))
    raise NotImplementedError(f"ON_ERROR = {value}")


def file_format_options(
    expr: exp.Copy, duck_conn: DuckDBPyConnection, current_database: str | None, current_schema: str | None
) -> dict[str, Any]:
    """The FILE_FORMAT options of a COPY: the named format's, overridden by any given inline."""
    for param in cast(list[exp.CopyParameter], expr.args.get("params") or []):
        if param.this.name.upper() == "FILE_FORMAT":
            inline = parse_options(param.expressions)
            if format_name := inline.pop("FORMAT_NAME", None):
                named = lookup_file_format(duck_conn, str(format_name), current_database, current_schema)
                inline = {**named, **inline}
            return inline
    return {}


def parse_copy_options(expr: exp.Copy, params: MutableParams | None, format_options: dict[str, Any]) -> CopyOptions:
    opts = CopyOptions()
    for param in cast(list[exp.CopyParameter], expr.args.get("params") or []):
        name = param.this.name.upper()
        if name == "FILE_FORMAT":
            continue
        if name == "ON_ERROR" and isinstance(param.args.get("expression"), exp.Placeholder):
            opts.on_error = _on_error(str(pop_qmark_param(params, expr, param.args["expression"])))
            continue
        value = _value(param)
        if name == "ON_ERROR":
            opts.on_error = _on_error(str(value))
        elif name == "FILES":
            opts.files = value if isinstance(value, list) else [value]
        elif name == "PATTERN":
            opts.pattern = str(value)
        elif name == "FORCE":
            opts.force = _bool(value)
        elif name == "PURGE":
            opts.purge = _bool(value)
        elif name == "TRUNCATECOLUMNS":
            opts.truncate_columns = _bool(value)
        elif name == "ENFORCE_LENGTH":
            opts.truncate_columns = not _bool(value)
        elif name == "RETURN_FAILED_ONLY":
            opts.return_failed_only = _bool(value)
        elif name == "LOAD_UNCERTAIN_FILES":
            pass
        elif name == "MATCH_BY_COLUMN_NAME":
            mode = str(value).upper()
            if mode not in {"CASE_SENSITIVE", "CASE_INSENSITIVE", "NONE"}:
                raise NotImplementedError(f"COPY option MATCH_BY_COLUMN_NAME = {value}")
            opts.match_by_column_name = None if mode == "NONE" else mode
        elif name == "INCLUDE_METADATA":
            opts.include_metadata = _include_metadata(param)
        else:
            raise NotImplementedError(f"COPY option {name}")
    opts.format_type = str(format_options.get("TYPE", "CSV")).upper()
    if opts.format_type == "CSV":
        opts.csv = csv_format(format_options)
    return opts


#: The METADATA$ columns INCLUDE_METADATA may map (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table).
INCLUDE_METADATA_FIELDS = ("METADATA$FILENAME", "METADATA$FILE_ROW_NUMBER", "METADATA$FILE_CONTENT_KEY",
                           "METADATA$FILE_LAST_MODIFIED", "METADATA$START_SCAN_TIME")


def _include_metadata(param: exp.CopyParameter) -> dict[str, str]:
    """INCLUDE_METADATA = (col = METADATA$..., ...) as {target column (as stored): METADATA$ column}."""
    value = param.args.get("expression")
    pairs = value.expressions if isinstance(value, exp.Tuple) else [value.this] if isinstance(value, exp.Paren) else []
    out: dict[str, str] = {}
    for pair in pairs:
        if not isinstance(pair, exp.EQ) or not isinstance(pair.this, exp.Column):
            raise NotImplementedError(f"COPY option INCLUDE_METADATA item {pair.sql(dialect='snowflake')}")
        column, field_ = pair.this, pair.expression.name.upper()
        if field_ not in INCLUDE_METADATA_FIELDS:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"SQL compilation error:\ninvalid value '{pair.expression.sql(dialect='snowflake')}' for "
                    f"INCLUDE_METADATA: use one of {', '.join(INCLUDE_METADATA_FIELDS)}", errno=1008, sqlstate="22023")
        quoted = bool(column.this.args.get("quoted")) if isinstance(column.this, exp.Identifier) else False
        out[column.name if quoted else column.name.upper()] = field_
    return out


def _char(name: str, value: Any) -> str | None:  # noqa: ANN401
    s = str(value)
    if s.upper() == "NONE":
        return None
    s = {"\\t": "\t", "\\|": "|", "\\\\": "\\"}.get(s, s)
    if len(s) != 1:
        raise NotImplementedError(f"FILE_FORMAT option {name} = '{value}' (only single characters)")
    return s


def csv_format(options: dict[str, Any]) -> CsvFormat:
    kw: dict[str, Any] = {}
    formats: dict[str, str] = {}
    for name, value in options.items():
        if name in {"TYPE", "FILE_EXTENSION", "VALIDATE_UTF8"}:
            continue
        if name == "FIELD_DELIMITER":
            delimiter = _char(name, value)
            if delimiter is None:
                raise NotImplementedError("FILE_FORMAT option FIELD_DELIMITER = NONE")
            kw["field_delimiter"] = delimiter
        elif name == "RECORD_DELIMITER":
            if str(value) not in {"\n", "\\n", "\r\n", "\\r\\n"}:
                raise NotImplementedError(f"FILE_FORMAT option RECORD_DELIMITER = '{value}'")
        elif name == "SKIP_HEADER":
            kw["skip_header"] = int(value)
        elif name == "PARSE_HEADER":
            kw["parse_header"] = _bool(value)
        elif name == "SKIP_BLANK_LINES":
            kw["skip_blank_lines"] = _bool(value)
        elif name == "FIELD_OPTIONALLY_ENCLOSED_BY":
            kw["quote"] = _char(name, value)
        elif name == "NULL_IF":
            kw["null_if"] = frozenset(str(v) for v in (value if isinstance(value, list) else [value]))
        elif name == "EMPTY_FIELD_AS_NULL":
            kw["empty_field_as_null"] = _bool(value)
        elif name == "TRIM_SPACE":
            kw["trim_space"] = _bool(value)
        elif name in {"DATE_FORMAT", "TIME_FORMAT", "TIMESTAMP_FORMAT"}:
            formats[name.split("_")[0].lower()] = str(value)
        elif name == "COMPRESSION":
            compression = str(value).upper()
            if compression not in {"AUTO", "AUTO_DETECT", "GZIP", "BZ2", "NONE"}:
                raise NotImplementedError(f"FILE_FORMAT option COMPRESSION = {value}")
            kw["compression"] = compression
        elif name == "ERROR_ON_COLUMN_COUNT_MISMATCH":
            kw["error_on_column_count_mismatch"] = _bool(value)
        elif name == "SKIP_BYTE_ORDER_MARK":
            kw["skip_byte_order_mark"] = _bool(value)
        elif name == "REPLACE_INVALID_CHARACTERS":
            kw["replace_invalid_characters"] = _bool(value)
        elif name == "ENCODING":
            if str(value).upper().replace("-", "") != "UTF8":
                raise NotImplementedError(f"FILE_FORMAT option ENCODING = '{value}'")
        elif name == "ESCAPE_UNENCLOSED_FIELD":
            kw["escape_unenclosed"] = _char(name, value)
        elif name == "ESCAPE":
            if str(value).upper() != "NONE":
                raise NotImplementedError(f"FILE_FORMAT option {name} = '{value}'")
        elif name == "BINARY_FORMAT":
            if str(value).upper() != "HEX":
                raise NotImplementedError(f"FILE_FORMAT option BINARY_FORMAT = {value}")
        else:
            raise NotImplementedError(f"FILE_FORMAT option {name}")
    return CsvFormat(formats=Formats(**formats), **kw)
