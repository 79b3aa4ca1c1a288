"""Conformance of the twin's bulk-load checks with Snowflake: VALIDATE, COPY ... VALIDATION_MODE,
INFORMATION_SCHEMA.COPY_HISTORY and LAST_QUERY_ID.

Every test goes through the real snowflake.connector over HTTP: it PUTs CSV files into a stage, runs
COPY, then the statement under test, and checks its result rows (or error).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import NamedTuple

import pytest
import snowflake.connector
from snowflake.connector import ProgrammingError

from tests.twin.test_copy_conformance import message, put

Cursor = snowflake.connector.cursor.DictCursor

VALIDATE_COLUMNS = [
    "ERROR", "FILE", "LINE", "CHARACTER", "BYTE_OFFSET", "CATEGORY", "CODE", "SQL_STATE", "COLUMN_NAME", "ROW_NUMBER",
    "ROW_START_LINE", "REJECTED_RECORD",
]  # fmt: skip
COPY_HISTORY_COLUMNS = [
    "FILE_NAME", "STAGE_LOCATION", "LAST_LOAD_TIME", "ROW_COUNT", "ROW_PARSED", "FILE_SIZE", "FIRST_ERROR_MESSAGE",
    "FIRST_ERROR_LINE_NUMBER", "FIRST_ERROR_CHARACTER_POS", "FIRST_ERROR_COLUMN_NAME", "ERROR_COUNT", "ERROR_LIMIT",
    "STATUS", "TABLE_CATALOG_NAME", "TABLE_SCHEMA_NAME", "TABLE_NAME", "PIPE_CATALOG_NAME", "PIPE_SCHEMA_NAME",
    "PIPE_NAME", "PIPE_RECEIVED_TIME", "BYTES_BILLED",
]  # fmt: skip

# a header, a good row, a bad number (line 3), a good row, a short record (line 5)
ORDERS = "id,qty,day\n1,5,2024-01-02\n2,lots,2024-01-03\n3,7,2024-01-04\n4,9\n"
ORDERS_TABLE = "CREATE TABLE ORDERS (ID NUMBER, QTY NUMBER(6,0), DAY DATE)"
ORDERS_FORMAT = "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)"
QTY_ERROR = {
    "ERROR": "Numeric value 'lots' is not recognized",
    "FILE": "in/orders.csv.gz",
    "LINE": 3,
    "CHARACTER": 3,
    "BYTE_OFFSET": None,
    "CATEGORY": "conversion",
    "CODE": 100038,
    "SQL_STATE": "22018",
    "COLUMN_NAME": '"ORDERS"["QTY":2]',
    "ROW_NUMBER": 2,
    "ROW_START_LINE": 3,
    "REJECTED_RECORD": "2,lots,2024-01-03",
}
COUNT_ERROR = {
    "ERROR": "Number of columns in file (2) does not match that of the corresponding table (3), use file format "
    "option error_on_column_count_mismatch=false to ignore this error",
    "FILE": "in/orders.csv.gz",
    "LINE": 5,
    "CHARACTER": 4,
    "BYTE_OFFSET": None,
    "CATEGORY": "parsing",
    "CODE": 100080,
    "SQL_STATE": "22000",
    "COLUMN_NAME": '"ORDERS"["DAY":3]',
    "ROW_NUMBER": 4,
    "ROW_START_LINE": 5,
    "REJECTED_RECORD": "4,9",
}


def load_orders(cur: Cursor, tmp_path: Path, on_error: str = "CONTINUE", extra: str = "") -> str:
    """Create ORDERS, stage ORDERS under in/ and COPY it; returns the COPY's query id."""
    cur.execute(ORDERS_TABLE)
    put(cur, tmp_path, "orders.csv", ORDERS, "@%ORDERS/in/")
    cur.execute(f"COPY INTO ORDERS FROM @%ORDERS/in/ {ORDERS_FORMAT} ON_ERROR = {on_error} {extra}")
    assert cur.sfqid
    return cur.sfqid


def count(cur: Cursor, table: str) -> int:
    cur.execute(f"SELECT COUNT(*) AS N FROM {table}")
    return cur.fetchone()["N"]


# --- VALIDATE -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", ["_last", "query-id", "last-query-id"])
def test_validate_returns_every_rejected_record(cur: Cursor, database: str, tmp_path: Path, job: str) -> None:
    """VALIDATE(t, JOB_ID => '_last' | '<query id>') returns all records the COPY rejected (not just the first),
    with Snowflake's columns: the error, file, line and character, category, code, SQL state, column, row number,
    the record's first line and the raw record. The query id is the COPY's as the client saw it (cursor.sfqid, or
    LAST_QUERY_ID() right after the COPY)."""
    qid = load_orders(cur, tmp_path)
    assert cur.fetchall()[0]["status"] == "PARTIALLY_LOADED"
    if job == "last-query-id":
        cur.execute("SELECT LAST_QUERY_ID() AS Q")
        job_id = cur.fetchone()["Q"]
        assert job_id == qid
    else:
        job_id = "_last" if job == "_last" else qid
    cur.execute(f"SELECT * FROM TABLE(VALIDATE({database}.RAW.ORDERS, JOB_ID => '{job_id}'))")
    rows = cur.fetchall()
    assert [list(r) for r in rows] == [VALIDATE_COLUMNS] * 2
    assert rows == [QTY_ERROR, COUNT_ERROR]


def test_validate_rows_can_be_filtered_and_saved(cur: Cursor, tmp_path: Path) -> None:
    """VALIDATE's rows are an ordinary table source: columns can be picked, filtered, and saved with CTAS, as in
    Snowflake's `CREATE TABLE save_copy_errors AS SELECT * FROM TABLE(VALIDATE(...))`."""
    load_orders(cur, tmp_path)
    cur.execute("SELECT ERROR, LINE FROM TABLE(VALIDATE(ORDERS, JOB_ID => '_last')) WHERE CODE = 100080")
    assert cur.fetchall() == [{"ERROR": COUNT_ERROR["ERROR"], "LINE": 5}]
    cur.execute("CREATE TABLE SAVE_COPY_ERRORS AS SELECT * FROM TABLE(VALIDATE(ORDERS, JOB_ID => '_last'))")
    assert count(cur, "SAVE_COPY_ERRORS") == 2


def test_validate_last_is_the_sessions_last_copy_whatever_the_table(cur: Cursor, tmp_path: Path) -> None:
    """'_last' is the last COPY the session ran, regardless of the table named; a query id still finds its own
    COPY later in the session."""
    qid = load_orders(cur, tmp_path)
    cur.execute("CREATE TABLE OTHER (A VARCHAR)")
    put(cur, tmp_path, "other.csv", "x\n", "@%OTHER")
    cur.execute("COPY INTO OTHER FROM @%OTHER ON_ERROR = CONTINUE")
    cur.execute("SELECT * FROM TABLE(VALIDATE(ORDERS, JOB_ID => '_last'))")
    assert cur.fetchall() == []
    cur.execute(f"SELECT * FROM TABLE(VALIDATE(ORDERS, JOB_ID => '{qid}'))")
    assert len(cur.fetchall()) == 2


def test_validate_from_another_session_by_query_id(
    twin_kwargs: dict, cur: Cursor, database: str, tmp_path: Path
) -> None:
    """A query id identifies the COPY in any session; '_last' only looks at the current session's COPYs."""
    qid = load_orders(cur, tmp_path)
    with snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW") as other:
        with other.cursor(snowflake.connector.DictCursor) as c2:
            c2.execute(f"SELECT ROW_NUMBER FROM TABLE(VALIDATE(ORDERS, JOB_ID => '{qid}'))")
            assert c2.fetchall() == [{"ROW_NUMBER": 2}, {"ROW_NUMBER": 4}]
            with pytest.raises(ProgrammingError):
                c2.execute("SELECT * FROM TABLE(VALIDATE(ORDERS, JOB_ID => '_last'))")


class NoRowsCase(NamedTuple):
    copy: str
    fails: bool


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(NoRowsCase(f"COPY INTO ORDERS FROM @%ORDERS {ORDERS_FORMAT}", True), id="abort-statement-failed"),
        pytest.param(NoRowsCase("COPY INTO ORDERS FROM @%ORDERS FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 "
                                "ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE) PATTERN = '.*good.*'", False),
                     id="abort-statement-loaded"),
        pytest.param(NoRowsCase(f"COPY INTO ORDERS FROM @%ORDERS/none/ {ORDERS_FORMAT} ON_ERROR = CONTINUE", False),
                     id="no-files"),
    ],
)  # fmt: skip
def test_validate_returns_nothing_for_abort_statement(cur: Cursor, tmp_path: Path, case: NoRowsCase) -> None:
    """VALIDATE returns no rows for a COPY with ON_ERROR = ABORT_STATEMENT (the default), failed or not, nor for
    a COPY that found no files."""
    cur.execute(ORDERS_TABLE)
    put(cur, tmp_path, "orders.csv", ORDERS, "@%ORDERS")
    put(cur, tmp_path, "good.csv", "id,qty,day\n1,5,2024-01-02\n", "@%ORDERS")
    if case.fails:
        with pytest.raises(ProgrammingError):
            cur.execute(case.copy)
    else:
        cur.execute(case.copy)
    cur.execute("SELECT * FROM TABLE(VALIDATE(ORDERS, JOB_ID => '_last'))")
    assert cur.fetchall() == []


class FailCase(NamedTuple):
    copy: str  # run after ORDERS is loaded with ON_ERROR = CONTINUE; {qid} is that COPY's query id
    validate: str
    errno: int
    text: str


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(FailCase("COPY INTO ORDERS FROM (SELECT $1, $2, $3 FROM @S/in/) "
                              f"{ORDERS_FORMAT} ON_ERROR = CONTINUE FORCE = TRUE",
                              "VALIDATE(ORDERS, JOB_ID => '_last')", 2029, "transform data"), id="transformation"),
        pytest.param(FailCase("", "VALIDATE(ORDERS, JOB_ID => '01b2c3d4-0000-0000-0000-000000000000')", 2029,
                              "does not load into the specified table"), id="unknown-query-id"),
        pytest.param(FailCase("CREATE TABLE OTHER (A VARCHAR)", "VALIDATE(OTHER, JOB_ID => '{qid}')", 2029,
                              "does not load into the specified table"), id="query-id-of-another-table"),
        pytest.param(FailCase("", "VALIDATE(NO_SUCH_TABLE, JOB_ID => '_last')", 2003, "does not exist"),
                     id="unknown-table"),
    ],
)  # fmt: skip
def test_validate_failures(cur: Cursor, tmp_path: Path, case: FailCase) -> None:
    """Validation fails for a COPY that transformed data with a SELECT, for a query id that isn't a load into the
    named table, and for a table that doesn't exist."""
    qid = load_orders(cur, tmp_path)
    if "@S/" in case.copy:  # a transformation reads a named stage (never a table stage)
        cur.execute("CREATE STAGE S")
        put(cur, tmp_path, "orders.csv", ORDERS, "@S/in/")
    if case.copy:
        cur.execute(case.copy)
    with pytest.raises(ProgrammingError) as info:
        cur.execute(f"SELECT * FROM TABLE({case.validate.format(qid=qid)})")
    assert info.value.errno == case.errno
    assert case.text in message(info.value)


# --- VALIDATION_MODE ----------------------------------------------------------------------------------------------


class ModeCase(NamedTuple):
    mode: str
    expected: list[dict]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ModeCase("RETURN_ERRORS", [QTY_ERROR, COUNT_ERROR]), id="return-errors"),
        pytest.param(ModeCase("RETURN_ALL_ERRORS", [QTY_ERROR, COUNT_ERROR]), id="return-all-errors"),
        pytest.param(ModeCase("RETURN_1_ROWS", [{"ID": 1, "QTY": 5, "DAY": datetime.date(2024, 1, 2)}]),
                     id="return-1-rows"),
    ],
)  # fmt: skip
def test_validation_mode_loads_nothing(cur: Cursor, database: str, tmp_path: Path, case: ModeCase) -> None:
    """VALIDATION_MODE = RETURN_ERRORS / RETURN_ALL_ERRORS returns every rejected record (VALIDATE's columns) and
    RETURN_<n>_ROWS the first n records as the table's typed columns; nothing is loaded and no load history is
    recorded, so a later COPY loads the file."""
    cur.execute(ORDERS_TABLE)
    put(cur, tmp_path, "orders.csv", ORDERS, "@%ORDERS/in/")
    cur.execute(f"COPY INTO ORDERS FROM @%ORDERS/in/ {ORDERS_FORMAT} VALIDATION_MODE = {case.mode}")
    assert cur.fetchall() == case.expected
    assert count(cur, "ORDERS") == 0
    assert count(cur, f"{database}._fs_information_schema._fs_load_history") == 0
    cur.execute(f"COPY INTO ORDERS FROM @%ORDERS/in/ {ORDERS_FORMAT} ON_ERROR = CONTINUE")
    assert cur.fetchall()[0]["status"] == "PARTIALLY_LOADED"


def test_validation_mode_return_rows_fails_on_a_bad_record(cur: Cursor, tmp_path: Path) -> None:
    """RETURN_<n>_ROWS fails at the first error within the first n records, as ON_ERROR = ABORT_STATEMENT would."""
    cur.execute(ORDERS_TABLE)
    put(cur, tmp_path, "orders.csv", ORDERS, "@%ORDERS/in/")
    with pytest.raises(ProgrammingError) as info:
        cur.execute(f"COPY INTO ORDERS FROM @%ORDERS/in/ {ORDERS_FORMAT} VALIDATION_MODE = RETURN_3_ROWS")
    assert info.value.errno == 100038
    assert message(info.value).splitlines()[:3] == [
        "Numeric value 'lots' is not recognized",
        "  File 'in/orders.csv.gz', line 3, character 3",
        '  Row 2, column "ORDERS"["QTY":2]',
    ]


def test_validation_mode_all_errors_includes_files_loaded_before(cur: Cursor, tmp_path: Path) -> None:
    """RETURN_ERRORS skips files already loaded into the table (like the COPY would); RETURN_ALL_ERRORS also
    returns the errors of files partially loaded earlier with ON_ERROR = CONTINUE."""
    load_orders(cur, tmp_path)
    cur.execute(f"COPY INTO ORDERS FROM @%ORDERS/in/ {ORDERS_FORMAT} VALIDATION_MODE = RETURN_ERRORS")
    assert cur.fetchall() == []
    cur.execute(f"COPY INTO ORDERS FROM @%ORDERS/in/ {ORDERS_FORMAT} VALIDATION_MODE = 'RETURN_ALL_ERRORS'")
    assert cur.fetchall() == [QTY_ERROR, COUNT_ERROR]


def test_validation_mode_with_transformation_fails(cur: Cursor, tmp_path: Path) -> None:
    """VALIDATION_MODE doesn't support COPY statements that transform data: the COPY fails and loads nothing."""
    cur.execute(ORDERS_TABLE)
    put(cur, tmp_path, "orders.csv", ORDERS, "@%ORDERS/in/")
    with pytest.raises(ProgrammingError) as info:
        cur.execute(
            f"COPY INTO ORDERS FROM (SELECT $1, $2, $3 FROM @%ORDERS/in/) {ORDERS_FORMAT} "
            "VALIDATION_MODE = RETURN_ERRORS"
        )
    assert "invalid parameter 'validation_mode'" in message(info.value)
    assert count(cur, "ORDERS") == 0


# --- COPY_HISTORY -------------------------------------------------------------------------------------------------


def test_copy_history_rows_per_file(cur: Cursor, database: str, tmp_path: Path) -> None:
    """COPY_HISTORY(TABLE_NAME => ..., START_TIME => DATEADD(HOURS, -1, CURRENT_TIMESTAMP())) has a row per file
    with Snowflake's columns: the path relative to the stage, the stage, counts, the first error, the file's size
    (kept after the file is removed), 'Loaded' / 'Partially loaded' / 'Load failed' and the table's names; the
    pipe columns are NULL for COPY statements."""
    cur.execute(ORDERS_TABLE)
    put(cur, tmp_path, "orders.csv", ORDERS, "@%ORDERS/in/")
    put(cur, tmp_path, "good.csv", "id,qty,day\n1,5,2024-01-02\n", "@%ORDERS/in/")
    put(cur, tmp_path, "bad.csv", "id,qty,day\nx,5,2024-01-02\n", "@%ORDERS/in/")
    cur.execute(f"COPY INTO ORDERS FROM @%ORDERS/in/ {ORDERS_FORMAT} ON_ERROR = SKIP_FILE_2")
    cur.execute("LIST @%ORDERS")
    sizes = {r["name"]: r["size"] for r in cur.fetchall()}
    cur.execute("REMOVE @%ORDERS/in/")

    cur.execute(
        f"SELECT * FROM TABLE({database}.INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'RAW.ORDERS', "
        "START_TIME => DATEADD(HOURS, -1, CURRENT_TIMESTAMP()))) ORDER BY FILE_NAME"
    )
    rows = cur.fetchall()
    assert [list(r) for r in rows] == [COPY_HISTORY_COLUMNS] * 3
    assert all(isinstance(r.pop("LAST_LOAD_TIME"), datetime.datetime) for r in rows)
    # fakesnow 0.12.1's server sends a NULL TIMESTAMP_TZ as the epoch, so PIPE_RECEIVED_TIME isn't compared here
    assert all(r.pop("PIPE_RECEIVED_TIME") in (None, datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)) for r in rows)
    common = {
        "STAGE_LOCATION": f"@{database}.RAW.%ORDERS/", "TABLE_CATALOG_NAME": database, "TABLE_SCHEMA_NAME": "RAW",
        "TABLE_NAME": "ORDERS", "PIPE_CATALOG_NAME": None, "PIPE_SCHEMA_NAME": None, "PIPE_NAME": None,
        "BYTES_BILLED": None,
    }  # fmt: skip
    assert rows == [
        {"FILE_NAME": "in/bad.csv.gz", "ROW_COUNT": 0, "ROW_PARSED": 1, "FILE_SIZE": sizes["in/bad.csv.gz"],
         "FIRST_ERROR_MESSAGE": "Numeric value 'x' is not recognized", "FIRST_ERROR_LINE_NUMBER": 2,
         "FIRST_ERROR_CHARACTER_POS": 1, "FIRST_ERROR_COLUMN_NAME": '"ORDERS"["ID":1]', "ERROR_COUNT": 1,
         "ERROR_LIMIT": 2, "STATUS": "Load failed", **common},
        {"FILE_NAME": "in/good.csv.gz", "ROW_COUNT": 1, "ROW_PARSED": 1, "FILE_SIZE": sizes["in/good.csv.gz"],
         "FIRST_ERROR_MESSAGE": None, "FIRST_ERROR_LINE_NUMBER": None, "FIRST_ERROR_CHARACTER_POS": None,
         "FIRST_ERROR_COLUMN_NAME": None, "ERROR_COUNT": 0, "ERROR_LIMIT": 2, "STATUS": "Loaded", **common},
        {"FILE_NAME": "in/orders.csv.gz", "ROW_COUNT": 0, "ROW_PARSED": 4, "FILE_SIZE": sizes["in/orders.csv.gz"],
         "FIRST_ERROR_MESSAGE": QTY_ERROR["ERROR"], "FIRST_ERROR_LINE_NUMBER": 3, "FIRST_ERROR_CHARACTER_POS": 3,
         "FIRST_ERROR_COLUMN_NAME": QTY_ERROR["COLUMN_NAME"], "ERROR_COUNT": 2, "ERROR_LIMIT": 2,
         "STATUS": "Load failed", **common},
    ]  # fmt: skip


class WindowCase(NamedTuple):
    arguments: str
    files: list[str]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(WindowCase("TABLE_NAME => 'T', START_TIME => DATEADD('hour', -1, CURRENT_TIMESTAMP())",
                                ["day=1/a.csv.gz"]), id="unqualified-table"),
        pytest.param(WindowCase("TABLE_NAME => '{db}.RAW.T', START_TIME => DATEADD(HOURS, 1, CURRENT_TIMESTAMP())",
                                []), id="start-after-load"),
        pytest.param(WindowCase("TABLE_NAME => 'raw.t', START_TIME => DATEADD(DAYS, -1, CURRENT_TIMESTAMP()), "
                                "END_TIME => DATEADD(DAYS, -1, CURRENT_TIMESTAMP())", []), id="end-before-load"),
    ],
)  # fmt: skip
def test_copy_history_window_and_names(cur: Cursor, database: str, tmp_path: Path, case: WindowCase) -> None:
    """TABLE_NAME may be T, SCHEMA.T or DB.SCHEMA.T (unquoted names are case-insensitive); only loads between
    START_TIME and END_TIME (default now) are returned. A named stage's file is relative to the stage."""
    cur.execute("CREATE TABLE T (A VARCHAR)")
    cur.execute("CREATE STAGE LANDING")
    put(cur, tmp_path, "a.csv", "x\n", "@LANDING/day=1/")
    cur.execute("COPY INTO T FROM @LANDING")
    cur.execute(
        f"SELECT FILE_NAME, STAGE_LOCATION FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY("
        f"{case.arguments.format(db=database)}))"
    )
    assert cur.fetchall() == [{"FILE_NAME": f, "STAGE_LOCATION": f"@{database}.RAW.LANDING/"} for f in case.files]


def test_copy_history_omits_failed_copy_statements(cur: Cursor, database: str, tmp_path: Path) -> None:
    """Only COPY statements that ran to completion appear: an ON_ERROR = ABORT_STATEMENT failure doesn't, a later
    successful load of the same file does."""
    cur.execute(ORDERS_TABLE)
    put(cur, tmp_path, "orders.csv", ORDERS, "@%ORDERS")
    with pytest.raises(ProgrammingError):
        cur.execute(f"COPY INTO ORDERS FROM @%ORDERS {ORDERS_FORMAT}")
    query = (
        "SELECT FILE_NAME, STATUS, ROW_COUNT FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'ORDERS', "
        "START_TIME => DATEADD(HOURS, -1, CURRENT_TIMESTAMP())))"
    )
    cur.execute(query)
    assert cur.fetchall() == []
    cur.execute(f"COPY INTO ORDERS FROM @%ORDERS {ORDERS_FORMAT} ON_ERROR = CONTINUE")
    cur.execute(query)
    assert cur.fetchall() == [{"FILE_NAME": "orders.csv.gz", "STATUS": "Partially loaded", "ROW_COUNT": 2}]


def test_copy_history_of_unknown_table_fails(cur: Cursor) -> None:
    """COPY_HISTORY of a table that doesn't exist fails with Snowflake's 'does not exist or not authorized'."""
    with pytest.raises(ProgrammingError) as info:
        cur.execute(
            "SELECT * FROM TABLE(INFORMATION_SCHEMA.COPY_HISTORY(TABLE_NAME => 'NOPE', "
            "START_TIME => DATEADD(HOURS, -1, CURRENT_TIMESTAMP())))"
        )
    assert info.value.errno == 2003


# --- LAST_QUERY_ID ------------------------------------------------------------------------------------------------


def test_last_query_id(cur: Cursor) -> None:
    """LAST_QUERY_ID() / LAST_QUERY_ID(-1) is the previous statement's query id in the session, -2 the one before,
    a positive n the n-th statement of the session; RESULT_SCAN(LAST_QUERY_ID()) reads the previous result."""
    cur.execute("SELECT 1 AS X")
    first = cur.sfqid
    cur.execute("SELECT 2 AS X")
    second = cur.sfqid
    cur.execute("SELECT LAST_QUERY_ID() AS A, LAST_QUERY_ID(-1) AS B, LAST_QUERY_ID(-2) AS C, LAST_QUERY_ID(1) AS D")
    assert cur.fetchone() == {"A": second, "B": second, "C": first, "D": first}
    cur.execute("SELECT 3 AS X")
    cur.execute("SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))")
    assert cur.fetchall() == [{"X": 3}]


def test_last_query_id_is_per_session(twin_kwargs: dict, cur: Cursor, database: str) -> None:
    """Each session has its own statement history: a new session's LAST_QUERY_ID() is NULL."""
    cur.execute("SELECT 1 AS X")
    with snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW") as other:
        with other.cursor(snowflake.connector.DictCursor) as c2:
            c2.execute("SELECT LAST_QUERY_ID() AS Q")
            assert c2.fetchone() == {"Q": None}
            c2.execute("SELECT LAST_QUERY_ID() AS Q")
            assert c2.fetchone()["Q"] not in (None, cur.sfqid)

