"""COPY INTO <table> from CSV files in internal stages, streamed and converted in batches.

Replaces fakesnow.cursor.copy_into (same signature; leaves the COPY's result set as the last query
executed on duck_conn). Emulates Snowflake's bulk load of CSV files from table stages and named
internal stages, plain or with a transformation SELECT: option handling (_copy_options), file
selection with FILES / PATTERN (_staged_files), CSV reading in batches of whole records with
line/character positions (_csv_records), vectorised type conversion in DuckDB with the per-value
converters as the reference (_values), ON_ERROR per file (_file_load), load history
with LOAD_SKIPPED for files loaded before unless FORCE = TRUE, PURGE, and the output Snowflake
returns: one row per file with file, status, rows_parsed, rows_loaded, error_limit, errors_seen,
first_error, first_error_line, first_error_character, first_error_column_name; or the single row
'Copy executed with 0 files processed.' when no file matches.

ON_ERROR = ABORT_STATEMENT raises Snowflake's error (eg: 100038 "Numeric value 'abc' is not
recognized" with its File/line/character and Row/column trailer) and inserts nothing. Rows are
inserted batch by batch (INSERT ... SELECT over each batch) in one transaction with the load history:
the session's if one is open, else the statement's own; an abort takes back what the statement
inserted (_statement).

External S3 stages are read through boto3 (s3_stages); a COPY without FILE_FORMAT uses the stage's.
VALIDATION_MODE (validation_mode) reuses this file selection (StageSource) and format precedence
(copy_format_options).
While a pipe runs its COPY, load history goes to the pipe's metadata (_pipe_context) instead.
Other file types (JSON, PARQUET) and other external stages/URLs fall back to fakesnow's own copy_into.

Differs from Snowflake: an ABORT_STATEMENT error records the failing file as LOAD_FAILED in load
history (rows_parsed up to the end of the batch with the error) but nothing for the files before it; PURGE removes files that loaded rows (LOADED or
PARTIALLY_LOADED) once the rows are written, even inside a session transaction later rolled back.
"""

from __future__ import annotations

import datetime
import os
import uuid
from dataclasses import dataclass, replace
from typing import Any

import snowflake.connector.errors
from duckdb import DuckDBPyConnection
from snowseg_twin.extensions._fakesnow_compat import MutableParams
from sqlglot import exp

from snowseg_twin.extensions import s3_stages
from snowseg_twin.extensions._copy_options import CopyOptions, file_format_options, parse_copy_options
from snowseg_twin.extensions._file_load import FileOutcome, Target, load_file
from snowseg_twin.extensions._load_history import (
    CopyJob,
    loaded_before,
    record_errors,
    record_history,
    remember_job,
)
from snowseg_twin.extensions._pipe_context import history_writer
from snowseg_twin.extensions._csv_records import read_header
from snowseg_twin.extensions._projection import Projection, build_projection, match_projection
from snowseg_twin.extensions._staged_files import StagedFile, select_files
from snowseg_twin.extensions._table_functions import literal
from snowseg_twin.extensions import _fakesnow_compat as compat

original_copy_into = compat.fakesnow_copy_into

ZERO_FILES_SQL = "SELECT 'Copy executed with 0 files processed.' AS status"
RESULT_COLUMNS = [
    ("file", "VARCHAR"),
    ("status", "VARCHAR"),
    ("rows_parsed", "BIGINT"),
    ("rows_loaded", "BIGINT"),
    ("error_limit", "BIGINT"),
    ("errors_seen", "BIGINT"),
    ("first_error", "VARCHAR"),
    ("first_error_line", "BIGINT"),
    ("first_error_character", "BIGINT"),
    ("first_error_column_name", "VARCHAR"),
]


def copy_into(
    duck_conn: DuckDBPyConnection,
    current_database: str | None,
    current_schema: str | None,
    expr: exp.Copy,
    table_stages: compat.TableStages,
    params: MutableParams | None = None,
) -> str:
    def fallback() -> str:
        return original_copy_into(duck_conn, current_database, current_schema, expr, table_stages, params)

    source = compat.from_source(expr)
    if not source.startswith("@"):
        return fallback()
    format_options = copy_format_options(expr, duck_conn, current_database, current_schema)
    if str(format_options.get("TYPE", "CSV")).upper() != "CSV":
        return fallback()
    table = compat.extract_table(expr.this)
    from_stage = StageSource.of(source[1:], duck_conn, current_database, current_schema, table_stages, table)
    if not from_stage.remote and not compat.is_internal(from_stage.location):
        return fallback()

    opts = parse_copy_options(expr, params, format_options)
    check_form(expr, source[1:], opts)
    catalog = table.catalog or current_database
    schema = table.db or current_schema
    assert catalog and schema, "COPY INTO needs a current database and schema, or a qualified table"
    qualified = _qualified_table(duck_conn, table_stages, catalog, schema, table.name)
    described = duck_conn.execute(f"DESCRIBE {qualified}").fetchall()
    columns = [(r[0], r[1]) for r in described]
    lengths = _text_lengths(duck_conn, catalog, schema, table.name)
    projection = None if opts.match_by_column_name else build_projection(expr, table.name, columns, lengths, opts)

    files = from_stage.select_files(opts, duck_conn, current_database, current_schema)
    if not files:
        duck_conn.execute(ZERO_FILES_SQL)
        return ZERO_FILES_SQL

    job = CopyJob(str(uuid.uuid4()), catalog, schema, table.name, datetime.datetime.now(datetime.UTC))
    remember_job(job, duck_conn)
    now = session_now(duck_conn)  # CURRENT_TIMESTAMP(): a TIMESTAMP_LTZ in the session's time zone
    target = Target(duck_conn, qualified, projection or _header_projection(files[0], table.name, columns, lengths, opts))
    outcomes: list[FileOutcome] = []
    with _statement(duck_conn, target) as statement:
        for f in files:
            if not opts.force and loaded_before(duck_conn, catalog, schema, table.name, f.history_name):
                continue  # Snowflake leaves a file its load metadata knows out of the result
            file_opts, file_target = opts, target
            if projection is None:  # MATCH_BY_COLUMN_NAME: this file's header maps fields onto columns
                file_opts = replace(opts, csv=replace(opts.csv, skip_header=1))
                file_target = Target(duck_conn, qualified, _header_projection(f, table.name, columns, lengths, opts))
            outcome = load_file(f, file_target.projection, file_opts, now, target=file_target)
            if outcome.aborted:
                statement.undo()
                with _transaction(duck_conn):
                    (history_writer.get() or record_history)(duck_conn, job, [outcome])
                    record_errors(duck_conn, job, outcome.errors)
                raise outcome.errors[0].abort()
            outcomes.append(outcome)
        (history_writer.get() or record_history)(duck_conn, job, outcomes)
        record_errors(duck_conn, job, [e for o in outcomes for e in o.errors])

    if opts.purge:
        for o in outcomes:
            if o.status in {"LOADED", "PARTIALLY_LOADED"} and o.file.source:
                s3_stages.remove_object(o.file)
            elif o.status in {"LOADED", "PARTIALLY_LOADED"} and os.path.exists(o.file.path):
                os.remove(o.file.path)

    if not outcomes:  # every file was loaded before
        duck_conn.execute(ZERO_FILES_SQL)
        return ZERO_FILES_SQL
    shown = [o for o in outcomes if o.status != "LOADED"] if opts.return_failed_only else outcomes
    sql = _result_sql(shown)
    duck_conn.execute(sql)
    return sql


def _sql_error(message: str, errno: int = 1008, sqlstate: str = "22023") -> snowflake.connector.errors.ProgrammingError:
    return snowflake.connector.errors.ProgrammingError(msg=f"SQL compilation error:\n{message}", errno=errno,
                                                       sqlstate=sqlstate)


def is_table_stage(var: str) -> bool:
    """Whether a stage reference (without @) is a table stage: ``%T``, ``S.%T``, ``D.S.%T`` (and a path)."""
    return var.split("/", 1)[0].split(".")[-1].startswith("%")


def check_form(expr: exp.Copy, var: str, opts: CopyOptions) -> None:
    """Refuse the option combinations Snowflake refuses (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table;
    table stages: https://docs.snowflake.com/en/user-guide/data-load-local-file-system-create-stage).

    - a transformation (COPY ... FROM (SELECT ...)) reading a table stage: "Table stages do not support
      transforming data while loading it (i.e. using a query as the source for the COPY command)";
    - MATCH_BY_COLUMN_NAME with a transformation: "match_by_column_name is not supported with copy transform.";
    - INCLUDE_METADATA without MATCH_BY_COLUMN_NAME: "This copy option can only be used with the
      MATCH_BY_COLUMN_NAME copy option";
    - MATCH_BY_COLUMN_NAME on CSV without PARSE_HEADER = TRUE (the header is what names the columns), and
      PARSE_HEADER together with SKIP_HEADER (the twin's stricter reading: the header is parsed, not skipped);
    - INCLUDE_METADATA on CSV with ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE: "When you load a CSV file with
      INCLUDE_METADATA, set the file format option ERROR_ON_COLUMN_COUNT_MISMATCH to FALSE."
    PARSE_HEADER = TRUE without MATCH_BY_COLUMN_NAME is not emulated (NotImplementedError).
    """
    transform = isinstance(expr.args["files"][0], exp.Subquery)
    if transform and is_table_stage(var):
        raise _sql_error(f"Table stage @{var.split('/', 1)[0]} does not support transforming data while loading it: "
                         "load from a named stage, or use the standard load form (no SELECT).")
    if opts.match_by_column_name and transform:
        raise _sql_error("match_by_column_name is not supported with copy transform.")
    if opts.include_metadata and not opts.match_by_column_name:
        raise _sql_error("INCLUDE_METADATA can only be used with the MATCH_BY_COLUMN_NAME copy option.")
    if opts.format_type == "CSV" and opts.match_by_column_name and not opts.csv.parse_header:
        raise _sql_error("MATCH_BY_COLUMN_NAME for CSV files needs the file format option PARSE_HEADER = TRUE.")
    if opts.csv.parse_header and opts.csv.skip_header:
        raise _sql_error("PARSE_HEADER = TRUE cannot be combined with SKIP_HEADER: the header is parsed, not skipped.")
    if opts.include_metadata and opts.format_type == "CSV" and opts.csv.error_on_column_count_mismatch:
        raise _sql_error("When you load a CSV file with INCLUDE_METADATA, set the file format option "
                         "ERROR_ON_COLUMN_COUNT_MISMATCH to FALSE.")
    if opts.csv.parse_header and not opts.match_by_column_name:
        raise NotImplementedError("PARSE_HEADER = TRUE without MATCH_BY_COLUMN_NAME")


def session_now(duck_conn: DuckDBPyConnection) -> datetime.datetime:
    """Now in the session's time zone (its TIMEZONE parameter: session_params), as CURRENT_TIMESTAMP() gives it."""
    from zoneinfo import ZoneInfo

    (tz,) = duck_conn.execute("SELECT current_setting('TimeZone')").fetchone()  # type: ignore[misc]
    return datetime.datetime.now(ZoneInfo(str(tz)))


def _header_projection(f: StagedFile, table: str, columns: list[tuple[str, str]], lengths: dict[str, int],
                       opts: CopyOptions) -> Projection:
    return match_projection(table, columns, lengths, read_header(f.path, opts.csv), opts)


def copy_format_options(
    expr: exp.Copy, duck_conn: DuckDBPyConnection, current_database: str | None, current_schema: str | None
) -> dict[str, Any]:
    """The COPY's FILE_FORMAT options, else its FROM stage's (Snowflake's precedence; options are not merged)."""
    format_options = file_format_options(expr, duck_conn, current_database, current_schema)
    source = compat.from_source(expr)
    if not format_options and source.startswith("@"):
        format_options = s3_stages.stage_file_format(source[1:], duck_conn, current_database, current_schema)
    return format_options


@dataclass(frozen=True)
class StageSource:
    """The stage a COPY reads FROM: an internal stage (a local directory) or an external S3 stage."""

    var: str  # the stage reference without @, eg: 'LANDING/sales/'
    location: str  # fakesnow's URL for the reference: the local directory (+ path) of an internal stage
    remote: bool  # an external S3 stage, read through s3_stages

    @classmethod
    def of(
        cls,
        var: str,
        duck_conn: DuckDBPyConnection,
        current_database: str | None,
        current_schema: str | None,
        table_stages: compat.TableStages,
        table: exp.Table,
    ) -> StageSource:
        location = compat.stage_url_from_var(var, duck_conn, current_database, current_schema, table_stages, table)
        remote = s3_stages.resolve(var, duck_conn, current_database, current_schema) is not None
        return cls(var, location, remote)

    def select_files(
        self,
        opts: CopyOptions,
        duck_conn: DuckDBPyConnection,
        current_database: str | None,
        current_schema: str | None,
    ) -> list[StagedFile]:
        """The files the COPY reads given FILES / PATTERN (external objects are downloaded to the cache)."""
        if self.remote:
            return s3_stages.select_files(
                self.var, opts.files, opts.pattern, duck_conn, current_database, current_schema
            )
        return select_files(self.location, opts.files, opts.pattern, duck_conn)


def _text_lengths(duck_conn: DuckDBPyConnection, catalog: str, schema: str, table: str) -> dict[str, int]:
    rows = duck_conn.execute(
        """
        SELECT ext_column_name, ext_character_maximum_length
        FROM _fs_global._fs_information_schema._fs_columns_ext
        WHERE ext_table_catalog = ? AND ext_table_schema = ? AND ext_table_name = ?
        """,
        [catalog, schema, table],
    ).fetchall()
    return {name: length for name, length in rows if length is not None and length < 16777216}


def _in_transaction(duck_conn: DuckDBPyConnection) -> bool:
    """Whether the session has an open transaction (autocommit off, or BEGIN).

    Probing with BEGIN would abort the open transaction, so compare transaction ids instead: outside a
    transaction each statement runs in its own.
    """
    first = duck_conn.execute("SELECT txid_current()").fetchall()
    return first == duck_conn.execute("SELECT txid_current()").fetchall()


class _statement:  # noqa: N801 - used as a statement-like context manager
    """A COPY's writes, atomic: in the caller's transaction if one is open, else in our own.

    Rows go into the target as files are converted; undo() (and any exception) takes back everything the
    statement wrote: a rollback of our own transaction, or in the caller's (DuckDB has no savepoints) a
    delete of the target's rows appended since the statement began.
    """

    def __init__(self, duck_conn: DuckDBPyConnection, target: Target) -> None:
        self.duck_conn, self.target = duck_conn, target
        self.own = False
        self.mark: int | None = None
        self.undone = False

    def __enter__(self) -> _statement:
        self.own = not _in_transaction(self.duck_conn)
        if self.own:
            self.duck_conn.begin()
        else:
            self.mark = self.target.mark()
        return self

    def undo(self) -> None:
        if self.undone:
            return
        self.undone = True
        if self.own:
            self.duck_conn.rollback()
        else:
            self.target.undo(self.mark)  # type: ignore[arg-type]

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            self.undo()
        elif self.own and not self.undone:
            self.duck_conn.commit()


class _transaction:  # noqa: N801 - used as a statement-like context manager
    """Run statements atomically: in the caller's transaction if one is open, else in our own."""

    def __init__(self, duck_conn: DuckDBPyConnection) -> None:
        self.duck_conn = duck_conn
        self.own = False

    def __enter__(self) -> None:
        self.own = not _in_transaction(self.duck_conn)
        if self.own:
            self.duck_conn.begin()

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self.own:
            if exc_type is None:
                self.duck_conn.commit()
            else:
                self.duck_conn.rollback()


def _qualified_table(
    duck_conn: DuckDBPyConnection, table_stages: compat.TableStages, catalog: str, schema: str, name: str
) -> str:
    """The DuckDB name of the target table: a session's temporary table shadows a permanent one, as fakesnow's
    table stages resolve it."""
    # fetch every row: DuckDB refuses to register the rows to insert while a result is unfinished
    found = duck_conn.execute(table_stages.lookup_sql(catalog, schema, f"%{name}")).fetchall()
    if found and found[0][0] != f"{catalog}.{schema}.%{name}":
        return f'temp.main."{name}"'
    return f'"{catalog}"."{schema}"."{name}"'


def _result_sql(outcomes: list[FileOutcome]) -> str:
    rows = []
    for o in outcomes:
        first = o.first_error
        values = [
            o.file.listed_name,
            o.status,
            o.rows_parsed,
            o.rows_loaded,
            o.error_limit,
            o.errors_seen,
            first.error.message if first else o.message,
            first.line if first else None,
            first.character if first else None,
            first.column_name if first else None,
        ]
        rows.append("(" + ", ".join(literal(v) for v in values) + ")")
    names = ", ".join(name for name, _ in RESULT_COLUMNS)
    select = ", ".join(f"CAST({name} AS {typ}) AS {name}" for name, typ in RESULT_COLUMNS)
    if not rows:
        return f"SELECT {select} FROM (SELECT {', '.join(f'NULL AS {n}' for n, _ in RESULT_COLUMNS)}) WHERE false"
    return f"SELECT {select} FROM (VALUES {', '.join(rows)}) AS t({names})"
