"""Inputs, reports and alerts on object storage (issue 15): s3:// inputs through each load DAG, the run reports and
the alerts on the twin's S3 (moto), the monitor reading them there, and the refusals. Real dag.test() runs."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration


@pytest.fixture()
def bucket(twin, monkeypatch) -> SimpleNamespace:
    """A bucket of this test's own on the twin's S3 whose `in/` prefix is an input root (beside the folders)."""
    import boto3

    client = boto3.client("s3", endpoint_url=twin.s3_endpoint, region_name="us-east-1")
    name = f"snowseg-in-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", f"{os.environ['SNOWSEG_INPUT_ROOTS']}{os.pathsep}s3://{name}/in/")
    return SimpleNamespace(client=client, name=name)


def _upload(bucket: SimpleNamespace, key: str, path: Path) -> str:
    bucket.client.upload_file(str(path), bucket.name, key)
    return f"s3://{bucket.name}/{key}"


def _keys(bucket: SimpleNamespace, prefix: str) -> list[str]:
    pages = bucket.client.get_paginator("list_objects_v2").paginate(Bucket=bucket.name, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _audit(sf, database: str) -> list[tuple]:
    return query(sf, f"select FILE_NAME, FILE_PATH, STATUS, ROWS_LOADED from {database}.AUDIT.LOAD_AUDIT "
                     f"order by FILE_NAME")


@pytest.mark.parametrize("dag_id", ["load_small_file", "load_bulk_stage", "load_s3_snowpipe"])
def test_an_s3_input_loads_through_each_load_dag_once(dag_id, run_dag, sf, database, bucket, tmp_path):
    """Each load DAG reads an s3:// input (an object; a prefix; a glob), loads its rows, audits it under its URL,
    and a second run with the same objects loads nothing."""
    from tests.conftest import landing_url_for

    a = _upload(bucket, "in/2026/a.csv", write_sales_csv(tmp_path / "a.csv", 120, seed=21))
    b = _upload(bucket, "in/2026/b.csv", write_sales_csv(tmp_path / "b.csv", 80, seed=22))
    _upload(bucket, "in/2026/.hidden.csv", write_sales_csv(tmp_path / "h.csv", 5, seed=23))  # never an input
    skipped_task = {"load_small_file": "put_and_copy", "load_bulk_stage": "split_put_copy",
                    "load_s3_snowpipe": "upload_files"}[dag_id]
    if dag_id == "load_small_file":
        conf, expected = {"file_path": a, "on_error": "ABORT_STATEMENT"}, [("a.csv", a, "LOADED", 120)]
    elif dag_id == "load_bulk_stage":
        conf = {"path": f"s3://{bucket.name}/in/2026/", "chunk_mb": 0.01}
        expected = [("a.csv", a, "LOADED", 120), ("b.csv", b, "LOADED", 80)]
    else:
        conf = {"path": f"s3://{bucket.name}/in/2026/*.csv", "landing_url": landing_url_for(database),
                "poll_seconds": 0.5, "wait_minutes": 2}
        expected = [("a.csv", a, "LOADED", 120), ("b.csv", b, "LOADED", 80)]

    dr, states = run_dag(dag_id, **conf)
    assert dr.state == "success", states
    rows = sum(n for *_, n in expected)
    assert query(sf, f"select count(*), count(distinct INVOICE_ID) from {database}.RAW.SALES_RAW") == [(rows, rows)]
    assert _audit(sf, database) == expected

    dr2, states2 = run_dag(dag_id, **conf)  # the same objects again: skipped by their content hash
    assert dr2.state == "success" and states2[skipped_task] == "skipped", states2
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(rows,)]
    assert [r[:3] for r in _audit(sf, database)] == [r[:3] for r in expected]


def test_a_ragged_record_of_an_s3_input_is_rejected_with_its_text(run_dag, sf, database, bucket, tmp_path):
    """A record with an extra field in an s3:// input of the bulk path: the rest load, and the record is in the
    rejected table with its line and its text, read back from the object (every row parsed is loaded or rejected)."""
    src = write_sales_csv(tmp_path / "r.csv", 50, seed=41)
    lines = src.read_text().splitlines()
    lines[10] = lines[10] + ",extra"
    src.write_text("\n".join(lines) + "\n")
    url = _upload(bucket, "in/ragged/r.csv", src)
    dr, states = run_dag("load_bulk_stage", path=url, chunk_mb=0.01)
    assert dr.state == "success", states
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(49,)]
    got = query(sf, f"select LINE, REJECTED_RECORD from {database}.RAW.SALES_REJECTED")
    assert [(int(line), record) for line, record in got] == [(11, lines[10])]


def test_reports_go_to_s3_and_the_monitor_serves_them(run_dag, sf, database, bucket, tmp_path, monkeypatch,
                                                      airflow_db):
    """With SNOWSEG_REPORT_DIR=s3://...: a file loaded from S3, then segment_customers; the quality report and the
    run report are objects under the prefix, and the loads monitor serves them from there (and nothing outside)."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    monkeypatch.setenv("SNOWSEG_REPORT_DIR", f"s3://{bucket.name}/reports/")
    url = _upload(bucket, "in/sales.csv", write_sales_csv(tmp_path / "sales.csv", 300, seed=31))
    assert run_dag("load_small_file", file_path=url, on_error="ABORT_STATEMENT")[0].state == "success"
    dr, states = run_dag("segment_customers", k_max=4)
    assert dr.state == "success", states

    ((run_id,),) = query(sf, f"select MODEL_RUN_ID from {database}.ANALYTICS.MODEL_RUNS")
    keys = _keys(bucket, "reports/")
    for name in ("index.html", "elbow.png", "pca.png"):
        assert f"reports/{run_id}/{name}" in keys, keys
    quality = [k for k in keys if k.startswith("reports/quality/") and k.endswith("/index.html")]
    assert len(quality) == 1, keys
    page = bucket.client.get_object(Bucket=bucket.name, Key=f"reports/{run_id}/index.html")["Body"].read()

    with TestClient(create_app()) as client:
        password = json.loads((Path(os.environ["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated")
                              .read_text())["admin"]
        token = client.post("/auth/token", json={"username": "admin", "password": password}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        segments = client.get("/snowseg/api/segments").json()
        assert segments["report_url"] == f"/snowseg/reports/{run_id}/index.html"
        served = client.get(segments["report_url"])
        assert served.status_code == 200 and served.content == page
        assert served.headers["content-type"].startswith("text/html")
        assert client.get(f"/snowseg/reports/{run_id}/elbow.png").headers["content-type"] == "image/png"
        assert client.get(f"/snowseg/reports/{run_id}/", follow_redirects=False).content == page
        assert client.get(client.get("/snowseg/api/quality").json()["report_url"]).status_code == 200
        bucket.client.put_object(Bucket=bucket.name, Key="secret.txt", Body=b"not a report")
        for traversal in ("..%2Fsecret.txt", "%2E%2E/secret.txt", "quality/..%2F..%2Fsecret.txt"):
            refused = client.get(f"/snowseg/reports/{traversal}")
            assert refused.status_code == 400 and b"not a report" not in refused.content, traversal

        # the alerts the monitor lists come from the configured base too (here: objects under an s3:// prefix)
        monkeypatch.setenv("SNOWSEG_ALERTS_FILE", f"s3://{bucket.name}/alerts/")
        from snowseg.alerting.delivery import send_alert

        for i in range(3):
            send_alert("test_alert", f"alert {i}: password=hunter22")
        listed = client.get("/snowseg/api/alerts?limit=2").json()["alerts"]
        assert [a["summary"] for a in listed] == ["alert 1: password=***", "alert 2: password=***"]


@pytest.mark.parametrize(("key", "reason"), [
    ("s3://{bucket}/elsewhere/a.csv", "outside the input roots"),
    ("s3://AKIAFAKE:hunter22secret@{bucket}/in/a.csv", "credentials"),
    ("s3://{bucket}/in/../elsewhere/a.csv", "'..'"),
])
def test_refused_s3_inputs_load_nothing_and_alert_on_s3(key, reason, run_dag, sf, database, bucket, tmp_path,
                                                         monkeypatch):
    """A URL outside the roots, with credentials, or with '..' fails the check, loads nothing; the alert (on an
    s3:// alerts base: one object per alert) names the refusal, never the credentials."""
    from snowseg.alerting.delivery import read_alerts

    monkeypatch.setenv("SNOWSEG_ALERTS_FILE", f"s3://{bucket.name}/alerts/")
    src = write_sales_csv(tmp_path / "a.csv", 20, seed=41)
    _upload(bucket, "elsewhere/a.csv", src)
    _upload(bucket, "in/a.csv", src)
    dr, states = run_dag("load_small_file", file_path=key.format(bucket=bucket.name), on_error="ABORT_STATEMENT")
    assert dr.state == "failed" and states == {"check_file": "failed", "put_and_copy": "upstream_failed"}
    assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(0,)]

    alerts = [a for a in read_alerts() if a.get("run_id") == dr.run_id]
    assert len(alerts) == 1 and alerts[0]["task_id"] == "check_file"
    text = json.dumps(alerts[0])
    assert reason in text and "hunter22secret" not in text and "AKIAFAKE" not in text
    (key_written,) = _keys(bucket, "alerts/")
    assert alerts[0]["delivered"]["file"] == f"s3://{bucket.name}/{key_written}"
