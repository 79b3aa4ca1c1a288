"""Conformance of the twin's COPY INTO <table> (CSV) and REMOVE with Snowflake.

Every test goes through the real snowflake.connector over HTTP: it writes a CSV in tmp_path, PUTs it
into a stage, runs COPY (or REMOVE / LIST), and checks the statement's result rows and the table.
"""

from __future__ import annotations

import datetime
import gzip
import re
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest
import snowflake.connector
from snowflake.connector import ProgrammingError

Cursor = snowflake.connector.cursor.DictCursor

HEADER = (
    "Invoice ID,Branch,City,Customer type,Gender,Product line,Unit price,Quantity,Tax 5%,Total,Date,Time,"
    "Payment,cogs,gross margin percentage,gross income,Rating"
)
ROWS = [
    "750-67-8428,A,Yangon,Member,Female,Health and beauty,74.69,7,26.1415,548.9715,1/5/2019,13:08,Ewallet,"
    "522.83,4.761904762,26.1415,9.1",
    "226-31-3081,C,Naypyitaw,Normal,Female,Electronic accessories,15.28,5,3.82,80.22,3/8/2019,10:29,Cash,"
    "76.4,4.761904762,3.82,9.6",
    "631-41-3108,A,Yangon,Normal,Male,Home and lifestyle,46.33,7,16.2155,340.5255,3/3/2019,13:23,Credit card,"
    "324.31,4.761904762,16.2155,7.4",
    "123-19-1176,A,Yangon,Member,Male,Health and beauty,58.22,8,23.288,489.048,1/27/2019,20:33,Ewallet,"
    "465.76,4.761904762,23.288,8.4",
]
SALES_COLUMNS = (
    "INVOICE_ID VARCHAR(32), BRANCH VARCHAR(8), CITY VARCHAR(64), CUSTOMER_TYPE VARCHAR(16), GENDER VARCHAR(16), "
    "PRODUCT_LINE VARCHAR(64), UNIT_PRICE NUMBER(12,2), QUANTITY NUMBER(6,0), TAX_5_PCT NUMBER(14,4), "
    "TOTAL NUMBER(14,4), SALE_DATE DATE, SALE_TIME TIME, PAYMENT VARCHAR(32), COGS NUMBER(14,4), "
    "GROSS_MARGIN_PCT NUMBER(14,9), GROSS_INCOME NUMBER(14,4), RATING NUMBER(4,1)"
)
AUDIT_COLUMNS = "_FILE VARCHAR, _ROW NUMBER, _LOAD_PATH VARCHAR, _LOADED_AT TIMESTAMP_NTZ, _BATCH_ID VARCHAR"
TARGETS = (
    '"INVOICE_ID", "BRANCH", "CITY", "CUSTOMER_TYPE", "GENDER", "PRODUCT_LINE", "UNIT_PRICE", "QUANTITY", '
    '"TAX_5_PCT", "TOTAL", "SALE_DATE", "SALE_TIME", "PAYMENT", "COGS", "GROSS_MARGIN_PCT", "GROSS_INCOME", '
    '"RATING", "_FILE", "_ROW", "_LOAD_PATH", "_LOADED_AT", "_BATCH_ID"'
)
FIELDS = ", ".join(f"${i}" for i in range(1, 18))
PREFIX = "3f9a0c1d2e4b5a69"
FILE_FORMAT = (
    "CREATE FILE FORMAT IF NOT EXISTS {db}.RAW.SALES_CSV TYPE = CSV SKIP_HEADER = 1 FIELD_DELIMITER = ',' "
    "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('') EMPTY_FIELD_AS_NULL = TRUE "
    "DATE_FORMAT = 'MM/DD/YYYY' TIME_FORMAT = 'HH24:MI' ENCODING = 'UTF8' ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE"
)
HINT = (
    "If you would like to continue loading when an error is encountered, use other values such as 'SKIP_FILE' or "
    "'CONTINUE' for the ON_ERROR option. For more information on loading options, please run 'info loading_data' "
    "in a SQL client."
)


# --- helpers ----------------------------------------------------------------------------------------------------


def csv_text(*rows: str, header: bool = True) -> str:
    return "\n".join([HEADER, *rows] if header else rows) + "\n"


def setup_sales(cur: Cursor, database: str, audit: bool = True) -> None:
    """The pipeline's file format, raw table and a named internal stage (a transformation cannot read a table stage)."""
    cur.execute(FILE_FORMAT.format(db=database))
    cur.execute(f"CREATE TABLE {database}.RAW.SALES_RAW ({SALES_COLUMNS}{', ' + AUDIT_COLUMNS if audit else ''})")
    cur.execute(f"CREATE STAGE {database}.RAW.SALES_LOAD")


def put(
    cur: Cursor,
    tmp_path: Path,
    name: str,
    content: str | bytes,
    stage: str,
    auto_compress: bool = True,
) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    cur.execute(f"PUT 'file://{path}' {stage} AUTO_COMPRESS = {auto_compress} OVERWRITE = TRUE")


def pipeline_copy(database: str, on_error: str = "ABORT_STATEMENT", path: str = PREFIX, extra: str = "") -> str:
    """The COPY the pipeline sends: a transformation with METADATA$ and audit columns."""
    return f"""
        COPY INTO {database}.RAW.SALES_RAW ({TARGETS})
        FROM (
          SELECT {FIELDS}, METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, 'small_file', CURRENT_TIMESTAMP(),
                 'b_20261127_abc'
          FROM @{database}.RAW.SALES_LOAD/{path}/
        )
        FILE_FORMAT = (FORMAT_NAME = '{database}.RAW.SALES_CSV')
        ON_ERROR = {on_error} {extra}
    """


def result(
    file: str,
    status: str,
    parsed: int,
    loaded: int,
    limit: int | None = 1,
    seen: int = 0,
    first_error: str | None = None,
    line: int | None = None,
    character: int | None = None,
    column: str | None = None,
) -> dict:
    """A row of COPY's output, with Snowflake's column names."""
    return {
        "file": file,
        "status": status,
        "rows_parsed": parsed,
        "rows_loaded": loaded,
        "error_limit": limit,
        "errors_seen": seen,
        "first_error": first_error,
        "first_error_line": line,
        "first_error_character": character,
        "first_error_column_name": column,
    }


def count(cur: Cursor, table: str = "SALES_RAW") -> int:
    cur.execute(f"SELECT COUNT(*) AS n FROM {table}")
    return cur.fetchone()["N"]


def listed(cur: Cursor, stage: str) -> list[str]:
    cur.execute(f"LIST {stage}")
    return sorted(r["name"] for r in cur.fetchall())


def message(error: ProgrammingError) -> str:
    """The error's message without the connector's "<errno> (<sqlstate>): " prefix."""
    # the connector prefixes "errno (sqlstate): [query id: ]"; in some processes the query id is printed as None
    return re.sub(r"^\d{6} \(\w{5}\): (?:(?:None|[0-9a-f-]{36}): )?", "", error.raw_msg or "")


def bad_row(column: int, value: str) -> str:
    """ROWS[1] with field `column` (1-based) replaced by value."""
    fields = ROWS[1].split(",")
    fields[column - 1] = value
    return ",".join(fields)


# --- the pipeline's shape -----------------------------------------------------------------------------------------


def test_seed_shaped_load(cur: Cursor, database: str, tmp_path: Path) -> None:
    """The pipeline's CREATE FILE FORMAT / PUT / COPY transformation / REMOVE loads typed rows with audit columns.

    Pins: MM/DD/YYYY accepts 1-digit month and day, HH24:MI times, NUMBER(p,s) values, METADATA$FILENAME is the
    path within the stage (with the .gz PUT adds), METADATA$FILE_ROW_NUMBER counts data rows after the header,
    CURRENT_TIMESTAMP() fills TIMESTAMP_NTZ, and COPY's output row per file.
    """
    setup_sales(cur, database)
    put(cur, tmp_path, "sales.csv", csv_text(*ROWS[:3]), f"@{database}.RAW.SALES_LOAD/{PREFIX}/")

    cur.execute(pipeline_copy(database))
    assert cur.fetchall() == [result(f"sales_load/{PREFIX}/sales.csv.gz", "LOADED", 3, 3)]

    cur.execute("SELECT * FROM SALES_RAW ORDER BY _ROW")
    rows = cur.fetchall()
    assert [r["_ROW"] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert first["INVOICE_ID"] == "750-67-8428"
    assert first["SALE_DATE"] == datetime.date(2019, 1, 5)
    assert first["SALE_TIME"] == datetime.time(13, 8)
    assert first["UNIT_PRICE"] == Decimal("74.69")
    assert first["QUANTITY"] == 7
    assert first["GROSS_MARGIN_PCT"] == Decimal("4.761904762")
    assert first["RATING"] == Decimal("9.1")
    assert first["_FILE"] == f"{PREFIX}/sales.csv.gz"
    assert first["_LOAD_PATH"] == "small_file"
    assert first["_BATCH_ID"] == "b_20261127_abc"
    assert isinstance(first["_LOADED_AT"], datetime.datetime)
    assert rows[2]["PAYMENT"] == "Credit card"

    cur.execute(f"REMOVE @{database}.RAW.SALES_LOAD/{PREFIX}/")
    assert cur.fetchall() == [{"name": f"sales_load/{PREFIX}/sales.csv.gz", "result": "removed"}]
    assert listed(cur, f"@{database}.RAW.SALES_LOAD") == []


class PlainCase(NamedTuple):
    columns: str
    table: str
    expected: list[tuple]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(PlainCase("", "A VARCHAR, B NUMBER(5,1), C DATE",
                               [("x", Decimal("1.5"), datetime.date(2019, 1, 5))]), id="all-table-columns"),
        pytest.param(PlainCase("(C, A, B)", "A DATE, B VARCHAR, C NUMBER(5,1), D VARCHAR",
                               [(datetime.date(2019, 1, 5), "1.5", Decimal("0"), None)]), id="listed-columns"),
    ],
)  # fmt: skip
def test_plain_copy_maps_fields_by_position(cur: Cursor, tmp_path: Path, case: PlainCase) -> None:
    """Plain COPY INTO t [(cols)] FROM @%t: field n loads into the n-th listed column, else the n-th table column.

    Unlisted columns are NULL; the inline FILE_FORMAT's DATE_FORMAT converts dates.
    """
    cur.execute(f"CREATE TABLE T ({case.table})")
    data = "x,1.5,1/5/2019\n" if not case.columns else "0,1/5/2019,1.5\n"
    put(cur, tmp_path, "plain.csv", data, "@%T")
    cur.execute(f"COPY INTO T {case.columns} FROM @%T FILE_FORMAT = (TYPE = CSV DATE_FORMAT = 'MM/DD/YYYY')")
    assert cur.fetchall() == [result("plain.csv.gz", "LOADED", 1, 1)]
    cur.execute("SELECT * FROM T")
    assert [tuple(r.values()) for r in cur.fetchall()] == case.expected


# --- load history: re-runs, FORCE ---------------------------------------------------------------------------------


def test_recopy_is_left_out_of_the_result_and_force_reloads(cur: Cursor, database: str, tmp_path: Path) -> None:
    """A file already loaded into the table is left out of COPY's result and adds no rows; with no other file the
    result is the single row 'Copy executed with 0 files processed.' (what Snowflake returns on a re-run, which
    pipelines read as "nothing new"); FORCE = TRUE loads it again."""
    setup_sales(cur, database)
    put(cur, tmp_path, "sales.csv", csv_text(*ROWS[:2]), f"@SALES_LOAD/{PREFIX}/")
    cur.execute(pipeline_copy(database))
    assert cur.fetchall()[0]["status"] == "LOADED"

    cur.execute(pipeline_copy(database))
    assert cur.fetchall() == [{"status": "Copy executed with 0 files processed."}]
    assert count(cur) == 2

    cur.execute(pipeline_copy(database, extra="FORCE = TRUE"))
    assert cur.fetchall() == [result(f"sales_load/{PREFIX}/sales.csv.gz", "LOADED", 2, 2)]
    assert count(cur) == 4


def test_failed_file_is_not_loaded_before(cur: Cursor, database: str, tmp_path: Path) -> None:
    """Load history records LOAD_FAILED files (with their first error) and such a file is loaded by the next COPY."""
    setup_sales(cur, database)
    put(cur, tmp_path, "sales.csv", csv_text(ROWS[0], bad_row(7, "abc")), f"@SALES_LOAD/{PREFIX}/")
    with pytest.raises(ProgrammingError):
        cur.execute(pipeline_copy(database))

    cur.execute(
        f"SELECT STATUS, ROW_COUNT, ROW_PARSED, FIRST_ERROR_MESSAGE, FIRST_ERROR_LINE_NUMBER, ERROR_COUNT "
        f"FROM {database}._fs_information_schema._fs_load_history"
    )
    assert [tuple(r.values()) for r in cur.fetchall()] == [
        ("LOAD_FAILED", 0, 2, "Numeric value 'abc' is not recognized", 3, 1)
    ]

    cur.execute(pipeline_copy(database, on_error="CONTINUE"))
    assert cur.fetchall()[0]["status"] == "PARTIALLY_LOADED"
    assert count(cur) == 1


def test_rejected_records_are_kept_for_validate(cur: Cursor, database: str, tmp_path: Path) -> None:
    """Each rejected record is stored with its job id, error, file, line, character, column and raw record."""
    setup_sales(cur, database)
    record = bad_row(8, "lots")
    put(cur, tmp_path, "sales.csv", csv_text(ROWS[0], record), f"@SALES_LOAD/{PREFIX}/")
    cur.execute(pipeline_copy(database, on_error="CONTINUE"))

    from snowseg_twin.extensions._load_history import last_job

    job = last_job(table=(database, "RAW", "SALES_RAW"))
    assert job is not None
    cur.execute(
        f"SELECT JOB_ID, ERROR, FILE, LINE, CHARACTER, CODE, COLUMN_NAME, ROW_NUMBER, REJECTED_RECORD "
        f"FROM {database}._fs_information_schema._fs_copy_errors"
    )
    character = len(",".join(record.split(",")[:7])) + 2
    assert [tuple(r.values()) for r in cur.fetchall()] == [
        (job.job_id, "Numeric value 'lots' is not recognized", f"{PREFIX}/sales.csv.gz", 3, character, 100038,
         '"SALES_RAW"["QUANTITY":8]', 2, record)
    ]  # fmt: skip


# --- which files: FILES, PATTERN, PURGE, 0 files ------------------------------------------------------------------


class SelectCase(NamedTuple):
    option: str
    loaded: list[str]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(SelectCase("", ["in/a.csv.gz", "in/b.csv.gz", "in/sub/c.csv.gz"]), id="prefix"),
        pytest.param(SelectCase("FILES = ('a.csv.gz', 'sub/c.csv.gz')", ["in/a.csv.gz", "in/sub/c.csv.gz"]),
                     id="files"),
        pytest.param(SelectCase("PATTERN = '.*b[.]csv[.]gz'", ["in/b.csv.gz"]), id="pattern"),
        pytest.param(SelectCase("PATTERN = 'b[.]csv[.]gz'", []), id="pattern-is-anchored-to-whole-path"),
        pytest.param(SelectCase("PATTERN = 'in/sub/.*'", ["in/sub/c.csv.gz"]), id="pattern-sees-stage-path"),
    ],
)  # fmt: skip
def test_file_selection(cur: Cursor, tmp_path: Path, case: SelectCase) -> None:
    """FROM @stage/path/ reads files under the prefix; FILES are relative to it; PATTERN must match the whole path
    relative to the stage; no match gives Snowflake's single 'Copy executed with 0 files processed.' row."""
    cur.execute("CREATE TABLE T (A VARCHAR)")
    cur.execute("CREATE STAGE S")
    for name, stage in [("a.csv", "@S/in/"), ("b.csv", "@S/in/"), ("c.csv", "@S/in/sub/"), ("d.csv", "@S/out/")]:
        put(cur, tmp_path, name, f"{name}\n", stage)
    cur.execute(f"COPY INTO T FROM @S/in/ {case.option}")
    rows = cur.fetchall()
    if case.loaded:
        assert [r["file"] for r in rows] == [f"s/{name}" for name in case.loaded]
        assert {r["status"] for r in rows} == {"LOADED"}
    else:
        assert rows == [{"status": "Copy executed with 0 files processed."}]
    cur.execute("SELECT A FROM T ORDER BY A")
    assert [r["A"] for r in cur.fetchall()] == [n.rsplit("/", 1)[-1].removesuffix(".gz") for n in case.loaded]


def test_purge_removes_loaded_files(cur: Cursor, database: str, tmp_path: Path) -> None:
    """PURGE = TRUE removes a file from the stage once it has loaded; LIST no longer shows it."""
    setup_sales(cur, database)
    put(cur, tmp_path, "sales.csv", csv_text(ROWS[0]), f"@SALES_LOAD/{PREFIX}/")
    put(cur, tmp_path, "other.csv", csv_text(ROWS[1]), "@SALES_LOAD/keep/")
    cur.execute(pipeline_copy(database, extra="PURGE = TRUE"))
    assert cur.fetchall()[0]["status"] == "LOADED"
    assert listed(cur, "@SALES_LOAD") == ["sales_load/keep/other.csv.gz"]
    assert count(cur) == 1


# --- REMOVE -------------------------------------------------------------------------------------------------------


class RemoveCase(NamedTuple):
    statement: str
    removed: list[str]
    left: list[str]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(RemoveCase("REMOVE @%T/p1/", ["p1/a.csv.gz", "p1/b.csv.gz"], ["p2/c.csv.gz"]), id="path"),
        pytest.param(RemoveCase("rm @%T", ["p1/a.csv.gz", "p1/b.csv.gz", "p2/c.csv.gz"], []), id="rm-alias-all"),
        pytest.param(RemoveCase("REMOVE @%T PATTERN = '.*b[.]csv[.]gz'", ["p1/b.csv.gz"],
                                ["p1/a.csv.gz", "p2/c.csv.gz"]), id="pattern"),
        pytest.param(RemoveCase("REMOVE @%T/nothing/", [], ["p1/a.csv.gz", "p1/b.csv.gz", "p2/c.csv.gz"]),
                     id="no-match"),
    ],
)  # fmt: skip
def test_remove_then_list(cur: Cursor, tmp_path: Path, case: RemoveCase) -> None:
    """REMOVE (alias RM) deletes staged files under the path (matching PATTERN), returns (name, 'removed') per
    file, and LIST reflects it."""
    cur.execute("CREATE TABLE T (A VARCHAR)")
    for name, stage in [("a.csv", "@%T/p1/"), ("b.csv", "@%T/p1/"), ("c.csv", "@%T/p2/")]:
        put(cur, tmp_path, name, "x\n", stage)
    cur.execute(case.statement)
    assert cur.fetchall() == [{"name": n, "result": "removed"} for n in case.removed]
    assert listed(cur, "@%T") == case.left


def test_remove_named_stage(cur: Cursor, tmp_path: Path) -> None:
    """REMOVE on a named internal stage shows names as LIST does, prefixed with the stage name."""
    cur.execute("CREATE STAGE LANDING")
    put(cur, tmp_path, "a.csv", "x\n", "@LANDING/day=1/")
    cur.execute("REMOVE @LANDING/day=1/")
    assert cur.fetchall() == [{"name": "landing/day=1/a.csv.gz", "result": "removed"}]
    assert listed(cur, "@LANDING") == []


class ListCase(NamedTuple):
    statement: str
    names: list[str]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ListCase("LIST @%T", ["p1/a.csv.gz", "p1/b.csv.gz", "p2/c.csv.gz"]), id="table-stage"),
        pytest.param(ListCase("LIST @%T/p1/", ["p1/a.csv.gz", "p1/b.csv.gz"]), id="table-stage-path"),
        pytest.param(ListCase("LIST @%T/p", ["p1/a.csv.gz", "p1/b.csv.gz", "p2/c.csv.gz"]), id="path-is-a-prefix"),
        pytest.param(ListCase("LIST @%T/P1/", []), id="path-is-case-sensitive"),
        pytest.param(ListCase("LIST @%T PATTERN = '.*b[.]csv[.]gz'", ["p1/b.csv.gz"]), id="pattern"),
        pytest.param(ListCase("LIST @LANDING/day=1/", ["landing/day=1/a.csv.gz"]), id="named-stage-path"),
        pytest.param(ListCase("LS @LANDING/day=2/", []), id="ls-empty-path"),
    ],
)  # fmt: skip
def test_list_internal_stage_path_and_pattern(cur: Cursor, tmp_path: Path, case: ListCase) -> None:
    """"LIST @my_stage/path1/": the path is a prefix of the staged files' paths; "PATTERN = 'regex_pattern'" a
    regular expression the names match (https://docs.snowflake.com/en/sql-reference/sql/list). fakesnow's LIST
    knows neither (a path gave "Stage '...P1/' does not exist")."""
    cur.execute("CREATE TABLE T (A VARCHAR)")
    cur.execute("CREATE STAGE LANDING")
    for name, stage in [("a.csv", "@%T/p1/"), ("b.csv", "@%T/p1/"), ("c.csv", "@%T/p2/"), ("a.csv", "@LANDING/day=1/")]:
        put(cur, tmp_path, name, "x\n", stage)
    cur.execute(case.statement)
    rows = cur.fetchall()
    assert sorted(r["name"] for r in rows) == case.names
    assert all(r["size"] > 0 and len(r["md5"]) == 32 and r["last_modified"].endswith(" GMT") for r in rows)


# --- CSV parsing --------------------------------------------------------------------------------------------------


class ParseCase(NamedTuple):
    content: bytes
    expected: list[tuple]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ParseCase(b'id,note\n1,"a, b\nc ""q"""\n2,plain\n', [("1", 'a, b\nc "q"', 1), ("2", "plain", 2)]),
                     id="quoted-comma-newline-and-doubled-quote"),
        pytest.param(ParseCase(b'\xef\xbb\xbfid,note\n1,x\n', [("1", "x", 1)]), id="bom-in-header"),
        pytest.param(ParseCase(b'id,note\r\n1,x\r\n2,\r\n', [("1", "x", 1), ("2", None, 2)]),
                     id="crlf-and-empty-field-as-null"),
    ],
)  # fmt: skip
def test_csv_parsing(cur: Cursor, tmp_path: Path, case: ParseCase) -> None:
    """Enclosed fields keep delimiters, newlines and doubled quotes; a UTF-8 BOM is skipped (SKIP_BYTE_ORDER_MARK
    defaults to TRUE); CRLF ends records; an empty field is NULL; METADATA$FILE_ROW_NUMBER counts records, not
    lines."""
    cur.execute("CREATE TABLE T (ID VARCHAR, NOTE VARCHAR, N NUMBER)")
    cur.execute("CREATE STAGE S")  # a transformation cannot read a table stage
    put(cur, tmp_path, "notes.csv", case.content, "@S")
    cur.execute(
        "COPY INTO T FROM (SELECT $1, $2, METADATA$FILE_ROW_NUMBER FROM @S) "
        "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"')"
    )
    assert cur.fetchall()[0]["status"] == "LOADED"
    cur.execute("SELECT * FROM T ORDER BY N")
    assert [tuple(r.values()) for r in cur.fetchall()] == case.expected


class FormatCase(NamedTuple):
    options: str
    content: str
    column: str
    expected: object


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(FormatCase("FIELD_DELIMITER = '|'", "a|b\n", "VARCHAR", "b"), id="field-delimiter"),
        pytest.param(FormatCase("TRIM_SPACE = TRUE", "a,  b  \n", "VARCHAR", "b"), id="trim-space"),
        pytest.param(FormatCase("", "a,  b  \n", "VARCHAR", "  b  "), id="spaces-kept-by-default"),
        pytest.param(FormatCase("NULL_IF = ('NA')", "a,NA\n", "VARCHAR", None), id="null-if"),
        pytest.param(FormatCase("", "a,\\N\n", "VARCHAR", None), id="default-null-if"),
        pytest.param(FormatCase("EMPTY_FIELD_AS_NULL = FALSE", "a,\n", "VARCHAR", ""), id="empty-field-kept"),
        pytest.param(FormatCase("DATE_FORMAT = 'DD-MON-YYYY'", "a,05-Jan-2019\n", "DATE", datetime.date(2019, 1, 5)),
                     id="date-format-mon"),
        pytest.param(FormatCase("", "a,2019-01-05\n", "DATE", datetime.date(2019, 1, 5)), id="date-auto"),
        pytest.param(FormatCase("TIME_FORMAT = 'HH24:MI:SS'", "a,7:05:09\n", "TIME", datetime.time(7, 5, 9)),
                     id="time-format"),
        pytest.param(FormatCase("TIMESTAMP_FORMAT = 'MM/DD/YYYY HH24:MI'", "a,1/5/2019 13:08\n", "TIMESTAMP_NTZ",
                                datetime.datetime(2019, 1, 5, 13, 8)), id="timestamp-format"),
        pytest.param(FormatCase("", "a,2019-01-05T13:08:01.5\n", "TIMESTAMP_NTZ",
                                datetime.datetime(2019, 1, 5, 13, 8, 1, 500000)), id="timestamp-auto"),
        pytest.param(FormatCase("", "a,yes\n", "BOOLEAN", True), id="boolean"),
        pytest.param(FormatCase("", "a,-1.5e1\n", "FLOAT", -15.0), id="float"),
    ],
)  # fmt: skip
def test_file_format_options(cur: Cursor, tmp_path: Path, case: FormatCase) -> None:
    """CSV file format options shape the loaded value: delimiter, TRIM_SPACE, NULL_IF (default \\N),
    EMPTY_FIELD_AS_NULL, DATE/TIME/TIMESTAMP_FORMAT with Snowflake format elements or AUTO, booleans, floats."""
    cur.execute(f"CREATE TABLE T (K VARCHAR, V {case.column})")
    put(cur, tmp_path, "f.csv", case.content, "@%T")
    cur.execute(f"COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV {case.options})")
    assert cur.fetchall()[0]["status"] == "LOADED"
    cur.execute("SELECT V FROM T")
    assert cur.fetchall() == [{"V": case.expected}]


def test_metadata_and_casts_on_named_stage(cur: Cursor, tmp_path: Path) -> None:
    """In a transformation from a named stage, METADATA$FILENAME is the path within the stage (COPY's output
    prefixes the stage name), METADATA$START_SCAN_TIME is a timestamp, literals load as constants and `$n::TYPE`
    converts before the target column does (NUMBER(12,2) -> VARCHAR keeps the scale)."""
    cur.execute("CREATE TABLE T (F VARCHAR, R NUMBER, SCAN TIMESTAMP_LTZ, LIT VARCHAR, NUM NUMBER(5,2), P VARCHAR)")
    cur.execute("CREATE STAGE LANDING")
    put(cur, tmp_path, "a.csv", "74.6\n12\n", "@LANDING/day=1/")
    cur.execute(
        "COPY INTO T FROM (SELECT METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, METADATA$START_SCAN_TIME, 'lit', "
        "-1.5, $1::NUMBER(12,2) FROM @LANDING/day=1/)"
    )
    assert cur.fetchall() == [result("landing/day=1/a.csv.gz", "LOADED", 2, 2)]
    cur.execute("SELECT * FROM T ORDER BY R")
    rows = cur.fetchall()
    assert [(r["F"], r["R"], r["LIT"], r["NUM"], r["P"]) for r in rows] == [
        ("day=1/a.csv.gz", 1, "lit", Decimal("-1.50"), "74.60"),
        ("day=1/a.csv.gz", 2, "lit", Decimal("-1.50"), "12.00"),
    ]
    assert all(isinstance(r["SCAN"], datetime.datetime) for r in rows)


def test_bom_without_header_is_not_data(cur: Cursor, tmp_path: Path) -> None:
    """With no header to skip, the BOM is still stripped, so the first field converts to a number."""
    cur.execute("CREATE TABLE T (N NUMBER, S VARCHAR)")
    put(cur, tmp_path, "bom.csv", b"\xef\xbb\xbf42,x\n", "@%T")
    cur.execute("COPY INTO T FROM @%T")
    assert cur.fetchall()[0]["status"] == "LOADED"
    cur.execute("SELECT N FROM T")
    assert cur.fetchall() == [{"N": 42}]


class StringFnCase(NamedTuple):
    item: str
    expected: list[str | None]  # V for records 1 and 2 of STRING_FN_DATA


# staged as @S/batch_7/day=1/f.csv.gz: METADATA$FILENAME is 'batch_7/day=1/f.csv.gz'; record 2's $1 is NULL
STRING_FN_DATA = "a-b-c,x\n,y\n"
FILENAME = "batch_7/day=1/f.csv.gz"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, '/', -2)", ["day=1"] * 2), id="parent-folder"),
        pytest.param(StringFnCase("split_part(metadata$filename, '/', 1)", ["batch_7"] * 2), id="first-lowercase"),
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, '/', 0)", ["batch_7"] * 2), id="zero-is-one"),
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, '/', -1)", ["f.csv.gz"] * 2), id="last"),
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, '/', 4)", [""] * 2), id="out-of-range"),
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, '/', -4)", [""] * 2), id="out-of-range-negative"),
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, '/d', 2)", ["ay=1/f.csv.gz"] * 2),
                     id="whole-delimiter"),
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, '', 1)", [FILENAME] * 2), id="empty-delimiter"),
        pytest.param(StringFnCase("SPLIT_PART(NULL, '/', 1)", [None] * 2), id="null-text"),
        pytest.param(StringFnCase("SPLIT_PART(METADATA$FILENAME, NULL, 1)", [None] * 2), id="null-delimiter"),
        pytest.param(StringFnCase("SPLIT_PART($1, '-', -1)", ["c", None]), id="field-null-field"),
        pytest.param(StringFnCase("SPLIT_PART(t.$1, '-', '2')", ["b", None]), id="aliased-field-text-part"),
        pytest.param(StringFnCase("UPPER(SPLIT_PART($1, '-', 1))", ["A", None]), id="nested"),
        pytest.param(StringFnCase("CONCAT('b_', SPLIT_PART(METADATA$FILENAME, '/', 1), '_', METADATA$FILE_ROW_NUMBER)",
                                  ["b_batch_7_1", "b_batch_7_2"]), id="concat-metadata"),
        pytest.param(StringFnCase("CONCAT($2, '#', METADATA$FILE_ROW_NUMBER)", ["x#1", "y#2"]),
                     id="concat-field-and-row"),
        pytest.param(StringFnCase("CONCAT($1, '!')", ["a-b-c!", None]), id="concat-null-field"),
        pytest.param(StringFnCase("CONCAT(METADATA$FILENAME, NULL)", [None] * 2), id="concat-null"),
        pytest.param(StringFnCase("'id-' || $2 || '/' || $2", ["id-x/x", "id-y/y"]), id="pipes-operator"),
        pytest.param(StringFnCase("$1 || '/' || 1.5", ["a-b-c/1.5", None]), id="pipes-null-field"),
    ],
)  # fmt: skip
def test_transformation_string_functions(cur: Cursor, tmp_path: Path, case: StringFnCase) -> None:
    """In a COPY transformation, SPLIT_PART(text, delimiter, n) returns the n-th part (1-based; 0 counts as 1;
    negative counts from the end, -2 of METADATA$FILENAME being the file's parent folder; '' when out of range;
    the whole delimiter splits; an empty delimiter leaves the text whole), CONCAT(...) and || join text (numbers
    converted to text); all three are NULL when any argument is NULL."""
    cur.execute("CREATE TABLE T (R NUMBER, V VARCHAR)")
    cur.execute("CREATE STAGE S")
    put(cur, tmp_path, "f.csv", STRING_FN_DATA, "@S/batch_7/day=1/")
    cur.execute(
        f"COPY INTO T FROM (SELECT METADATA$FILE_ROW_NUMBER, {case.item} FROM @S/batch_7/ t) "
        "FILE_FORMAT = (TYPE = CSV NULL_IF = (''))"
    )
    assert cur.fetchall() == [result(f"s/{FILENAME}", "LOADED", 2, 2)]
    cur.execute("SELECT V FROM T ORDER BY R")
    assert [r["V"] for r in cur.fetchall()] == case.expected


def test_split_part_of_a_bad_field_rejects_the_record(cur: Cursor, tmp_path: Path) -> None:
    """A value computed from a field converts to the column's type like the field would: a bad one rejects the
    record, named by the column and the field's position (ON_ERROR = CONTINUE loads the others)."""
    cur.execute("CREATE TABLE T (N NUMBER, S VARCHAR)")
    cur.execute("CREATE STAGE S")
    put(cur, tmp_path, "a.csv", "k-1,a\nk-x,b\n", "@S")
    cur.execute("COPY INTO T FROM (SELECT SPLIT_PART($1, '-', 2), $2 FROM @S) ON_ERROR = CONTINUE")
    assert cur.fetchall() == [
        result("s/a.csv.gz", "PARTIALLY_LOADED", 2, 1, limit=2, seen=1, first_error="Numeric value 'x' is not recognized",
               line=2, character=1, column='"T"["N":1]')
    ]  # fmt: skip
    cur.execute("SELECT * FROM T")
    assert cur.fetchall() == [{"N": 1, "S": "a"}]


def test_item_reading_two_fields_is_not_implemented(cur: Cursor, tmp_path: Path) -> None:
    """Snowflake accepts CONCAT($1, $2); the twin fails loudly, naming the item, rather than loading differently."""
    cur.execute("CREATE TABLE T (V VARCHAR)")
    cur.execute("CREATE STAGE S")
    put(cur, tmp_path, "a.csv", "a,b\n", "@S")
    with pytest.raises(ProgrammingError, match=r"CONCAT\(\$1, \$2\) reading two or more fields"):
        cur.execute("COPY INTO T FROM (SELECT CONCAT($1, $2) FROM @S)")
    assert count(cur, "T") == 0


class CompressionCase(NamedTuple):
    name: str
    content: bytes
    auto_compress: bool
    file_format: str
    listed: str


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(CompressionCase("a.csv", b"1\n2\n", True, "", "a.csv.gz"), id="put-auto-compress"),
        pytest.param(CompressionCase("a.csv.gz", gzip.compress(b"1\n2\n"), False, "", "a.csv.gz"), id="pre-gzipped"),
        pytest.param(CompressionCase("a.csv", b"1\n2\n", False, "", "a.csv"), id="uncompressed"),
        pytest.param(CompressionCase("a.dat", gzip.compress(b"1\n2\n"), False, "COMPRESSION = GZIP", "a.dat"),
                     id="gzip-option-without-extension"),
    ],
)  # fmt: skip
def test_compression(cur: Cursor, tmp_path: Path, case: CompressionCase) -> None:
    """COMPRESSION = AUTO reads gzip and plain files; COMPRESSION = GZIP reads a gzip file of any name."""
    cur.execute("CREATE TABLE T (N NUMBER)")
    put(cur, tmp_path, case.name, case.content, "@%T", auto_compress=case.auto_compress)
    cur.execute(f"COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV {case.file_format})")
    assert cur.fetchall() == [result(case.listed, "LOADED", 2, 2)]
    assert count(cur, "T") == 2


# --- ON_ERROR -----------------------------------------------------------------------------------------------------

BAD_PRICE_ERROR = "Numeric value 'abc' is not recognized"
BAD_PRICE_COLUMN = '"SALES_RAW"["UNIT_PRICE":7]'


class OnErrorCase(NamedTuple):
    on_error: str
    status: str
    loaded: int
    error_limit: int


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(OnErrorCase("CONTINUE", "PARTIALLY_LOADED", 3, 4), id="continue"),
        pytest.param(OnErrorCase("SKIP_FILE", "LOAD_FAILED", 0, 1), id="skip-file"),
        pytest.param(OnErrorCase("SKIP_FILE_1", "LOAD_FAILED", 0, 1), id="skip-file-1"),
        pytest.param(OnErrorCase("SKIP_FILE_2", "PARTIALLY_LOADED", 3, 2), id="skip-file-2"),
        pytest.param(OnErrorCase("'SKIP_FILE_10%'", "LOAD_FAILED", 0, 1), id="skip-file-10-percent"),
        pytest.param(OnErrorCase("'SKIP_FILE_50%'", "PARTIALLY_LOADED", 3, 2), id="skip-file-50-percent"),
    ],
)
def test_on_error_modes(cur: Cursor, database: str, tmp_path: Path, case: OnErrorCase) -> None:
    """With one bad row in four, each ON_ERROR mode gives Snowflake's status, rows_loaded, error_limit, errors_seen
    and first error (message, line with the header counted, character, "TABLE"["COLUMN":ordinal])."""
    setup_sales(cur, database)
    rows = [ROWS[0], bad_row(7, "abc"), ROWS[2], ROWS[3]]
    put(cur, tmp_path, "sales.csv", csv_text(*rows), f"@SALES_LOAD/{PREFIX}/")
    cur.execute(pipeline_copy(database, on_error=case.on_error))
    character = len(",".join(rows[1].split(",")[:6])) + 2
    assert cur.fetchall() == [
        result(f"sales_load/{PREFIX}/sales.csv.gz", case.status, 4, case.loaded, case.error_limit, 1, BAD_PRICE_ERROR, 3,
               character, BAD_PRICE_COLUMN)
    ]  # fmt: skip
    assert count(cur) == case.loaded


def test_abort_statement_error_text_and_nothing_inserted(cur: Cursor, database: str, tmp_path: Path) -> None:
    """ON_ERROR = ABORT_STATEMENT (the default) fails with Snowflake's errno/sqlstate and message naming file,
    line, character, row and column, and inserts nothing, even from files before the bad one."""
    setup_sales(cur, database)
    put(cur, tmp_path, "a_good.csv", csv_text(*ROWS), f"@SALES_LOAD/{PREFIX}/")
    put(cur, tmp_path, "b_bad.csv", csv_text(ROWS[0], bad_row(7, "abc")), f"@SALES_LOAD/{PREFIX}/")
    with pytest.raises(ProgrammingError) as info:
        cur.execute(pipeline_copy(database))
    character = len(",".join(ROWS[1].split(",")[:6])) + 2
    assert info.value.errno == 100038
    assert info.value.sqlstate == "22018"
    assert message(info.value) == (
        f"{BAD_PRICE_ERROR}\n"
        f"  File '{PREFIX}/b_bad.csv.gz', line 3, character {character}\n"
        f"  Row 2, column {BAD_PRICE_COLUMN}\n"
        f"  {HINT}"
    )
    assert count(cur) == 0


class ValueErrorCase(NamedTuple):
    column: int  # 1-based field
    value: str
    errno: int
    message: str
    column_name: str


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ValueErrorCase(11, "2019-13-45", 100040, "Date '2019-13-45' is not recognized",
                                    '"SALES_RAW"["SALE_DATE":11]'), id="date"),
        pytest.param(ValueErrorCase(11, "2/30/2019", 100040, "Date '2/30/2019' is not recognized",
                                    '"SALES_RAW"["SALE_DATE":11]'), id="impossible-date"),
        pytest.param(ValueErrorCase(12, "25:99", 100108, "Time '25:99' is not recognized",
                                    '"SALES_RAW"["SALE_TIME":12]'), id="time"),
        pytest.param(ValueErrorCase(2, "toolongvalue", 100074,
                                    "User character length limit (8) exceeded by string 'toolongvalue'",
                                    '"SALES_RAW"["BRANCH":2]'), id="varchar-length"),
        pytest.param(ValueErrorCase(8, "1234567", 100039, "Numeric value '1234567' is out of range",
                                    '"SALES_RAW"["QUANTITY":8]'), id="number-overflow"),
    ],
)  # fmt: skip
def test_value_errors(cur: Cursor, database: str, tmp_path: Path, case: ValueErrorCase) -> None:
    """Each type's conversion error has Snowflake's errno and message, and is reported at the bad field."""
    setup_sales(cur, database)
    row = bad_row(case.column, case.value)
    put(cur, tmp_path, "sales.csv", csv_text(row), f"@SALES_LOAD/{PREFIX}/")
    with pytest.raises(ProgrammingError) as info:
        cur.execute(pipeline_copy(database))
    character = len(",".join(row.split(",")[: case.column - 1])) + 2
    assert info.value.errno == case.errno
    assert message(info.value).splitlines()[:3] == [
        case.message,
        f"  File '{PREFIX}/sales.csv.gz', line 2, character {character}",
        f"  Row 1, column {case.column_name}",
    ]


def test_numbers_round_half_up_to_scale(cur: Cursor, tmp_path: Path) -> None:
    """NUMBER(p,s) rounds extra decimals half away from zero; NUMBER(6,0) takes 7.5 as 8; exponents are numbers."""
    cur.execute("CREATE TABLE T (P NUMBER(12,2), Q NUMBER(6,0), R NUMBER(4,1))")
    put(cur, tmp_path, "n.csv", "15.285,7.5,-0.05\n1e2,-7.5,9.95\n", "@%T")
    cur.execute("COPY INTO T FROM @%T")
    assert cur.fetchall()[0]["status"] == "LOADED"
    cur.execute("SELECT * FROM T ORDER BY P")
    assert [tuple(r.values()) for r in cur.fetchall()] == [
        (Decimal("15.29"), 8, Decimal("-0.1")),
        (Decimal("100.00"), -8, Decimal("10.0")),
    ]


def test_invalid_utf8_rejects_the_record(cur: Cursor, tmp_path: Path) -> None:
    """A record with bytes that aren't UTF-8 is rejected with 'Invalid UTF8 detected in string', showing bad
    bytes as 0xNN; other records load with CONTINUE."""
    cur.execute("CREATE TABLE T (ID NUMBER, NAME VARCHAR)")
    put(cur, tmp_path, "u.csv", b"1,Caf\xc3\xa9\n2,Caf\xe9\n", "@%T")
    cur.execute("COPY INTO T FROM @%T ON_ERROR = CONTINUE")
    assert cur.fetchall() == [
        result("u.csv.gz", "PARTIALLY_LOADED", 2, 1, 2, 1, "Invalid UTF8 detected in string 'Caf0xE9'", 2, 3,
               '"T"["NAME":2]')
    ]  # fmt: skip
    cur.execute("SELECT NAME FROM T")
    assert cur.fetchall() == [{"NAME": "Café"}]


# --- column count -------------------------------------------------------------------------------------------------


def test_column_count_mismatch(cur: Cursor, database: str, tmp_path: Path) -> None:
    """Plain COPY rejects a record with more fields than columns (errno 100080), reporting the extra field."""
    setup_sales(cur, database, audit=False)
    row = ROWS[1] + ",extra"
    put(cur, tmp_path, "sales.csv", csv_text(ROWS[0], row), f"@SALES_LOAD/{PREFIX}/")
    with pytest.raises(ProgrammingError) as info:
        cur.execute(
            f"COPY INTO SALES_RAW FROM @SALES_LOAD/{PREFIX}/ FILE_FORMAT = (FORMAT_NAME = '{database}.RAW.SALES_CSV')"
        )
    assert info.value.errno == 100080
    assert message(info.value).splitlines()[:3] == [
        "Number of columns in file (18) does not match that of the corresponding table (17), use file format option "
        "error_on_column_count_mismatch=false to ignore this error",
        f"  File '{PREFIX}/sales.csv.gz', line 3, character {len(ROWS[1]) + 2}",
        '  Row 2, column "SALES_RAW"[18]',
    ]
    assert count(cur) == 0


class CountCase(NamedTuple):
    copy: str
    expected: list[tuple]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(CountCase("COPY INTO T FROM @S FILE_FORMAT = (TYPE = CSV ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE)",
                               [("1", "2", "3"), ("4", None, None)]), id="option-false"),
        pytest.param(CountCase("COPY INTO T FROM (SELECT $1, $2, $3 FROM @S)",
                               [("1", "2", "3"), ("4", None, None)]), id="ignored-by-transformation"),
    ],
)  # fmt: skip
def test_column_count_mismatch_tolerated(cur: Cursor, tmp_path: Path, case: CountCase) -> None:
    """ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE, or any COPY transformation, loads short records with NULLs and
    ignores extra fields."""
    cur.execute("CREATE TABLE T (A VARCHAR, B VARCHAR, C VARCHAR)")
    cur.execute("CREATE STAGE S")
    put(cur, tmp_path, "c.csv", "1,2,3,99\n4\n", "@S")
    cur.execute(case.copy)
    assert cur.fetchall()[0]["status"] == "LOADED"
    cur.execute("SELECT * FROM T ORDER BY A")
    assert [tuple(r.values()) for r in cur.fetchall()] == case.expected


# --- CSV defaults: ESCAPE_UNENCLOSED_FIELD, SKIP_BLANK_LINES -------------------------------------------------------

CREATE_FILE_FORMAT = "https://docs.snowflake.com/en/sql-reference/sql/create-file-format"


class EscapeCase(NamedTuple):
    file_format: str  # the COPY's FILE_FORMAT = (...) or a named format's options
    named: bool  # through CREATE FILE FORMAT (its stored default) rather than inline
    expected: list[tuple]


ESCAPE_DATA = "a\\,b,C:\\\\temp\nx,\\N\nline\\\nbreak,\"q\\r\"\nC:\\temp,\\\\x\n"
ESCAPE_CASES = [
    pytest.param(EscapeCase("TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"'", False, [
        ("C:temp", "\\x"), ("a,b", "C:\\temp"), ("line\nbreak", "q\\r"), ("x", None)]), id="default-inline"),
    pytest.param(EscapeCase("TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"'", True, [
        ("C:temp", "\\x"), ("a,b", "C:\\temp"), ("line\nbreak", "q\\r"), ("x", None)]), id="default-named"),
    pytest.param(EscapeCase("TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE_UNENCLOSED_FIELD = '\\\\'", False, [
        ("C:temp", "\\x"), ("a,b", "C:\\temp"), ("line\nbreak", "q\\r"), ("x", None)]), id="backslash-explicit"),
]


@pytest.mark.parametrize("case", ESCAPE_CASES)
def test_backslash_escapes_in_unenclosed_fields_by_default(cur: Cursor, tmp_path: Path, case: EscapeCase) -> None:
    """ESCAPE_UNENCLOSED_FIELD: "A singlebyte character string used as the escape character for unenclosed field
    values only. ... You can use the ESCAPE character to interpret instances of the FIELD_DELIMITER or
    RECORD_DELIMITER characters in the data as literals. The escape character can also be used to escape instances
    of itself in the data." "Default: backslash (\\\\)", and "If a row in a data file ends in the backslash (\\)
    character, this character escapes the newline or carriage return character specified for the RECORD_DELIMITER
    file format option. As a result, the load operation treats this row and the next row as a single row of data."
    NULL_IF's default is "\\N (that is, NULL, which assumes the ESCAPE_UNENCLOSED_FIELD value is \\\\)" (CREATE FILE
    FORMAT, https://docs.snowflake.com/en/sql-reference/sql/create-file-format). Enclosed fields are not escaped
    (ESCAPE defaults to NONE). A format that doesn't set the option, named or inline, escapes."""
    cur.execute("CREATE TABLE T (A VARCHAR, B VARCHAR)")
    put(cur, tmp_path, "e.csv", ESCAPE_DATA, "@%T")
    file_format = case.file_format
    if case.named:
        cur.execute(f"CREATE FILE FORMAT F {case.file_format}")
        file_format = "FORMAT_NAME = 'F'"
    cur.execute(f"COPY INTO T FROM @%T FILE_FORMAT = ({file_format})")
    assert [(r["status"], r["rows_parsed"]) for r in cur.fetchall()] == [("LOADED", 4)]
    cur.execute("SELECT A, B FROM T ORDER BY A")
    assert [tuple(r.values()) for r in cur.fetchall()] == case.expected


def test_escape_unenclosed_field_none_keeps_backslashes(cur: Cursor, tmp_path: Path) -> None:
    """ESCAPE_UNENCLOSED_FIELD = NONE: "To avoid this issue, set the value to NONE" (CREATE FILE FORMAT): backslashes
    are data, a backslash at the end of a line ends nothing; \\N is still NULL_IF's default."""
    cur.execute("CREATE TABLE T (A VARCHAR, B VARCHAR)")
    put(cur, tmp_path, "e.csv", "C:\\temp,x\\\nlast\\,\\N\n", "@%T")
    cur.execute("COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV ESCAPE_UNENCLOSED_FIELD = NONE)")
    assert [(r["status"], r["rows_parsed"]) for r in cur.fetchall()] == [("LOADED", 2)]
    cur.execute("SELECT A, B FROM T ORDER BY A")
    assert [tuple(r.values()) for r in cur.fetchall()] == [("C:\\temp", "x\\"), ("last\\", None)]


class BlankCase(NamedTuple):
    options: str
    result: dict
    loaded: list[tuple]


BLANK_CASES = [
    pytest.param(BlankCase("", result(
        "b.csv.gz", "PARTIALLY_LOADED", 3, 2, 3, 1, "Number of columns in file (1) does not match that of the "
        "corresponding table (2), use file format option error_on_column_count_mismatch=false to ignore this error",
        2, 1, '"T"["B":2]'), [("a", "b"), ("c", "d")]), id="default-a-blank-line-is-a-record"),
    pytest.param(BlankCase("SKIP_BLANK_LINES = TRUE", result("b.csv.gz", "LOADED", 2, 2, 2),
                           [("a", "b"), ("c", "d")]), id="skip-blank-lines"),
    pytest.param(BlankCase("ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE", result("b.csv.gz", "LOADED", 3, 3, 3),
                           [("a", "b"), ("c", "d"), (None, None)]), id="no-count-check-loads-nulls"),
]


@pytest.mark.parametrize("case", BLANK_CASES)
def test_a_blank_line_is_a_record_unless_skipped(cur: Cursor, tmp_path: Path, case: BlankCase) -> None:
    """SKIP_BLANK_LINES: "Boolean that specifies to skip any blank lines encountered in the data files; otherwise,
    blank lines produce an end-of-record error (default behavior)." "Default: FALSE" (CREATE FILE FORMAT,
    https://docs.snowflake.com/en/sql-reference/sql/create-file-format). The twin reads a blank line as a record of
    one empty field, so with ERROR_ON_COLUMN_COUNT_MISMATCH (default TRUE) it is the column-count error, at the
    blank line (the docs name no text for this error; the twin's is the column-count error's)."""
    cur.execute("CREATE TABLE T (A VARCHAR, B VARCHAR)")
    put(cur, tmp_path, "b.csv", "a,b\n\nc,d\n", "@%T")
    cur.execute(f"COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV {case.options}) ON_ERROR = CONTINUE")
    assert cur.fetchall() == [case.result]
    cur.execute("SELECT A, B FROM T ORDER BY A NULLS LAST")
    assert [tuple(r.values()) for r in cur.fetchall()] == case.loaded


def test_the_064b242_sales_format_reads_backslashes_and_blank_lines_as_snowflake_does(
        cur: Cursor, database: str, tmp_path: Path) -> None:
    """064b242's raw/create_file_format_csv.sql (this file's FILE_FORMAT) set neither ESCAPE_UNENCLOSED_FIELD nor
    SKIP_BLANK_LINES, so Snowflake's defaults applied: a blank line aborts the load that the file checks (which skip
    blank lines and keep backslashes) had passed, and a backslash in a value is dropped. The setup's formats now set
    both (migrations dataset/V003, V006: ESCAPE_UNENCLOSED_FIELD = NONE, SKIP_BLANK_LINES = TRUE)."""
    setup_sales(cur, database, audit=False)
    backslash = ROWS[1].replace(",Naypyitaw,", ",Nay\\pyitaw,")
    put(cur, tmp_path, "sales.csv", csv_text(ROWS[0], "", backslash), f"@SALES_LOAD/{PREFIX}/")
    copy = f"COPY INTO SALES_RAW FROM @SALES_LOAD/{PREFIX}/ FILE_FORMAT = (FORMAT_NAME = '{database}.RAW.SALES_CSV')"
    with pytest.raises(ProgrammingError) as info:
        cur.execute(copy)
    where = f"  File '{PREFIX}/sales.csv.gz', line 3, character 1"  # the blank line
    assert (info.value.errno, message(info.value).splitlines()[1]) == (100080, where)
    cur.execute(f"ALTER FILE FORMAT {database}.RAW.SALES_CSV SET SKIP_BLANK_LINES = TRUE")
    cur.execute(copy)
    assert [(r["status"], r["rows_loaded"]) for r in cur.fetchall()] == [("LOADED", 2)]
    cur.execute("SELECT CITY FROM SALES_RAW ORDER BY CITY")
    assert [r["CITY"] for r in cur.fetchall()] == ["Naypyitaw", "Yangon"]  # the backslash is gone
    cur.execute("TRUNCATE TABLE SALES_RAW")
    cur.execute(f"ALTER FILE FORMAT {database}.RAW.SALES_CSV SET ESCAPE_UNENCLOSED_FIELD = NONE")
    cur.execute(copy + " FORCE = TRUE")
    cur.execute("SELECT CITY FROM SALES_RAW ORDER BY CITY")
    assert [r["CITY"] for r in cur.fetchall()] == ["Nay\\pyitaw", "Yangon"]


# --- unsupported --------------------------------------------------------------------------------------------------


def test_unsupported_option_names_it(cur: Cursor, tmp_path: Path) -> None:
    """An option the twin can't emulate fails loudly, naming it, rather than loading differently."""
    cur.execute("CREATE TABLE T (A VARCHAR)")
    put(cur, tmp_path, "a.csv", "x\n", "@%T")
    with pytest.raises(ProgrammingError, match="ESCAPE"):
        cur.execute("COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV ESCAPE = '\\\\')")
