"""load_s3_snowpipe as a real Airflow run: S3 upload to moto, a pipe on the twin, a deferred wait, the audit."""

from __future__ import annotations

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query
from tests.integration.test_load_bulk_stage import _with_bad_values

pytestmark = pytest.mark.integration


@pytest.fixture()
def landing(database) -> str:
    """A landing prefix of this test's own (the setup's pipe reads it): other tests' pipes never see its files."""
    from tests.conftest import landing_url_for

    return landing_url_for(database)


@pytest.fixture()
def s3(twin):
    import boto3

    return boto3.client("s3", endpoint_url=twin.s3_endpoint, region_name="us-east-1")


def _keys(s3, landing: str) -> list[str]:
    bucket, prefix = landing.removeprefix("s3://").split("/", 1)
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


@pytest.mark.parametrize("notify", ["auto", "rest"])
def test_snowpipe_loads_each_row_once_and_reloads_skipped_file(run_dag, sf, database, tmp_path, landing, s3, notify):
    """Two files: a clean one the pipe loads, one with 2 bad values the pipe skips (SKIP_FILE). The skipped file's
    good rows are loaded afterwards and its 2 rejected rows are kept with line and column; a re-run adds nothing."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_sales_csv(folder / "good.csv", 400, seed=1)
    _with_bad_values(write_sales_csv(folder / "bad.csv", 300, seed=2), {11: (7, "x7"), 201: (6, "abc")})

    dr, states = run_dag("load_s3_snowpipe", path=str(folder), notify=notify, landing_url=landing, poll_seconds=0.5,
                         wait_minutes=2)
    assert dr.state == "success", states
    r = f"{database}.RAW"
    assert query(sf, f"select count(*), count(distinct INVOICE_ID), min(_LOAD_PATH) from {r}.SALES_RAW") == [
        (698, 698, "snowpipe")
    ]
    assert query(sf, f"select FILE_NAME, LINE, COLUMN_NAME, ERROR from {r}.SALES_REJECTED order by LINE") == [
        ("bad.csv", 11, "QUANTITY", "Numeric value 'x7' is not recognized"),
        ("bad.csv", 201, "UNIT_PRICE", "Numeric value 'abc' is not recognized"),
    ]
    audit = query(sf, f"select FILE_NAME, STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, FIRST_ERROR_LINE, LOAD_PATH "
                      f"from {database}.AUDIT.LOAD_AUDIT order by FILE_NAME")
    assert audit == [("bad.csv", "PARTIALLY_LOADED", 300, 298, 2, 11, "snowpipe"),
                     ("good.csv", "LOADED", 400, 400, 0, None, "snowpipe")]
    batches = query(sf, f"select _BATCH_ID, count(*) from {r}.SALES_RAW group by 1 order by 2")
    assert [n for _, n in batches] == [298, 400] and all(b.startswith("snowpipe_") for b, _ in batches)
    assert len(_keys(s3, landing)) == 2

    dr2, states2 = run_dag("load_s3_snowpipe", path=str(folder), notify=notify, landing_url=landing,
                           poll_seconds=0.5, wait_minutes=2)
    assert states2["upload_files"] == "skipped" and dr2.state == "success"
    assert query(sf, f"select count(*) from {r}.SALES_RAW") == [(698,)]
    assert query(sf, f"select count(*) from {database}.AUDIT.LOAD_AUDIT") == [(2,)]


def test_a_moved_landing_url_is_a_clear_error_not_a_silent_wait(run_dag, sf, database, tmp_path, landing):
    """The stage exists on one prefix and the DAG is given another: prepare_pipe fails saying so, before any upload."""
    src = write_sales_csv(tmp_path / "sales.csv", 50, seed=3)
    assert run_dag("load_s3_snowpipe", path=str(src), landing_url=landing, poll_seconds=0.5)[0].state == "success"
    other = write_sales_csv(tmp_path / "more.csv", 50, seed=4)
    dr, states = run_dag("load_s3_snowpipe", path=str(other), landing_url=landing + "moved/", poll_seconds=0.5)
    assert dr.state == "failed" and states["prepare_pipe"] == "failed" and states["upload_files"] == "upstream_failed"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(50,)]


def test_a_replaced_file_format_stops_the_pipe_and_the_next_run_says_so_before_uploading(
        run_dag, sf, database, tmp_path, landing, s3, monkeypatch):
    """064b242 ran ``create or replace file format`` on every load (raw/create_file_format_csv.sql). In Snowflake that
    drops the format under the pipe, which stops (executionState STOPPED_FILE_FORMAT_DROPPED) and loads nothing from
    then on: every later run waited out wait_minutes. The setup now creates the format once and ALTERs it; a format
    replaced by hand still stops the pipe, and the next run fails in prepare_pipe, before any upload, with an alert
    naming the state and the fix (recreate the pipe)."""
    import json

    from snowseg.config import contract_path, load_contract
    from snowseg.objects import dataset_objects

    alerts_file = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("SNOWSEG_ALERTS_FILE", str(alerts_file))
    first = write_sales_csv(tmp_path / "first.csv", 50, seed=5)
    assert run_dag("load_s3_snowpipe", path=str(first), landing_url=landing, poll_seconds=0.5)[0].state == "success"
    csv_format = dataset_objects(load_contract(contract_path("supermarket"))).file_format
    query(sf, f"create or replace file format {database}.RAW.{csv_format} type = csv skip_header = 1")  # 064b242's form

    second = write_sales_csv(tmp_path / "second.csv", 50, seed=6)
    dr, states = run_dag("load_s3_snowpipe", path=str(second), landing_url=landing, poll_seconds=0.5)
    assert dr.state == "failed" and states["prepare_pipe"] == "failed" and states["upload_files"] == "upstream_failed"
    assert len(_keys(s3, landing)) == 1 and query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(50,)]
    [(raw,)] = query(sf, f"select system$pipe_status('{database}.RAW.SALES_RAW_PIPE')")
    assert json.loads(raw)["executionState"] == "STOPPED_FILE_FORMAT_DROPPED"
    alert = next(a for a in map(json.loads, alerts_file.read_text().splitlines()) if a["task_id"] == "prepare_pipe")
    assert (alert["kind"], alert["details"]["execution_state"]) == ("pipe_stopped", "STOPPED_FILE_FORMAT_DROPPED")
    assert alert["what_to_do"].startswith("The pipe stopped because the named file format its COPY uses was dropped")
