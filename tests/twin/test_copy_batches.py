"""Conformance of the twin's COPY INTO <table> when a file spans several of the engine's batches.

The engine reads a staged file in batches of whole records (_csv_records.BATCH_BYTES, shrunk here to a
few hundred bytes) and inserts each batch as it goes: what COPY returns, loads and reports must not
depend on where the batches fall. Every test goes through the real snowflake.connector over HTTP.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest
import snowflake.connector
from snowflake.connector import ProgrammingError

from snowseg_twin.extensions import _csv_records
from tests.twin.test_copy_conformance import (
    HINT,
    PREFIX,
    ROWS,
    count,
    csv_text,
    message,
    pipeline_copy,
    put,
    result,
    setup_sales,
)

Cursor = snowflake.connector.cursor.DictCursor
BATCH_BYTES = 400  # about 2-3 seed records a batch


@pytest.fixture(autouse=True, params=[BATCH_BYTES, None], ids=["small-batches", "one-batch"])
def small_batches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs with batches of BATCH_BYTES and with the default (the whole file in one batch): same answers."""
    if request.param:
        monkeypatch.setattr(_csv_records, "BATCH_BYTES", request.param)


def seed_rows(n: int) -> list[str]:
    """n seed-shaped records with distinct invoice ids (ROWS cycled)."""
    return [f"{i:03d}-00-{i:04d}," + ROWS[i % len(ROWS)].split(",", 1)[1] for i in range(n)]


def bad(row: str, column: int, value: str) -> str:
    fields = row.split(",")
    fields[column - 1] = value
    return ",".join(fields)


def character(row: str, column: int) -> int:
    return len(",".join(row.split(",")[: column - 1])) + 2


def test_file_larger_than_a_batch_loads_every_row_once(cur: Cursor, database: str, tmp_path: Path) -> None:
    """A file of many batches loads each record once, in order of METADATA$FILE_ROW_NUMBER, with its values."""
    setup_sales(cur, database)
    rows = seed_rows(40)
    text = csv_text(*rows)
    assert len(text) > 10 * BATCH_BYTES
    put(cur, tmp_path, "sales.csv", text, f"@SALES_LOAD/{PREFIX}/")
    cur.execute(pipeline_copy(database))
    assert cur.fetchall() == [result(f"sales_load/{PREFIX}/sales.csv.gz", "LOADED", 40, 40)]
    cur.execute("SELECT _ROW, INVOICE_ID, UNIT_PRICE, SALE_DATE FROM SALES_RAW ORDER BY _ROW")
    loaded = cur.fetchall()
    assert [r["_ROW"] for r in loaded] == list(range(1, 41))
    assert [r["INVOICE_ID"] for r in loaded] == [r.split(",")[0] for r in rows]
    assert [r["UNIT_PRICE"] for r in loaded] == [Decimal(r.split(",")[6]) for r in rows]


class LastBatchCase(NamedTuple):
    on_error: str
    status: str
    loaded: int
    error_limit: int


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(LastBatchCase("CONTINUE", "PARTIALLY_LOADED", 29, 30), id="continue"),
        pytest.param(LastBatchCase("SKIP_FILE", "LOAD_FAILED", 0, 1), id="skip-file-undoes-earlier-batches"),
        pytest.param(LastBatchCase("'SKIP_FILE_3%'", "LOAD_FAILED", 0, 1), id="skip-file-percent"),
        pytest.param(LastBatchCase("'SKIP_FILE_10%'", "PARTIALLY_LOADED", 29, 3), id="skip-file-percent-under"),
    ],
)  # fmt: skip
def test_error_only_in_the_last_batch(cur: Cursor, database: str, tmp_path: Path, case: LastBatchCase) -> None:
    """A bad value in the file's last record, batches after the first: the file's status, counts and first error
    (line with the header counted, character, column) are as for a one-batch file, and SKIP_FILE takes back the
    rows of the batches already inserted."""
    setup_sales(cur, database)
    rows = seed_rows(30)
    rows[-1] = bad(rows[-1], 8, "lots")
    put(cur, tmp_path, "sales.csv", csv_text(*rows), f"@SALES_LOAD/{PREFIX}/")
    cur.execute(pipeline_copy(database, on_error=case.on_error))
    assert cur.fetchall() == [
        result(f"sales_load/{PREFIX}/sales.csv.gz", case.status, 30, case.loaded, case.error_limit, 1,
               "Numeric value 'lots' is not recognized", 31, character(rows[-1], 8), '"SALES_RAW"["QUANTITY":8]')
    ]  # fmt: skip
    assert count(cur) == case.loaded


@pytest.mark.parametrize("explicit_transaction", [False, True], ids=["autocommit", "in-transaction"])
def test_abort_on_a_later_batch_inserts_nothing(
    cur: Cursor, database: str, tmp_path: Path, explicit_transaction: bool
) -> None:
    """ON_ERROR = ABORT_STATEMENT with the bad record batches into the second of two files: the error names the
    record, and nothing of the statement stays in the table, whether the COPY ran on its own or inside the
    session's open transaction (which stays usable and keeps its earlier rows)."""
    setup_sales(cur, database)
    put(cur, tmp_path, "a_good.csv", csv_text(*seed_rows(12)), f"@SALES_LOAD/{PREFIX}/")
    rows = seed_rows(20)
    rows[15] = bad(rows[15], 7, "abc")
    put(cur, tmp_path, "b_bad.csv", csv_text(*rows), f"@SALES_LOAD/{PREFIX}/")
    if explicit_transaction:
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO SALES_RAW (INVOICE_ID) VALUES ('before')")
    with pytest.raises(ProgrammingError) as info:
        cur.execute(pipeline_copy(database))
    assert info.value.errno == 100038
    assert message(info.value) == (
        "Numeric value 'abc' is not recognized\n"
        f"  File '{PREFIX}/b_bad.csv.gz', line 17, character {character(rows[15], 7)}\n"
        '  Row 16, column "SALES_RAW"["UNIT_PRICE":7]\n'
        f"  {HINT}"
    )
    if explicit_transaction:
        cur.execute("SELECT INVOICE_ID FROM SALES_RAW")
        assert cur.fetchall() == [{"INVOICE_ID": "before"}]
        cur.execute("COMMIT")
        assert count(cur) == 1
    else:
        assert count(cur) == 0


def test_quoted_newlines_across_batch_boundaries(cur: Cursor, tmp_path: Path) -> None:
    """Enclosed fields with newlines, delimiters and doubled quotes, longer than a batch, stay whole; lines keep
    counting the newlines inside them, so a later bad record is reported on its physical line."""
    cur.execute("CREATE TABLE T (ID NUMBER, NOTE VARCHAR, N NUMBER)")
    cur.execute("CREATE STAGE S")  # a transformation cannot read a table stage
    note = 'line one, "quoted"\n' * 30  # ~600 bytes: more than a batch
    records = [f'{i},"{note.replace(chr(34), chr(34) * 2)}"' for i in range(1, 4)] + ["x4,plain", "5,last"]
    put(cur, tmp_path, "notes.csv", "id,note\n" + "\n".join(records) + "\n", "@S")
    cur.execute(
        "COPY INTO T FROM (SELECT $1, $2, METADATA$FILE_ROW_NUMBER FROM @S) "
        "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"') ON_ERROR = CONTINUE"
    )
    # header + 3 records of 31 lines each: record 4 starts on line 95
    assert cur.fetchall() == [
        result("s/notes.csv.gz", "PARTIALLY_LOADED", 5, 4, 5, 1, "Numeric value 'x4' is not recognized", 95, 1,
               '"T"["ID":1]')
    ]  # fmt: skip
    cur.execute("SELECT ID, NOTE, N FROM T ORDER BY N")
    assert [tuple(r.values()) for r in cur.fetchall()] == [
        (1, note, 1), (2, note, 2), (3, note, 3), (5, "last", 5)
    ]  # fmt: skip


def test_irregular_records_later_in_the_file(cur: Cursor, tmp_path: Path) -> None:
    """Short records, a literal quote inside an unenclosed field and a blank line, batches into the file, read as
    Python's csv module reads them (the engine's exact path): fields, NULL padding, rejected records and lines."""
    cur.execute("CREATE TABLE T (A VARCHAR, B VARCHAR, C NUMBER)")
    good = [f"a{i},b{i},{i}" for i in range(1, 31)]
    lines = [*good[:20], "short,1", 'x"y,z,21', "", *good[20:]]
    put(cur, tmp_path, "t.csv", "\n".join(lines) + "\n", "@%T")
    cur.execute(
        "COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"' "
        "ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE) ON_ERROR = CONTINUE"
    )
    assert cur.fetchall() == [result("t.csv.gz", "LOADED", 33, 33, 33)]
    cur.execute("SELECT * FROM T WHERE C IS NULL OR A = 'x\"y' ORDER BY A")
    assert [tuple(r.values()) for r in cur.fetchall()] == [
        ("short", "1", None), ('x"y', "z", 21), (None, None, None)
    ]  # fmt: skip
    assert count(cur, "T") == 33


def test_values_sql_cannot_vouch_for_still_load(cur: Cursor, tmp_path: Path) -> None:
    """Values the vectorised conversion leaves to the per-value converters (spaces around a number, NaN, a boolean
    with spaces, a Unicode digit) load as the converters say, batches into the file."""
    cur.execute("CREATE TABLE T (K NUMBER, Q NUMBER(6,0), F FLOAT, B BOOLEAN)")
    rows = [f"{i},{i},1.5,yes" for i in range(1, 40)] + [" 40 , 7 ,NaN, no ", "41,\uff18,-inf,0"]
    put(cur, tmp_path, "v.csv", "\n".join(rows) + "\n", "@%T")
    cur.execute("COPY INTO T FROM @%T")
    assert cur.fetchall() == [result("v.csv.gz", "LOADED", 41, 41)]
    cur.execute("SELECT K, Q, CAST(F AS VARCHAR) AS F, B FROM T WHERE K >= 40 ORDER BY K")
    assert [tuple(r.values()) for r in cur.fetchall()] == [(40, 7, "nan", False), (41, 8, "-inf", False)]
    assert count(cur, "T") == 41


def test_a_plain_batch_and_a_later_odd_one_are_judged_alike(cur: Cursor, tmp_path: Path) -> None:
    """The engine drops a number's syntax check (and a short text's length check) for a batch whose bytes show it
    cannot fail; a later batch with an underscore, an exponent followed by a point, or a text too long is still
    judged value by value, as Snowflake does: those records are rejected, the rest load."""
    cur.execute("CREATE TABLE T (K NUMBER, A NUMBER(6,2), S VARCHAR(3))")
    rows = [f"{i},{i}.5,ab" for i in range(1, 31)] + ["31,-.5,abc", "32,1_000,ab", "33,8e0.,ab", "34,+7,abcd", "35,1.,x"]
    put(cur, tmp_path, "p.csv", "\n".join(rows) + "\n", "@%T")
    cur.execute("COPY INTO T FROM @%T ON_ERROR = CONTINUE")
    (row,) = cur.fetchall()
    assert (row["status"], row["rows_parsed"], row["rows_loaded"], row["errors_seen"]) == ("PARTIALLY_LOADED", 35, 32, 3)
    assert row["first_error"] == "Numeric value '1_000' is not recognized"
    assert (row["first_error_line"], row["first_error_character"]) == (32, 4)
    cur.execute("SELECT K, A, S FROM T WHERE K > 30 ORDER BY K")
    assert [tuple(r.values()) for r in cur.fetchall()] == [
        (31, Decimal("-0.50"), "abc"), (35, Decimal("1.00"), "x"),
    ]  # fmt: skip
    assert count(cur, "T") == 32


@pytest.mark.parametrize("duck_type", ["DECIMAL(12,2)", "DECIMAL(6,0)", "DECIMAL(38,0)", "DECIMAL(4,1)", "BIGINT"])
def test_plain_number_bytes_leave_nothing_for_the_syntax_check(duck_type: str) -> None:
    """_values.PLAIN_NUMBER_BYTES: over digits, point and signs, DuckDB's cast (to DECIMAL, or through DECIMAL(38,0)
    to an integer, as fast_sql() casts) succeeds only on strings the number syntax accepts: every string of up to
    five such characters (digits 0 and 1 stand for all) is checked."""
    import itertools
    import re

    import duckdb

    from snowseg_twin.extensions._values import _NUMBER_RE2, PLAIN_NUMBER_BYTES

    assert PLAIN_NUMBER_BYTES == b"0123456789.+-"
    strings = ["".join(p) for n in range(1, 6) for p in itertools.product("01.+-", repeat=n)]
    cast = f"TRY_CAST(v AS {duck_type})" if duck_type.startswith("DECIMAL") else \
        f"TRY_CAST(TRY_CAST(v AS DECIMAL(38,0)) AS {duck_type})"
    con = duckdb.connect()
    con.execute("CREATE TABLE s (v VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?)", [[v] for v in strings])
    accepted = [v for (v,) in con.execute(f"SELECT v FROM s WHERE {cast} IS NOT NULL").fetchall()]
    assert len(accepted) > 100
    assert [v for v in accepted if not re.fullmatch(_NUMBER_RE2, v)] == []


def test_an_escape_later_in_the_file_reads_the_rest_exactly(cur: Cursor, tmp_path: Path) -> None:
    """A backslash (ESCAPE_UNENCLOSED_FIELD's default) batches into the file: the records before it load as usual, an
    escaped delimiter and an escaped newline after it are data, and a bad value after the escaped newline is reported
    on its physical line and character, with its row number counting records, not lines."""
    cur.execute("CREATE TABLE T (A VARCHAR, B NUMBER, N NUMBER)")
    cur.execute("CREATE STAGE S")
    good = [f"a{i},{i}" for i in range(1, 41)]
    lines = [*good[:30], "x\\,y,31", "two\\", "lines,32", "bad,x33", *good[30:]]
    put(cur, tmp_path, "e.csv", "\n".join(lines) + "\n", "@S")
    cur.execute("COPY INTO T FROM (SELECT $1, $2, METADATA$FILE_ROW_NUMBER FROM @S) ON_ERROR = CONTINUE")
    assert cur.fetchall() == [result("s/e.csv.gz", "PARTIALLY_LOADED", 43, 42, 43, 1,
                                     "Numeric value 'x33' is not recognized", 34, 5, '"T"["B":2]')]
    cur.execute("SELECT A, B, N FROM T WHERE N BETWEEN 30 AND 33 ORDER BY N")
    assert [tuple(r.values()) for r in cur.fetchall()] == [("a30", 30, 30), ("x,y", 31, 31), ("two\nlines", 32, 32)]
    cur.execute("SELECT COUNT(*) AS N, MAX(N) AS LAST FROM T")
    assert cur.fetchall() == [{"N": 42, "LAST": 43}]
