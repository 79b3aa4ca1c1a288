"""Snowpipe reconciliation as a real watch_loads run: the twin loses one file's S3 event, the pipe loads the other;
watch_loads refreshes the lost file on its own path, records both in LOAD_AUDIT and alerts once; a second run does
nothing more."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from snowseg_samples import write_sales_csv
from tests.integration import test_alerts
from tests.integration.conftest import query
from tests.integration.test_alerts import _no_secrets, _xcom

alerts = test_alerts.alerts  # the alerts file fixture, shared with test_alerts

pytestmark = pytest.mark.integration


def _lost_events(twin, method: str, patterns: list[str] | None = None) -> dict:
    """The twin's lost-events fault (docs/twin.md): PUT patterns, GET the state, DELETE it."""
    body = json.dumps({"patterns": patterns}).encode() if patterns is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{twin.port}/twin/faults/lost-events", data=body, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_a_lost_event_is_refreshed_loaded_once_recorded_and_alerted_once(run_dag, twin, sf, database, tmp_path,
                                                                          alerts):
    from snowseg.airflow.tasks import resolve
    from snowseg.loading import snowpipe
    from snowseg.loading.checks import check_file
    from tests.conftest import landing_url_for

    landing = landing_url_for(database)
    contract, names = resolve("supermarket")
    lz = snowpipe.Landing.from_env(landing)
    with sf.cursor() as cur:
        pipe = snowpipe.find_pipe(cur, names, contract, lz)
    hook = snowpipe.s3_hook()
    snowpipe.ensure_notification(hook.get_conn(), lz, pipe)
    a_src, b_src = write_sales_csv(tmp_path / "a.csv", 120, seed=31), write_sales_csv(tmp_path / "b.csv", 90, seed=32)
    lost_pattern = f"{lz.bucket}/{lz.prefix}*/b.csv"
    _lost_events(twin, "PUT", [lost_pattern])
    try:
        a = snowpipe.upload(hook, lz, check_file(a_src, contract), contract)
        b = snowpipe.upload(hook, lz, check_file(b_src, contract), contract)
        deadline, loads = time.monotonic() + 60, {}
        with sf.cursor() as cur:
            while a.staged_path not in loads and time.monotonic() < deadline:
                time.sleep(0.5)
                loads = snowpipe.pipe_loads(cur, names, contract, pipe, [a.staged_path, b.staged_path])
        assert _lost_events(twin, "GET")["lost"] == [f"{lz.bucket}/{b.key}"]
    finally:
        _lost_events(twin, "DELETE")
    assert loads[a.staged_path].status == "LOADED" and b.staged_path not in loads  # the pipe never heard of b
    raw = f"{database}.RAW.SALES_RAW"
    assert query(sf, f"select count(*) from {raw}") == [(120,)]

    dr, states = run_dag("watch_loads", reconcile_minutes=0, reconcile_wait_seconds=60, landing_minutes=0,
                         landing_url=landing)
    assert dr.state == "success", states
    assert states["announce_recovered"] == "success"
    rec = _xcom(dr, "reconcile_landing")
    assert rec["refreshed"] == [b.staged_path]  # the narrowest prefix: the lost file's own path
    assert [s.rsplit("/", 2)[-2:] for s in rec["sent"]] == [b.staged_path.split("/")]
    # each file once: a (loaded by the pipe, never accounted for) and b (refreshed) are on record, rows once
    assert query(sf, f"select _BATCH_ID, count(*) from {raw} group by 1 order by 2") == [
        (b.staged_path.split("/")[0], 90), (a.staged_path.split("/")[0], 120)]
    audit = query(sf, f"select FILE_NAME, BATCH_ID, STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, LOAD_PATH, "
                      f"AIRFLOW_DAG_ID, FILE_PATH from {database}.AUDIT.LOAD_AUDIT order by FILE_NAME")
    assert audit == [
        ("a.csv", a.staged_path.split("/")[0], "LOADED", 120, 120, 0, "snowpipe", "watch_loads", f"{landing}{a.staged_path}"),
        ("b.csv", b.staged_path.split("/")[0], "LOADED", 90, 90, 0, "snowpipe", "watch_loads", f"{landing}{b.staged_path}"),
    ]
    (alert,) = alerts()  # one alert: the refreshed file's; check_landing leaves both files to the reconciliation
    d = alert["details"]
    assert (alert["kind"], d["file"], d["outcome"], d["url"]) == ("landing_refreshed", "b.csv", "LOADED",
                                                                  f"{landing}{b.staged_path}")
    assert d["refresh"] == f"ALTER PIPE {pipe.qualified} REFRESH PREFIX = '{b.staged_path}'"
    assert d["audit"]["rows_loaded"] == 90 and "its S3 event was lost" in alert["summary"]

    dr2, states2 = run_dag("watch_loads", reconcile_minutes=0, reconcile_wait_seconds=60, landing_minutes=0,
                           landing_url=landing)
    assert dr2.state == "success" and states2["announce_recovered"] == "skipped"
    assert _xcom(dr2, "reconcile_landing")["refreshed"] == [] and len(alerts()) == 1
    assert _xcom(dr2, "send_alerts") == {"findings": [], "alerted": [], "suppressed": []}
    assert query(sf, f"select count(*) from {raw}") == [(210,)]
    assert query(sf, f"select count(*) from {database}.AUDIT.LOAD_AUDIT") == [(2,)]
    # and a REFRESH of the whole stage queues nothing: both files are in the pipe's load metadata
    with sf.cursor() as cur:
        cur.execute(f"alter pipe {pipe.qualified} refresh")
        assert cur.fetchall() == []
    _no_secrets(alerts)
