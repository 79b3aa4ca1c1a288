"""Alerts from real DAG runs: a failed load names its file, line and column once; a held batch names the batch;
watch_loads alerts once per stale landing file and pending pipe, and not for a file that was loaded."""

from __future__ import annotations

import json

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query
from tests.integration.test_bad_input import ROWS, latin1, malformed
from tests.integration.test_quality_gate import N, _edit, unknown_branch

pytestmark = pytest.mark.integration


@pytest.fixture()
def alerts(tmp_path, monkeypatch):
    """This test's alerts file; returns a reader of its JSON lines."""
    path = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("SNOWSEG_ALERTS_FILE", str(path))
    for var in ("SNOWSEG_ALERT_SMTP_TO", "SNOWSEG_ALERT_NOTIFIER"):
        monkeypatch.delenv(var, raising=False)

    def read() -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    read.path = path
    return read


def _no_secrets(read) -> None:
    from snowseg_twin.process import DEV_KEY_PASSPHRASE

    assert DEV_KEY_PASSPHRASE not in read.path.read_text()


def _xcom(dr, task_id: str):
    return dr.get_task_instance(task_id).xcom_pull(task_ids=task_id)


@pytest.mark.parametrize(("breaker", "task_id", "line", "column", "error"), [
    pytest.param(malformed, "put_and_copy", 11, "QUANTITY", "Numeric value 'x7' is not recognized", id="copy-error"),
    pytest.param(latin1, "check_file", 3, "BRANCH", "1 line(s) with bytes that are not valid UTF-8: line 3, column 2 (Branch)",
                 id="refused"),
])
def test_a_failed_load_alerts_once_naming_file_line_and_column(run_dag, database, tmp_path, alerts, breaker, task_id,
                                                                line, column, error):
    bad = breaker(write_sales_csv(tmp_path / "bad.csv", ROWS, seed=5))
    dr, states = run_dag("load_small_file", file_path=str(bad))
    assert dr.state == "failed" and states[task_id] == "failed"

    (alert,) = alerts()  # one alert: the task's; the DAG-level callback adds none for a task failure
    assert (alert["kind"], alert["dag_id"], alert["task_id"], alert["run_id"]) == (
        "file_refused", "load_small_file", task_id, dr.run_id)
    (f,) = alert["details"]["files"]
    assert (f["name"], f["path"], f["line"], f["column"]) == ("bad.csv", str(bad), line, column)
    assert f["error"].startswith(error)
    assert alert["summary"].startswith(f"load_small_file.{task_id} failed: bad.csv at line {line}, column {column}")
    assert alert["what_to_do"].startswith(f"Fix bad.csv at line {line}, column {column}")
    if task_id == "put_and_copy":  # the checked file's XCom gives its row count
        assert f["rows"] == ROWS and f"[{ROWS} rows" in alert["message"]
    _no_secrets(alerts)


def test_segment_customers_held_at_the_gate_alerts_with_the_held_batch(run_dag, sf, database, tmp_path, alerts):
    bad = _edit(write_sales_csv(tmp_path / "bad.csv", N, seed=19), list(range(1, 21)), unknown_branch)
    assert run_dag("load_small_file", file_path=str(bad))[0].state == "success"
    assert alerts() == []
    dr, states = run_dag("segment_customers")
    assert dr.state == "failed" and states["quality_gate"] == "failed" and states["features"] == "upstream_failed"

    ((batch_id,),) = query(sf, f"select BATCH_ID from {database}.AUDIT.BATCH_GATE where STATUS = 'HELD'")
    (alert,) = alerts()
    assert (alert["kind"], alert["task_id"]) == ("quality_gate_held", "quality_gate")
    (held,) = alert["details"]["batches"]
    assert (held["batch_id"], held["rows"], held["quarantined"]) == (batch_id, N, 20)
    assert "value_set:BRANCH" in held["rules"]
    assert f"batch {batch_id} held ({N} rows, 20 quarantined" in alert["summary"]
    assert f"BATCH_ID = '{batch_id}'" in alert["what_to_do"] and "AUDIT.BATCH_GATE" in alert["what_to_do"]
    assert alert["details"]["report"].endswith("index.html")
    _no_secrets(alerts)


def test_watch_loads_alerts_a_stale_landing_file_once_and_not_after_it_is_loaded(run_dag, sf, database, tmp_path,
                                                                                 alerts):
    from snowseg.airflow.tasks import resolve
    from snowseg.loading import snowpipe
    from snowseg.loading.checks import check_file

    landing = f"s3://snowseg-landing/{database.lower()}/"
    src = write_sales_csv(tmp_path / "late.csv", 80, seed=21)
    contract, _ = resolve("supermarket")
    # a file that reached the landing area (as upload_files puts it) but that no run accounted for
    landed = snowpipe.upload(snowpipe.s3_hook(), snowpipe.Landing.from_env(landing), check_file(src, contract), contract)

    dr, states = run_dag("watch_loads", landing_minutes=0, landing_url=landing)
    assert dr.state == "success", states
    (alert,) = alerts()
    d = alert["details"]
    assert (alert["kind"], d["file"], d["url"], d["bytes"]) == (
        "landing_stale", "late.csv", f"{landing}{landed.staged_path}", src.stat().st_size)
    assert d["age_minutes"] >= 0 and "no LOAD_AUDIT row" in alert["summary"]
    # the setup's pipe exists but never heard of the file (no event notification yet): how to queue it, or load it
    assert "The pipe has no finished load of it" in alert["what_to_do"] and "REFRESH" in alert["what_to_do"]
    assert "load_s3_snowpipe" in alert["what_to_do"]

    dr2, _ = run_dag("watch_loads", landing_minutes=0, landing_url=landing)
    assert dr2.state == "success" and len(alerts()) == 1  # the same file is not alerted twice
    assert _xcom(dr2, "send_alerts")["suppressed"] == [d["key"]]

    assert run_dag("load_s3_snowpipe", path=str(src), landing_url=landing, poll_seconds=0.5,
                   wait_minutes=2)[0].state == "success"
    dr3, _ = run_dag("watch_loads", landing_minutes=0, pipe_minutes=0, landing_url=landing)
    assert dr3.state == "success" and len(alerts()) == 1
    assert _xcom(dr3, "send_alerts") == {"findings": [], "alerted": [], "suppressed": []}  # accounted for: no finding
    assert _xcom(dr, "send_alerts")["alerted"] == [d["key"]]


def test_a_paused_pipe_alerts_from_the_load_and_from_the_watcher(run_dag, sf, database, tmp_path, alerts):
    """The load's wait times out (one pipe_pending alert from its task); the watcher then reports the pipe's pending
    file and the landing file the pipe holds, once each."""
    from snowseg.airflow.tasks import resolve
    from snowseg.loading import snowpipe
    from tests.conftest import landing_url_for

    landing = landing_url_for(database)
    contract, names = resolve("supermarket")
    with sf.cursor() as cur:
        pipe = snowpipe.find_pipe(cur, names, contract, snowpipe.Landing.from_env(landing))
        cur.execute(f"alter pipe {pipe.qualified} set pipe_execution_paused = true")
    src = write_sales_csv(tmp_path / "held.csv", 60, seed=22)
    dr, states = run_dag("load_s3_snowpipe", path=str(src), landing_url=landing, poll_seconds=0.5, wait_minutes=0.05)
    assert dr.state == "failed" and states["wait_for_pipe"] == "failed"
    (load_alert,) = alerts()
    assert (load_alert["kind"], load_alert["task_id"]) == ("pipe_pending", "wait_for_pipe")
    assert load_alert["details"]["pipe"] == pipe.qualified  # the sensor's pipe (prepare_pipe's XCom), qualified
    assert [p.rsplit("/", 1)[-1] for p in load_alert["details"]["pending"]] == ["held.csv"]
    assert load_alert["details"]["execution_state"] == "PAUSED"
    assert load_alert["what_to_do"].startswith(f"The pipe is PAUSED: resume it with ALTER PIPE {pipe.qualified}")
    assert load_alert["details"]["files"][0]["rows"] == 60  # from upload_files' XCom

    for _ in range(2):
        assert run_dag("watch_loads", landing_minutes=0, pipe_minutes=0, landing_url=landing)[0].state == "success"
    by_kind = {a["kind"]: a for a in alerts()[1:]}
    assert len(alerts()) == 3 and set(by_kind) == {"pipe_pending", "landing_stale"}
    p = by_kind["pipe_pending"]
    assert p["details"]["execution_state"] == "PAUSED" and p["details"]["pending_files"] == 1
    assert p["details"]["oldest_file"].endswith("/held.csv")
    assert p["what_to_do"].startswith(f"The pipe is PAUSED: resume it with ALTER PIPE {pipe.qualified}")
    assert by_kind["landing_stale"]["details"]["file"] == "held.csv"
    assert "PIPE_EXECUTION_PAUSED = FALSE" in by_kind["landing_stale"]["what_to_do"]
    _no_secrets(alerts)
