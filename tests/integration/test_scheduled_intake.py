"""load_bulk_stage's scheduled intake as real Airflow runs against the twin: the landing's new files, each once.

The runs are scheduled-style: no `path`, so the task takes the landing (SNOWSEG_BULK_LANDING) as a scheduled run
does (``dag.test()`` always makes a manual run; an empty `path` takes the same branch). Outcomes are read from the
tables: SALES_RAW, AUDIT.LOAD_AUDIT and AUDIT.LANDING_INTAKE.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration

AN_HOUR_AGO = time.time() - 3600


def _landed(path: Path, rows: int, seed: int, *, at: float = AN_HOUR_AGO) -> Path:
    """A sales file in the landing, last modified at `at` (past the settle time unless told)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_sales_csv(path, rows, seed=seed)
    os.utime(path, (at, at))
    return path


def test_scheduled_intake_takes_each_new_file_once(run_dag, sf, database, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    monkeypatch.setenv("SNOWSEG_BULK_LANDING", str(landing))
    monkeypatch.setenv("SNOWSEG_BULK_SETTLE_SECONDS", "600")
    a = _landed(landing / "a.csv", 300, seed=1)
    _landed(landing / "2026" / "12" / "b.csv", 200, seed=2)
    for name in (".c.csv", "d.csv.tmp", "e.csv._COPYING_", "_temporary/f.csv"):  # being written or hidden
        _landed(landing / name, 50, seed=9)
    raw, audit = f"{database}.RAW.SALES_RAW", f"{database}.AUDIT"

    def state() -> tuple[list[tuple], list[tuple], list[tuple]]:
        return (query(sf, f"select count(*) from {raw}"),
                query(sf, f"select FILE_NAME, STATUS, ROWS_LOADED from {audit}.LOAD_AUDIT order by FINISHED_AT"),
                query(sf, f"select FILE_URL, STATUS from {audit}.LANDING_INTAKE order by TAKEN_AT"))

    url = f"file://{landing.resolve()}"
    # 1. two new files: both load, oldest first; the temp and dot files are left alone
    dr, states = run_dag("load_bulk_stage", path="", chunk_mb=0.02)
    assert dr.state == "success", states
    rows, audited, taken = state()
    assert rows == [(500,)]
    assert sorted(audited) == [("a.csv", "LOADED", 300), ("b.csv", "LOADED", 200)]
    assert sorted(taken) == [(f"{url}/2026/12/b.csv", "LOADED"), (f"{url}/a.csv", "LOADED")]

    # 2. Airflow forgets the DAG's runs, task instances and XComs (as after a metadata reset); the warehouse's record
    #    decides: nothing new, so the run ends skipped, nothing is read (no new LANDING_INTAKE row), no row added
    from airflow.api.common.delete_dag import delete_dag

    assert delete_dag("load_bulk_stage", keep_records_in_log=False) > 0
    dr, states = run_dag("load_bulk_stage", path="")
    assert states["split_put_copy"] == "skipped"
    assert state() == (rows, audited, taken)

    # 3. a third file is the only one loaded; a file younger than the settle time waits for the next run
    _landed(landing / "g.csv", 100, seed=3)
    _landed(landing / "young.csv", 40, seed=4, at=time.time())
    dr, states = run_dag("load_bulk_stage", path="")
    assert dr.state == "success", states
    rows, audited, taken = state()
    assert rows == [(600,)]
    assert audited[2:] == [("g.csv", "LOADED", 100)]
    assert taken[2:] == [(f"{url}/g.csv", "LOADED")]

    # 4. a file rewritten in place with other content is new: its rows load as a new batch (the first version's
    #    rows stay); a file only touched (same bytes, new mtime) is read and skipped by its content (LOAD_AUDIT)
    _landed(a, 250, seed=5, at=AN_HOUR_AGO + 60)
    b = landing / "2026" / "12" / "b.csv"
    os.utime(b, (AN_HOUR_AGO + 60, AN_HOUR_AGO + 60))
    dr, states = run_dag("load_bulk_stage", path="")
    assert dr.state == "success", states
    rows, audited, taken = state()
    assert rows == [(850,)]
    assert audited[3:] == [("a.csv", "LOADED", 250)]  # the touched b.csv adds no LOAD_AUDIT row
    assert sorted(taken[3:]) == [(f"{url}/2026/12/b.csv", "SKIPPED"), (f"{url}/a.csv", "LOADED")]
    assert query(sf, f"select count(distinct _BATCH_ID) from {raw} where _FILE like '%a.part-%'") == [(2,)]

    # 5. a run with only already-loaded content (b.csv copied under a new name) ends skipped and is put on record
    (landing / "b_copy.csv").write_bytes(b.read_bytes())
    os.utime(landing / "b_copy.csv", (AN_HOUR_AGO, AN_HOUR_AGO))
    dr, states = run_dag("load_bulk_stage", path="")
    assert states["split_put_copy"] == "skipped"
    assert state()[0] == rows
    assert state()[2][-1] == (f"{url}/b_copy.csv", "SKIPPED")
    assert query(sf, f"select count(*) from {audit}.LANDING_INTAKE where FILE_URL like '%young.csv'") == [(0,)]


def test_a_refused_landing_file_fails_the_run_once(run_dag, sf, database, tmp_path, monkeypatch):
    """A file the checks refuse fails the run (the others load); it is on record as REFUSED, so the next run does
    not take it again until it changes."""
    landing = tmp_path / "landing"
    monkeypatch.setenv("SNOWSEG_BULK_LANDING", str(landing))
    monkeypatch.setenv("SNOWSEG_BULK_SETTLE_SECONDS", "0")
    _landed(landing / "good.csv", 120, seed=1)
    bad = landing / "bad.csv"
    bad.write_text("not,the,contract\n1,2,3\n")
    os.utime(bad, (AN_HOUR_AGO, AN_HOUR_AGO))

    dr, states = run_dag("load_bulk_stage", path="")
    assert dr.state == "failed" and states["split_put_copy"] == "failed"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(120,)]
    assert sorted(query(sf, f"select FILE_URL, STATUS from {database}.AUDIT.LANDING_INTAKE")) == [
        (f"file://{landing.resolve()}/bad.csv", "REFUSED"), (f"file://{landing.resolve()}/good.csv", "LOADED")]

    dr, states = run_dag("load_bulk_stage", path="")
    assert states["split_put_copy"] == "skipped"


def test_scheduled_intake_from_an_s3_landing(run_dag, sf, database, twin, tmp_path, monkeypatch):
    """An s3:// landing (a prefix under an object root of SNOWSEG_INPUT_ROOTS, on the twin's S3) listed through
    ObjectStoragePath: the new objects load once, audited under their URL; nothing new ends skipped; an object
    uploaded again with other content is new; `.tmp` and dot objects are left alone."""
    import uuid

    import boto3

    client = boto3.client("s3", endpoint_url=twin.s3_endpoint, region_name="us-east-1")
    bucket = f"snowseg-land-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", f"{os.environ['SNOWSEG_INPUT_ROOTS']}{os.pathsep}s3://{bucket}/in/")
    monkeypatch.setenv("SNOWSEG_BULK_LANDING", f"s3://{bucket}/in/landing")
    monkeypatch.setenv("SNOWSEG_BULK_SETTLE_SECONDS", "0")

    def upload(key: str, rows: int, seed: int) -> str:
        client.upload_file(str(write_sales_csv(tmp_path / f"{seed}.csv", rows, seed=seed)), bucket, key)
        return f"s3://{bucket}/{key}"

    a, b = upload("in/landing/a.csv", 120, 41), upload("in/landing/2026/b.csv", 80, 42)
    upload("in/landing/c.csv.tmp", 10, 43)
    upload("in/landing/.d.csv", 10, 44)
    audit = f"{database}.AUDIT"

    dr, states = run_dag("load_bulk_stage", path="", chunk_mb=0.02)
    assert dr.state == "success", states
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(200,)]
    assert query(sf, f"select FILE_PATH, STATUS from {audit}.LOAD_AUDIT order by FILE_PATH") == [
        (b, "LOADED"), (a, "LOADED")]
    assert query(sf, f"select FILE_URL, STATUS from {audit}.LANDING_INTAKE order by FILE_URL") == [
        (b, "LOADED"), (a, "LOADED")]

    dr, states = run_dag("load_bulk_stage", path="")
    assert states["split_put_copy"] == "skipped"
    assert query(sf, f"select count(*) from {audit}.LANDING_INTAKE") == [(2,)]

    upload("in/landing/a.csv", 60, 45)  # the same key, other content (and size)
    dr, states = run_dag("load_bulk_stage", path="")
    assert dr.state == "success", states
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(260,)]
    assert query(sf, f"select FILE_URL, STATUS from {audit}.LANDING_INTAKE order by TAKEN_AT desc limit 1") == [
        (a, "LOADED")]
