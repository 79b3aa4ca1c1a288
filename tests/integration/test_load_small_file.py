"""load_small_file as a real Airflow run (dag.test) against the twin: rows, audit, stage, re-runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import query

pytestmark = pytest.mark.integration


def test_seed_file_loads_exactly_1000_rows_once(run_dag, sf, database, seed_csv):
    """The seed CSV loads 1,000 typed rows with lineage, one LOADED audit row, and an emptied stage."""
    dr, states = run_dag("load_small_file", file_path=str(seed_csv))
    assert dr.state == "success", states
    assert states == {"check_file": "success", "put_and_copy": "success"}

    assert query(sf, f"select count(*), count(distinct INVOICE_ID) from {database}.RAW.SALES_RAW") == [(1000, 1000)]
    first = query(
        sf,
        f"select INVOICE_ID, SALE_DATE, SALE_TIME, TOTAL, _ROW, _LOAD_PATH, _FILE, _BATCH_ID "
        f"from {database}.RAW.SALES_RAW where INVOICE_ID = '750-67-8428'",
    )
    invoice, sale_date, sale_time, total, row, load_path, file_, batch = first[0]
    assert (str(sale_date), str(sale_time)[:5], float(total), row, load_path) == (
        "2019-01-05", "13:08", 548.9715, 1, "small_file",
    )
    assert file_.endswith("supermarket_sales.csv.gz") and batch.startswith("small_file_")

    audit = query(
        sf, f"select STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, FILE_NAME, AIRFLOW_RUN_ID "
        f"from {database}.AUDIT.LOAD_AUDIT",
    )
    assert audit == [("LOADED", 1000, 1000, 0, "supermarket_sales.csv", dr.run_id)]
    # the web UI loader removes the staged file after a successful COPY
    assert query(sf, f"list @{database}.RAW.%SALES_RAW_INTAKE") == []

    # a second run with the same file loads nothing and is skipped
    dr2, states2 = run_dag("load_small_file", file_path=str(seed_csv))
    assert dr2.state == "success"
    assert states2["put_and_copy"] == "skipped"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(1000,)]
    assert query(sf, f"select count(*) from {database}.AUDIT.LOAD_AUDIT") == [(1,)]


def test_same_file_under_another_name_is_not_loaded_twice(run_dag, sf, database, seed_csv, tmp_path):
    """Idempotency is by content: a renamed copy of a loaded file adds no rows."""
    assert run_dag("load_small_file", file_path=str(seed_csv))[0].state == "success"
    copy = tmp_path / "renamed.csv"
    shutil.copy(seed_csv, copy)
    dr, states = run_dag("load_small_file", file_path=str(copy))
    assert states["put_and_copy"] == "skipped"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(1000,)]


def _seed_with(tmp_path: Path, seed_csv: Path, line_no: int, old: str, new: str, name: str = "bad.csv") -> Path:
    lines = seed_csv.read_text().splitlines(keepends=True)
    assert old in lines[line_no - 1]
    lines[line_no - 1] = lines[line_no - 1].replace(old, new, 1)
    out = tmp_path / name
    out.write_text("".join(lines))
    return out


def test_malformed_value_aborts_copy_and_audits_file_line_column(run_dag, sf, database, seed_csv, tmp_path):
    """ON_ERROR=ABORT_STATEMENT: nothing loads; LOAD_AUDIT says FAILED at the file, line and column."""
    # line 4 = the third data row; Quantity is the 8th field
    bad = _seed_with(tmp_path, seed_csv, 4, ",7,16.2155,", ",seven,16.2155,")
    dr, states = run_dag("load_small_file", file_path=str(bad))
    assert dr.state == "failed"
    assert states["put_and_copy"] == "failed"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(0,)]
    (row,) = query(
        sf, f"select STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, FIRST_ERROR, FIRST_ERROR_LINE, "
        f"FIRST_ERROR_COLUMN from {database}.AUDIT.LOAD_AUDIT",
    )
    status, parsed, loaded, rejected, error, line, column = row
    assert (status, parsed, loaded, rejected, line, column) == ("FAILED", 1000, 0, 1000, 4, "QUANTITY")
    assert "seven" in error
    # every error of the file is listed, not only the first
    assert query(sf, f"select LINE, COLUMN_NAME, REJECTED_RECORD like '%seven%' from {database}.RAW.SALES_REJECTED"
                 ) == [(4, "QUANTITY", True)]


@pytest.mark.parametrize(
    ("on_error", "run_state", "audit"),
    [
        pytest.param("CONTINUE", "success", ("PARTIALLY_LOADED", 1000, 999, 1, 4, "QUANTITY"), id="continue"),
        pytest.param("SKIP_FILE", "failed", ("FAILED", 1000, 0, 1000, 4, "QUANTITY"), id="skip-file"),
    ],
)
def test_on_error_param(run_dag, sf, database, seed_csv, tmp_path, on_error, run_state, audit):
    """The ON_ERROR param: CONTINUE loads the good rows and counts the bad one; SKIP_FILE loads nothing."""
    bad = _seed_with(tmp_path, seed_csv, 4, ",7,16.2155,", ",seven,16.2155,")
    for _ in range(2):  # the re-run changes nothing
        dr, _ = run_dag("load_small_file", file_path=str(bad), on_error=on_error)
        assert dr.state == run_state
        assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(audit[2],)]
        assert query(
            sf, f"select STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, FIRST_ERROR_LINE, FIRST_ERROR_COLUMN "
            f"from {database}.AUDIT.LOAD_AUDIT",
        ) == [audit]
        assert query(sf, f"select LINE, COLUMN_NAME from {database}.RAW.SALES_REJECTED") == [(4, "QUANTITY")]


def test_missing_file_fails_before_the_warehouse(dagbag, twin, sf, bare_database, tmp_path):
    """A path that is not there: check_file fails before the warehouse is reached (the database was never set up,
    and no error about it comes first)."""
    from tests.integration.conftest import dag_test

    database = bare_database
    dr = dag_test(dagbag.get_dag("load_small_file"), {"file_path": str(tmp_path / "missing.csv")})
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert dr.state == "failed"
    assert states == {"check_file": "failed", "put_and_copy": "upstream_failed"}
    assert database not in {row[1] for row in query(sf, "show databases")}


REFUSED = [
    pytest.param(
        lambda tmp, seed: (tmp / "hdr.csv").write_text(seed.read_text().replace("Invoice ID,", "Invoice,", 1))
        and tmp / "hdr.csv",
        "header does not match", 1, id="header-mismatch",
    ),
    pytest.param(
        lambda tmp, seed: (tmp / "latin1.csv").write_bytes(seed.read_bytes().replace(b"Yangon", b"Yang\xf3n", 1))
        and tmp / "latin1.csv",
        "line 2, column", 2, id="latin-1",
    ),
]


@pytest.mark.parametrize(("make", "message", "line"), REFUSED)
def test_bad_files_are_refused_before_any_put_and_put_on_record(run_dag, sf, database, seed_csv, tmp_path, make,
                                                                message, line):
    # the messages themselves are pinned by tests/unit/test_checks.py
    """Wrong header, non-UTF-8: the run fails in check_file, no row loads, LOAD_AUDIT says REFUSED with the line;
    a re-run adds no second record."""
    path = make(tmp_path, seed_csv)
    for _ in range(2):
        dr, states = run_dag("load_small_file", file_path=str(path))
        assert dr.state == "failed"
        assert states == {"check_file": "failed", "put_and_copy": "upstream_failed"}
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(0,)]
    ((status, parsed, rejected, error, err_line),) = query(
        sf, f"select STATUS, ROWS_PARSED, ROWS_REJECTED, FIRST_ERROR, FIRST_ERROR_LINE from {database}.AUDIT.LOAD_AUDIT")
    # the refused file's rows were counted: each one parsed and rejected, none loaded
    assert (status, parsed, rejected, err_line) == ("REFUSED", 1000, 1000, line) and message in error
