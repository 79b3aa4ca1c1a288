"""load_bulk_stage as a real Airflow run against the twin: chunks, parallel PUT, FILES, rejected rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration


def _with_bad_values(path: Path, edits: dict[int, tuple[int, str]]) -> Path:
    """Replace field `col` (0-based) of physical line `line` (1-based) with a bad value."""
    lines = path.read_text().splitlines(keepends=True)
    for line, (col, value) in edits.items():
        fields = lines[line - 1].split(",")
        fields[col] = value
        lines[line - 1] = ",".join(fields)
    path.write_text("".join(lines))
    return path


def test_bulk_load_keeps_every_row_once_and_locates_rejects(run_dag, sf, database, tmp_path):
    """3,000 rows in several chunks: 2,998 load, 2 go to SALES_REJECTED with their source line; re-run adds nothing."""
    src = _with_bad_values(write_sales_csv(tmp_path / "sales.csv", 3000, seed=5), {101: (7, "x7"), 2501: (6, "abc")})
    dr, states = run_dag("load_bulk_stage", path=str(src), chunk_mb=0.03, parallel=4)
    assert dr.state == "success", states

    r = f"{database}.RAW"
    assert query(sf, f"select count(*), count(distinct INVOICE_ID) from {r}.SALES_RAW") == [(2998, 2998)]
    assert query(sf, f"select count(distinct _FILE) > 1, min(_LOAD_PATH) from {r}.SALES_RAW") == [(True, "bulk_stage")]
    rejected = query(sf, f"select FILE_NAME, LINE, COLUMN_NAME, ERROR from {r}.SALES_REJECTED order by LINE")
    assert rejected == [
        ("sales.csv", 101, "QUANTITY", "Numeric value 'x7' is not recognized"),
        ("sales.csv", 2501, "UNIT_PRICE", "Numeric value 'abc' is not recognized"),
    ]
    assert query(
        sf, f"select STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, FIRST_ERROR_LINE, LOAD_PATH "
        f"from {database}.AUDIT.LOAD_AUDIT",
    ) == [("PARTIALLY_LOADED", 3000, 2998, 2, 101, "bulk_stage")]
    assert query(sf, f"list @{r}.SNOWSEG_BULK") == []  # purged

    dr2, states2 = run_dag("load_bulk_stage", path=str(src), chunk_mb=0.03)
    assert states2["split_put_copy"] == "skipped"
    assert query(sf, f"select count(*) from {r}.SALES_RAW") == [(2998,)]
    assert query(sf, f"select count(*) from {r}.SALES_REJECTED") == [(2,)]


def test_blank_lines_and_backslashes_load_as_the_checks_read_them(run_dag, sf, database, tmp_path):
    """The file checks skip blank lines and read a backslash as data; so does the contract's format (migration
    dataset/V003: SKIP_BLANK_LINES = TRUE, ESCAPE_UNENCLOSED_FIELD = NONE, where Snowflake's defaults would make a
    blank line an error and a backslash an escape). A rejected row after blank lines is reported on its line of the
    source (the splitter keeps blank lines inside a chunk)."""
    src = write_sales_csv(tmp_path / "sales.csv", 600, seed=7)
    lines = src.read_text().splitlines()
    city = lines[10].split(",")
    city[2] = "Yan\\gon\\"  # a backslash inside and at the end of an unenclosed value
    lines[10] = ",".join(city)
    fields = lines[450].split(",")
    fields[7] = "x7"  # QUANTITY
    lines[450] = ",".join(fields)
    for at in (400, 300, 200, 5):  # blank lines before the bad record
        lines[at:at] = [""]
    src.write_text("\n".join(lines) + "\n")
    bad_line = lines.index(",".join(fields)) + 1

    dr, states = run_dag("load_bulk_stage", path=str(src), chunk_mb=0.02, parallel=2)
    assert dr.state == "success", states
    r = f"{database}.RAW"
    assert query(sf, f"select FILE_NAME, LINE, COLUMN_NAME from {r}.SALES_REJECTED") == [("sales.csv", bad_line,
                                                                                          "QUANTITY")]
    assert query(sf, f"select STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED from {database}.AUDIT.LOAD_AUDIT") == [
        ("PARTIALLY_LOADED", 600, 599, 1)]
    assert query(sf, f"select CITY from {r}.SALES_RAW where INVOICE_ID = %s", (city[0],)) == [("Yan\\gon\\",)]


def test_bulk_load_of_a_folder_audits_each_file(run_dag, sf, database, tmp_path):
    """A folder of two clean files: two LOADED audit rows, every row once."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_sales_csv(folder / "a.csv", 800, seed=1)
    write_sales_csv(folder / "b.csv", 700, seed=2)
    dr, _ = run_dag("load_bulk_stage", path=str(folder), chunk_mb=0.05)
    assert dr.state == "success"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(1500,)]
    assert query(
        sf, f"select FILE_NAME, STATUS, ROWS_LOADED from {database}.AUDIT.LOAD_AUDIT order by FILE_NAME"
    ) == [("a.csv", "LOADED", 800), ("b.csv", "LOADED", 700)]


def test_schema_drift_is_refused_before_any_put(run_dag, sf, database, tmp_path):
    """An extra column is a clear error before any PUT, not a silent shift of columns; LOAD_AUDIT says REFUSED."""
    src = write_sales_csv(tmp_path / "drift.csv", 50, seed=1)
    lines = src.read_text().splitlines()
    src.write_text("\n".join([lines[0] + ",Loyalty"] + [ln + ",1" for ln in lines[1:]]) + "\n")
    dr, states = run_dag("load_bulk_stage", path=str(src))
    assert dr.state == "failed"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(0,)]
    ((status, error),) = query(sf, f"select STATUS, FIRST_ERROR from {database}.AUDIT.LOAD_AUDIT")
    assert status == "REFUSED" and "1 column(s) not in the contract at position(s) 18" in error
    assert "Loyalty" not in error  # the header's own text never reaches a message
