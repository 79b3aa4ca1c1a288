"""COPY INTO <table> ... VALIDATION_MODE = RETURN_ERRORS | RETURN_ALL_ERRORS | RETURN_<n>_ROWS.

Emulates Snowflake's dry run of a plain (non-transforming) COPY from CSV files in internal stages and
external S3 stages (files selected and read as the COPY does: FROM path, FILES, PATTERN, the stage's
FILE_FORMAT when the COPY has none): nothing is loaded, no load history or rejected records are
recorded, and the statement returns
- RETURN_ERRORS: every record the COPY would reject, in the files it would load (files loaded before
  are skipped unless FORCE = TRUE), with VALIDATE's columns (ERROR, FILE, LINE, ... REJECTED_RECORD);
  "loaded before" is the table's COPY load metadata: a file only a pipe loaded (Snowpipe keeps its
  own) is still validated;
- RETURN_ALL_ERRORS: the same over all the files, including ones loaded (or partially loaded) before;
- RETURN_<n>_ROWS: the first n records converted to the target columns' types, with the columns'
  names; a rejected record among them fails the statement with the error ON_ERROR = ABORT_STATEMENT
  gives.
With a transformation SELECT, or a column list (in Snowflake's grammar a column list belongs to the
transformation form: https://docs.snowflake.com/en/sql-reference/sql/copy-into-table), the statement fails
as Snowflake does ("invalid parameter 'validation_mode'"), since VALIDATION_MODE doesn't support COPY
statements that transform data; with MATCH_BY_COLUMN_NAME it fails too ("MATCH_BY_COLUMN_NAME can't be used
with the VALIDATION_MODE parameter").

FILE is the file's path relative to the stage, or for an external stage the object's URL as COPY's
output names it (s3://bucket/key).

Runs the copy_csv engine's pieces (options, file selection incl. s3_stages' download, projection,
per-file conversion) itself by wrapping FakeSnowflakeCursor._execute, and answers with a SELECT of
the result rows.

Differs from Snowflake: external stages other than S3 (and locations given as URLs) and file types
other than CSV raise NotImplementedError; external objects are downloaded to the twin's cache even
though nothing is loaded; the errno of the transformation error is the twin's pick; BYTE_OFFSET is
NULL.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable

import snowflake.connector.errors
import sqlglot
from snowseg_twin.extensions._fakesnow_compat import FakeSnowflakeCursor
from snowseg_twin.extensions._fakesnow_compat import MutableParams
from sqlglot import exp

from snowseg_twin.extensions import copy_csv
from snowseg_twin.extensions._copy_options import OnError, parse_copy_options
from snowseg_twin.extensions._file_load import load_file
from snowseg_twin.extensions._load_history import loaded_before
from snowseg_twin.extensions._projection import build_projection
from snowseg_twin.extensions._table_functions import values_sql
from snowseg_twin.extensions._values import duck_cast_sql
from snowseg_twin.extensions.validate import VALIDATE_COLUMNS, category, has_param, is_load
from snowseg_twin.extensions import _fakesnow_compat as compat

_ROWS = re.compile(r"RETURN_(\d+)_ROWS", re.IGNORECASE)


def _mode(expr: exp.Copy) -> tuple[exp.CopyParameter, str]:
    for p in expr.args.get("params") or []:
        if p.this.name.upper() == "VALIDATION_MODE":
            value = p.args.get("expression")
            return p, (value.name if value is not None else "").upper()
    raise AssertionError("no VALIDATION_MODE")


def validation_sql(cursor: FakeSnowflakeCursor, expr: exp.Copy, params: MutableParams | None) -> str:
    param, mode = _mode(expr)
    rows_limit = int(m[1]) if (m := _ROWS.fullmatch(mode)) else None
    if mode not in {"RETURN_ERRORS", "RETURN_ALL_ERRORS"} and rows_limit is None:
        raise snowflake.connector.errors.ProgrammingError(
            msg=f"SQL compilation error:\ninvalid value '{mode}' for parameter 'VALIDATION_MODE'",
            errno=1008,
            sqlstate="22023",
        )
    column_list = isinstance(expr.this, exp.Schema) and bool(expr.this.expressions)
    if isinstance(expr.args["files"][0], exp.Subquery) or column_list:
        # the column list belongs to the transformation form, which VALIDATION_MODE does not support
        raise snowflake.connector.errors.ProgrammingError(
            msg="SQL compilation error:\ninvalid parameter 'validation_mode'", errno=1008, sqlstate="22023"
        )
    if any(p.this.name.upper() == "MATCH_BY_COLUMN_NAME" and (p.args.get("expression") is not None and
                                                             p.args["expression"].name.upper() != "NONE")
           for p in expr.args.get("params") or []):
        raise snowflake.connector.errors.ProgrammingError(
            msg="SQL compilation error:\nMATCH_BY_COLUMN_NAME can't be used with the VALIDATION_MODE parameter.",
            errno=1008, sqlstate="22023")
    expr = expr.copy()
    for p in expr.args.get("params") or []:
        if p.this.name.upper() == param.this.name.upper():
            p.pop()
            break

    conn, duck_conn = compat.connection(cursor), compat.duck_conn(cursor)
    database, schema = conn.database, conn.schema
    source = compat.from_source(expr)
    table = compat.extract_table(expr.this)
    if not source.startswith("@"):
        raise NotImplementedError("VALIDATION_MODE from an external location")
    format_options = copy_csv.copy_format_options(expr, duck_conn, database, schema)
    if str(format_options.get("TYPE", "CSV")).upper() != "CSV":
        raise NotImplementedError(f"VALIDATION_MODE with TYPE = {format_options['TYPE']}")
    from_stage = copy_csv.StageSource.of(source[1:], duck_conn, database, schema, conn.table_stages, table)
    if not from_stage.remote and not compat.is_internal(from_stage.location):
        raise NotImplementedError("VALIDATION_MODE from an external stage other than S3")

    opts = parse_copy_options(expr, params, format_options)
    opts.on_error = OnError("CONTINUE")  # examine every record
    catalog = table.catalog or database
    sch = table.db or schema
    assert catalog and sch
    qualified = copy_csv._qualified_table(duck_conn, conn.table_stages, catalog, sch, table.name)  # noqa: SLF001
    columns = [(r[0], r[1]) for r in duck_conn.execute(f"DESCRIBE {qualified}").fetchall()]
    lengths = copy_csv._text_lengths(duck_conn, catalog, sch, table.name)  # noqa: SLF001
    projection = build_projection(expr, table.name, columns, lengths, opts)

    files = from_stage.select_files(opts, duck_conn, database, schema)
    if mode != "RETURN_ALL_ERRORS" and not opts.force:
        files = [f for f in files if not loaded_before(duck_conn, catalog, sch, table.name, f.history_name)]

    now = datetime.datetime.now(datetime.UTC)
    if rows_limit is None:
        errors = []
        for f in files:
            outcome = load_file(f, projection, opts, now, duck_conn=duck_conn)
            errors.extend(
                (e.error.message, f.source or e.file, e.line, e.character, None, category(e.error.errno), e.error.errno,
                 e.error.sqlstate, e.column_name, e.row, e.row_start_line,
                 e.rejected_record.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
                for e in outcome.errors
            )  # fmt: skip
        return values_sql(VALIDATE_COLUMNS, errors)

    targets = projection.targets
    rows: list[tuple[str | None, ...]] = []
    for f in files:
        if len(rows) >= rows_limit:
            break
        outcome = load_file(f, projection, opts, now, rows_limit=rows_limit - len(rows))
        bad = {e.row: e for e in outcome.errors}
        good = outcome.table.to_pylist() if outcome.table is not None else []
        g = 0
        for row_number in range(1, outcome.rows_parsed + 1):
            if len(rows) >= rows_limit:
                break
            if row_number in bad:
                raise bad[row_number].abort()
            rec = good[g]
            g += 1
            rows.append(tuple(rec[f"c{j}"] for j in range(len(targets))))
    text = values_sql([(f"c{j}", "VARCHAR") for j in range(len(targets))], rows)
    select = ", ".join(f'{duck_cast_sql(t.ctype, f"c{j}")} AS "{t.name}"' for j, t in enumerate(targets))
    return f"SELECT {select} FROM ({text})"


def wrap_execute(_execute: Callable[..., None]) -> Callable[..., None]:
    """Wrap FakeSnowflakeCursor._execute to answer COPY ... VALIDATION_MODE = ... without loading."""

    @functools.wraps(_execute)
    def wrapped(self: FakeSnowflakeCursor, transformed: exp.Expr, params: MutableParams | None = None) -> None:
        if is_load(transformed) and has_param(transformed, "VALIDATION_MODE"):  # type: ignore[arg-type]
            assert isinstance(transformed, exp.Copy)
            sql = validation_sql(self, transformed, params)
            return _execute(self, sqlglot.parse_one(sql, read="duckdb"))
        return _execute(self, transformed, params)

    wrapped.__snowseg_validation_mode__ = True  # type: ignore[attr-defined]
    return wrapped
