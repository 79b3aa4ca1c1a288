"""The strict twin: statement forms Snowflake refuses are refused, and results are what Snowflake returns.

Each test quotes the documented rule it follows. Where the docs give no error text, the twin's text says
what is wrong; the errno is the twin's pick (these are compilation errors, 001008 / 22023, unless noted).

- PUT's ``file://`` path is taken literally (the connector globs it): https://docs.snowflake.com/en/sql-reference/sql/put
- COPY: https://docs.snowflake.com/en/sql-reference/sql/copy-into-table
- table stages: https://docs.snowflake.com/en/user-guide/data-load-local-file-system-create-stage
- ALTER FILE FORMAT: https://docs.snowflake.com/en/sql-reference/sql/alter-file-format
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from snowflake.connector import ProgrammingError

from tests.twin.test_copy_conformance import HEADER, ROWS, SALES_COLUMNS, Cursor, csv_text, put

ZERO_FILES = [{"status": "Copy executed with 0 files processed."}]
BY_NAME = ("CREATE FILE FORMAT {db}.RAW.BY_NAME TYPE = CSV PARSE_HEADER = TRUE FIELD_OPTIONALLY_ENCLOSED_BY = '\"' "
           "DATE_FORMAT = 'MM/DD/YYYY' TIME_FORMAT = 'HH24:MI' ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE")
HEADER_COLUMNS = ", ".join(f'"{h}" {t.split(" ", 1)[1]}' for h, t in
                           zip(HEADER.split(","), SALES_COLUMNS.split(", "), strict=True))


def _intake(cur: Cursor, database: str) -> None:
    cur.execute(BY_NAME.format(db=database))
    cur.execute(f"CREATE TRANSIENT TABLE {database}.RAW.INTAKE ({HEADER_COLUMNS}, _FILE VARCHAR, _ROW NUMBER(18, 0))")


def test_put_path_is_taken_literally(cur: Cursor, tmp_path: Path) -> None:
    """PUT's source is a path the connector globs, not a URL: "You can use wildcard characters (*, ?) to upload
    multiple files. If the directory path or filename includes special characters or spaces, enclose the entire
    file URI in single quotes." A percent-encoded path (``Path.as_uri()``) names no file; the literal one does."""
    folder = tmp_path / "in put"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text("x\n")
    cur.execute("CREATE STAGE S")
    with pytest.raises(Exception, match="File doesn't exist"):
        cur.execute(f"PUT '{(folder / '*.csv').as_uri()}' @S")  # file:///.../in%20put/%2A.csv
    cur.execute(f"PUT 'file://{folder}/*.csv' @S")
    assert sorted(r["source"] for r in cur.fetchall()) == ["a.csv", "b.csv"]


def test_a_rerun_leaves_loaded_files_out_of_the_result(cur: Cursor, tmp_path: Path) -> None:
    """Files that the table's load metadata knows are skipped and do not appear in COPY's result; when no file is
    processed, the result is the single row 'Copy executed with 0 files processed.' A new file is listed alone."""
    cur.execute("CREATE TABLE T (A VARCHAR)")
    put(cur, tmp_path, "a.csv", "x\n", "@%T")
    cur.execute("COPY INTO T FROM @%T")
    assert [r["status"] for r in cur.fetchall()] == ["LOADED"]
    cur.execute("COPY INTO T FROM @%T")
    assert cur.fetchall() == ZERO_FILES
    put(cur, tmp_path, "b.csv", "y\n", "@%T")
    cur.execute("COPY INTO T FROM @%T")
    assert [(r["file"], r["status"]) for r in cur.fetchall()] == [("b.csv.gz", "LOADED")]


class Refused(NamedTuple):
    statement: str
    text: str


REFUSED = [
    pytest.param(Refused("COPY INTO T FROM (SELECT $1 FROM @%T)", "does not support transforming data"),
                 id="transformation-from-table-stage"),  # "Table stages do not support transforming data while
    # loading it (i.e. using a query as the source for the COPY command)."
    pytest.param(Refused("COPY INTO T (A) FROM @%T VALIDATION_MODE = RETURN_ERRORS", "invalid parameter "
                         "'validation_mode'"), id="validation-mode-with-column-list"),  # the column list belongs to
    # the transformation form; "VALIDATION_MODE does not support COPY statements that transform data during a load"
    pytest.param(Refused("COPY INTO T FROM (SELECT $1 FROM @S) VALIDATION_MODE = RETURN_ERRORS",
                         "invalid parameter 'validation_mode'"), id="validation-mode-with-transformation"),
    pytest.param(Refused("COPY INTO T FROM @%T FILE_FORMAT = (FORMAT_NAME = 'BY_NAME') MATCH_BY_COLUMN_NAME = "
                         "CASE_SENSITIVE VALIDATION_MODE = RETURN_ERRORS", "can't be used with the VALIDATION_MODE"),
                 id="validation-mode-with-match-by-column-name"),  # "MATCH_BY_COLUMN_NAME can't be used with the
    # VALIDATION_MODE parameter in a COPY statement"
    pytest.param(Refused("COPY INTO T FROM (SELECT $1 FROM @S) FILE_FORMAT = (FORMAT_NAME = 'BY_NAME') "
                         "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE", "match_by_column_name is not supported with copy "
                         "transform."), id="match-by-column-name-with-transformation"),
    pytest.param(Refused("COPY INTO T FROM @%T INCLUDE_METADATA = (A = METADATA$FILENAME)",
                         "INCLUDE_METADATA can only be used with the MATCH_BY_COLUMN_NAME"),
                 id="include-metadata-alone"),  # "This copy option can only be used with the MATCH_BY_COLUMN_NAME
    # copy option."
    pytest.param(Refused("COPY INTO T FROM @%T FILE_FORMAT = (FORMAT_NAME = 'BY_NAME' "
                         "ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE) MATCH_BY_COLUMN_NAME = CASE_SENSITIVE "
                         "INCLUDE_METADATA = (A = METADATA$FILENAME)", "ERROR_ON_COLUMN_COUNT_MISMATCH to FALSE"),
                 id="include-metadata-with-column-count-check"),  # "When you load a CSV file with INCLUDE_METADATA,
    # set the file format option ERROR_ON_COLUMN_COUNT_MISMATCH to FALSE."
    pytest.param(Refused("COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV) MATCH_BY_COLUMN_NAME = CASE_SENSITIVE",
                         "needs the file format option PARSE_HEADER = TRUE"), id="match-by-name-without-header"),
    pytest.param(Refused("COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV PARSE_HEADER = TRUE SKIP_HEADER = 1) "
                         "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE", "cannot be combined with SKIP_HEADER"),
                 id="parse-header-and-skip-header"),
]


@pytest.mark.parametrize("case", REFUSED)
def test_refused_copy_forms(cur: Cursor, database: str, tmp_path: Path, case: Refused) -> None:
    cur.execute("CREATE TABLE T (A VARCHAR)")
    cur.execute("CREATE STAGE S")
    cur.execute(BY_NAME.format(db=database))
    put(cur, tmp_path, "a.csv", "A\nx\n", "@%T")
    put(cur, tmp_path, "a.csv", "A\nx\n", "@S")
    with pytest.raises(ProgrammingError, match="SQL compilation error") as info:
        cur.execute(case.statement)
    assert case.text in info.value.msg
    cur.execute("SELECT COUNT(*) AS N FROM T")
    assert cur.fetchall() == [{"N": 0}]


def test_standard_load_from_a_table_stage_by_column_name_with_metadata(cur: Cursor, database: str,
                                                                      tmp_path: Path) -> None:
    """MATCH_BY_COLUMN_NAME (CSV with PARSE_HEADER = TRUE): "The column represented in the data must have the exact
    same name as the column in the table ... Column order does not matter"; INCLUDE_METADATA fills the mapped columns
    ("the column column_name is populated with the specified metadata value"); columns that match nothing load
    NULL. METADATA$FILE_ROW_NUMBER counts records after the header."""
    _intake(cur, database)
    shuffled = ",".join(reversed(HEADER.split(",")))
    rows = [",".join(reversed(r.split(","))) for r in ROWS[:2]]
    put(cur, tmp_path, "sales.csv", shuffled + "\n" + "\n".join(rows) + "\n", "@%INTAKE/abc/")
    cur.execute("COPY INTO INTAKE FROM @%INTAKE/abc/ FILE_FORMAT = (FORMAT_NAME = 'BY_NAME') "
                "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE INCLUDE_METADATA = (_FILE = METADATA$FILENAME, "
                "_ROW = METADATA$FILE_ROW_NUMBER) ON_ERROR = ABORT_STATEMENT")
    assert [(r["file"], r["status"], r["rows_loaded"]) for r in cur.fetchall()] == [("abc/sales.csv.gz", "LOADED", 2)]
    cur.execute('SELECT "Invoice ID", "Quantity", "Date", _FILE, _ROW FROM INTAKE ORDER BY _ROW')
    got = [tuple(r.values()) for r in cur.fetchall()]
    assert [(g[0], int(g[1]), str(g[2]), g[3], g[4]) for g in got] == [
        ("750-67-8428", 7, "2019-01-05", "abc/sales.csv.gz", 1), ("226-31-3081", 5, "2019-03-08", "abc/sales.csv.gz", 2)]
    cur.execute("COPY INTO INTAKE FROM @%INTAKE/abc/ FILE_FORMAT = (FORMAT_NAME = 'BY_NAME') "
                "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE INCLUDE_METADATA = (_FILE = METADATA$FILENAME)")
    assert cur.fetchall() == ZERO_FILES


def test_by_column_name_bad_value_aborts_with_its_line(cur: Cursor, database: str, tmp_path: Path) -> None:
    """A value that does not convert aborts the load (ON_ERROR = ABORT_STATEMENT) and names the line, the header
    being line 1."""
    _intake(cur, database)
    bad = ROWS[1].replace(",5,3.82,", ",five,3.82,")
    put(cur, tmp_path, "sales.csv", csv_text(ROWS[0], bad), "@%INTAKE/abc/")
    with pytest.raises(ProgrammingError, match="Numeric value 'five' is not recognized") as info:
        cur.execute("COPY INTO INTAKE FROM @%INTAKE/abc/ FILE_FORMAT = (FORMAT_NAME = 'BY_NAME') "
                    "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE INCLUDE_METADATA = (_ROW = METADATA$FILE_ROW_NUMBER)")
    assert "line 3" in info.value.msg
    cur.execute("SELECT COUNT(*) AS N FROM INTAKE")
    assert cur.fetchall() == [{"N": 0}]


def test_alter_file_format_changes_options_in_place(cur: Cursor, database: str, tmp_path: Path) -> None:
    """ALTER FILE FORMAT ... SET changes the options of the existing format (its identity stays: a pipe using it
    keeps working); UNSET restores a default; a missing format is 002003 unless IF EXISTS."""
    cur.execute("CREATE FILE FORMAT F TYPE = CSV")
    cur.execute("ALTER FILE FORMAT F SET SKIP_HEADER = 1 FIELD_DELIMITER = ';'")
    cur.execute("CREATE TABLE T (A VARCHAR, B VARCHAR)")
    put(cur, tmp_path, "a.csv", "h1;h2\nx;y\n", "@%T")
    cur.execute("COPY INTO T FROM @%T FILE_FORMAT = (FORMAT_NAME = 'F')")
    cur.execute("SELECT A, B FROM T")
    assert cur.fetchall() == [{"A": "x", "B": "y"}]
    cur.execute("ALTER FILE FORMAT IF EXISTS NO_SUCH SET SKIP_HEADER = 1")
    with pytest.raises(ProgrammingError, match="File format .*NO_SUCH' does not exist or not authorized") as info:
        cur.execute("ALTER FILE FORMAT NO_SUCH SET SKIP_HEADER = 1")
    assert info.value.errno == 2003
    with pytest.raises(ProgrammingError, match="type of a file format cannot be changed"):
        cur.execute("ALTER FILE FORMAT F SET TYPE = JSON")


def test_session_timezone_defaults_to_los_angeles(twin_kwargs: dict, database: str) -> None:
    """TIMEZONE: "Default: America/Los_Angeles" (https://docs.snowflake.com/en/sql-reference/parameters#timezone).
    CURRENT_TIMESTAMP() cast to TIMESTAMP_NTZ keeps the session zone's wall-clock time; a session that asks for UTC
    at login (session_parameters) or with ALTER SESSION gets UTC."""
    import datetime

    import snowflake.connector

    def ntz_offset_hours(conn) -> float:  # noqa: ANN001
        with conn.cursor() as c:
            c.execute("SELECT CURRENT_TIMESTAMP()::TIMESTAMP_NTZ")
            (ntz,) = c.fetchone()
        return round((ntz - datetime.datetime.now(datetime.UTC).replace(tzinfo=None)).total_seconds() / 3600)

    la = datetime.datetime.now(__import__("zoneinfo").ZoneInfo("America/Los_Angeles")).utcoffset()
    # each response names the session's TIMEZONE, which the connector writes back into the session_parameters dict
    # it was given: a second connection with the same dict must still get the default (fakesnow said Etc/UTC)
    for _ in range(2):
        with snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW") as first:
            assert ntz_offset_hours(first) == la.total_seconds() / 3600
    with snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW") as default:
        assert ntz_offset_hours(default) == la.total_seconds() / 3600
        with default.cursor() as c:
            c.execute("ALTER SESSION SET TIMEZONE = 'UTC'")
        assert ntz_offset_hours(default) == 0
        with default.cursor() as c:
            c.execute("ALTER SESSION UNSET TIMEZONE")
        assert ntz_offset_hours(default) == la.total_seconds() / 3600
    params = {**twin_kwargs["session_parameters"], "TIMEZONE": "UTC"}
    with snowflake.connector.connect(**{**twin_kwargs, "session_parameters": params}, database=database,
                                     schema="RAW") as utc:
        assert ntz_offset_hours(utc) == 0


DDL_IN_A_TRANSACTION = [
    pytest.param("CREATE TABLE U (X NUMBER)", id="create-table"),
    pytest.param("-- a comment first\nCREATE OR REPLACE VIEW V AS SELECT * FROM T", id="create-view-after-comment"),
    pytest.param("ALTER TABLE T ADD COLUMN NOTE VARCHAR", id="alter-table"),
    pytest.param("DROP TABLE IF EXISTS NO_SUCH", id="drop-if-exists"),
    pytest.param("CREATE STAGE S", id="create-stage"),
    pytest.param("CREATE FILE FORMAT F TYPE = CSV", id="create-file-format"),
    pytest.param("ALTER FILE FORMAT G SET SKIP_HEADER = 1", id="alter-file-format"),
    pytest.param("SHOW TABLES", id="show"),
    pytest.param("DESCRIBE TABLE T", id="describe"),
    pytest.param("USE SCHEMA RAW", id="use"),
]


@pytest.mark.parametrize("ddl", DDL_IN_A_TRANSACTION)
def test_ddl_commits_the_open_transaction(cur: Cursor, ddl: str) -> None:
    """"Each DDL statement executes as a separate transaction. If a DDL statement is executed while a transaction is
    active, the DDL statement: 1. Implicitly commits the active transaction. 2. Executes the DDL statement as a
    separate transaction." "Because a DDL statement is its own transaction, you cannot roll back a DDL statement"
    (https://docs.snowflake.com/en/sql-reference/transactions#ddl). DDL is the DDL summary's commands: ALTER, COMMENT,
    CREATE, DESCRIBE, DROP, SHOW, USE (https://docs.snowflake.com/en/sql-reference/sql-ddl-summary; the twin reads
    the list literally). So BEGIN; INSERT; <DDL>; ROLLBACK keeps the insert; an INSERT after the DDL is outside the
    rolled-back transaction (AUTOCOMMIT commits it)."""
    cur.execute("CREATE TABLE T (A NUMBER)")
    cur.execute("CREATE FILE FORMAT G TYPE = CSV")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T (A) VALUES (1)")
    cur.execute(ddl)
    cur.execute("INSERT INTO T (A) VALUES (2)")
    cur.execute("ROLLBACK")
    cur.execute("SELECT A FROM T ORDER BY A")
    assert [r["A"] for r in cur.fetchall()] == [1, 2]


def test_without_ddl_rollback_takes_back_the_transaction(cur: Cursor) -> None:
    """The control: DML and queries inside BEGIN ... ROLLBACK leave nothing behind ("Explicit transactions should
    contain only DML statements and query statements", https://docs.snowflake.com/en/sql-reference/transactions)."""
    cur.execute("CREATE TABLE T (A NUMBER)")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO T (A) VALUES (1)")
    cur.execute("SELECT COUNT(*) AS N FROM T")
    cur.execute("UPDATE T SET A = 3")
    cur.execute("ROLLBACK")
    cur.execute("SELECT COUNT(*) AS N FROM T")
    assert cur.fetchall() == [{"N": 0}]


def test_ddl_commits_with_autocommit_off(twin_kwargs: dict, database: str) -> None:
    """With AUTOCOMMIT off a DML statement begins a transaction implicitly; a DDL statement still commits it."""
    import snowflake.connector

    with snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW") as conn:
        with conn.cursor() as c:
            c.execute("CREATE TABLE T (A NUMBER)")
        conn.autocommit(False)
        with conn.cursor() as c:
            c.execute("INSERT INTO T (A) VALUES (1)")
            c.execute("SHOW TABLES")
            c.execute("INSERT INTO T (A) VALUES (2)")
        conn.rollback()
        with conn.cursor() as c:
            c.execute("SELECT A FROM T ORDER BY A")
            assert [r[0] for r in c.fetchall()] == [1]
