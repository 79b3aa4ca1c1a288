"""The loads monitor (``plugins/snowseg_monitor.py``) against the twin, mounted as the api-server mounts it.

One module-scoped warehouse is filled through the real DAGs (``dag.test()``): a good file with one
out-of-range rating (loaded; the gate quarantines that row), a file with two malformed values loaded
with ``ON_ERROR = CONTINUE`` (partially loaded), the same kind of file under the default
``ABORT_STATEMENT`` (failed) and a ragged file (failed: its ragged record aborts the COPY); then ``segment_customers``. The tests read
it through the plugin's FastAPI app, as Airflow's ``init_plugins`` mounts it under ``/snowseg``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from snowseg_samples import write_sales_csv
from tests.conftest import set_up_warehouse
from tests.integration.conftest import dag_test, query

pytestmark = pytest.mark.integration

ROWS = 120


def _edit(path: Path, edits: dict[tuple[int, int], str | None]) -> Path:
    """Set (line, field) -> value (1-based line, 0-based field); None appends a field (a ragged record)."""
    with path.open(newline="") as f:
        recs = list(csv.reader(f))
    for (line, field), value in edits.items():
        if value is None:
            recs[line - 1].append("oops")
        else:
            recs[line - 1][field] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(recs)
    path.write_text(buf.getvalue())
    return path


def _token(api) -> str:
    """An API token for the simple auth manager's admin, as the UI's login gets one."""
    password = json.loads((Path(os.environ["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated")
                          .read_text())["admin"]
    return api.post("/auth/token", json={"username": "admin", "password": password}).json()["access_token"]


@pytest.fixture(scope="module")
def client(airflow_db):
    """The plugin's app as the api-server mounts it (Airflow's create_app), logged in as the UI's admin."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as c:
        c.headers["Authorization"] = f"Bearer {_token(c)}"
        yield c


@pytest.fixture(scope="module")
def filled(dagbag, twin, tmp_path_factory):
    """A database filled by the load DAGs and segment_customers; yields the file names and run ids."""
    database = f"T_{uuid.uuid4().hex[:10].upper()}"
    tmp = tmp_path_factory.mktemp("monitor")
    set_up_warehouse(database)
    # on_error always given: dag.test() in one process carries a run's conf over into the next run's params
    abort = {"on_error": "ABORT_STATEMENT"}
    files = {
        # rating 12.5 on line 6: loads, but the gate quarantines the row (range:RATING)
        "good.csv": (_edit(write_sales_csv(tmp / "good.csv", ROWS, seed=11), {(6, 16): "12.5"}), abort),
        "bad.csv": (_edit(write_sales_csv(tmp / "bad.csv", ROWS, seed=12), {(11, 7): "x7", (81, 6): "abc"}),
                    {"on_error": "CONTINUE"}),
        "aborted.csv": (_edit(write_sales_csv(tmp / "aborted.csv", ROWS, seed=13), {(5, 7): "x5"}), abort),
        "ragged.csv": (_edit(write_sales_csv(tmp / "ragged.csv", ROWS, seed=14), {(21, 0): None}), abort),
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SNOWSEG_DATABASE", database)
        runs = {}
        for name, (path, conf) in files.items():
            dr = dag_test(dagbag.get_dag("load_small_file"), {"file_path": str(path), **conf})
            runs[name] = dr
        seg = dag_test(dagbag.get_dag("segment_customers"), {"k_max": 4})
        assert seg.state == "success", {ti.task_id: ti.state for ti in seg.get_task_instances()}
        yield SimpleNamespace(database=database, runs={k: v.run_id for k, v in runs.items()},
                              states={k: v.state for k, v in runs.items()}, segment_run=seg.run_id)


def _files(loads: dict) -> dict[str, dict]:
    return {f["file_name"]: f for p in loads["paths"] for f in p["files"]}


def test_plugin_is_registered_and_served_by_the_api_server(airflow_db, monkeypatch):
    """Airflow's plugins manager loads the plugin; /api/v2/plugins lists its app and nav entry; the api-server
    serves it under /snowseg -- without authentication, as Airflow does for every plugin app."""
    from airflow import plugins_manager
    from airflow.api_fastapi.app import create_app
    from airflow.api_fastapi.core_api.datamodels.plugins import PluginResponse
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    assert not {k: v for k, v in plugins_manager.get_import_errors().items() if "snowseg" in k}
    (info,) = [p for p in plugins_manager.get_plugin_info() if p["name"] == "snowseg_monitor"]
    assert str(info["source"]) == "$PLUGINS_FOLDER/snowseg_monitor.py"
    apps = [a for a in plugins_manager.get_fastapi_plugins()[0] if a["url_prefix"] == "/snowseg"]
    assert len(apps) == 1 and isinstance(apps[0]["app"], FastAPI)
    nav = [v for v in plugins_manager._get_ui_plugins()[0] if v.get("url_route") == "snowseg"]
    assert nav == [{"name": "Snowseg loads", "href": "snowseg/", "url_route": "snowseg", "destination": "nav",
                    "category": "browse"}]

    # the REST API's view of it (what the UI's navigation reads)
    monkeypatch.setenv("SNOWSEG_SNOWFLAKE_CONN_ID", "snowseg_no_such_connection")
    api = TestClient(create_app())
    assert api.get("/api/v2/plugins").status_code == 401
    password = json.loads((Path(os.environ["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated")
                          .read_text())["admin"]
    token = api.post("/auth/token", json={"username": "admin", "password": password}).json()["access_token"]
    listed = api.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}).json()["plugins"]
    (mine,) = [PluginResponse.model_validate(p) for p in listed if p["name"] == "snowseg_monitor"]
    assert [(a.url_prefix, a.name) for a in mine.fastapi_apps] == [("/snowseg", "Snowseg loads monitor")]
    ((view,),) = [mine.external_views]
    assert (view.name, view.href, view.url_route, view.destination, view.category) == (
        "Snowseg loads", "snowseg/", "snowseg", "nav", "browse")
    # the monitor asks for Airflow's login like /api/v2: a JSON client without a token gets 401, a browser
    # is sent to the login page and back; with the token it answers (503 here: no such connection)
    assert api.get("/snowseg/api/loads").status_code == 401
    page = api.get("/snowseg/", follow_redirects=False)
    assert page.status_code == 307 and page.headers["location"] == "/auth/login?next=/snowseg/"
    assert api.get("/snowseg/reports/x/index.html", follow_redirects=False).status_code == 307
    r = api.get("/snowseg/api/loads", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503 and "snowseg_no_such_connection" in r.json()["detail"]


def test_loads_list_every_file_with_counts_that_add_up(client, filled):
    loads = client.get("/snowseg/api/loads").json()
    assert loads["available"] and loads["mismatched"] == [] and loads["files"] == 4
    assert [p["load_path"] for p in loads["paths"]] == ["small_file", "bulk_stage", "snowpipe"]
    files = _files(loads)
    got = {n: (f["status"], f["rows_parsed"], f["rows_loaded"], f["rows_rejected"], f["counts_add_up"])
           for n, f in files.items()}
    assert got == {
        "good.csv": ("LOADED", ROWS, ROWS, 0, True),
        "bad.csv": ("PARTIALLY_LOADED", ROWS, ROWS - 2, 2, True),
        "aborted.csv": ("FAILED", ROWS, 0, ROWS, True),
        "ragged.csv": ("FAILED", ROWS, 0, ROWS, True),  # ABORT_STATEMENT: the ragged record aborts the file's COPY
    }
    for name, f in files.items():
        assert f["airflow_run_id"] == filled.runs[name] and f["airflow_dag_id"] == "load_small_file"
        assert f["duration_s"] is not None and f["duration_s"] >= 0
        assert (f["rejects_url"] is not None) == (f["rejects_api_url"] is not None) == (name in {"bad.csv", "aborted.csv", "ragged.csv"})
    assert files["ragged.csv"]["first_error_line"] == 21
    small = loads["paths"][0]["summary"]
    assert small == {"files": 4, "rows_parsed": 4 * ROWS, "rows_loaded": 2 * ROWS - 2, "rows_rejected": 2 * ROWS + 2,
                     "files_failed": 2, "files_mismatched": 0}
    assert loads["paths"][1]["files"] == [] and loads["paths"][1]["summary"]["files"] == 0

    page = client.get("/snowseg/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for name in files:
        assert f'data-file="{name}"' in html
    for status in ("LOADED", "PARTIALLY_LOADED", "FAILED"):
        assert f"st-{status}" in html
    assert 'id="counts-ok"' in html and 'id="mismatch"' not in html
    assert (f"last 24 h: <b>4</b> files, <b>{2 * ROWS - 2}</b> rows loaded, <b>{2 * ROWS + 2}</b> rows rejected, "
            f'<span class="flag">2 failed or refused</span>') in " ".join(html.split())
    assert f'href="rejects?file=bad.csv&amp;batch={files["bad.csv"]["batch_id"]}"' in html


def test_rejected_rows_page_lists_line_column_error(client, filled):
    loads = client.get("/snowseg/api/loads").json()
    bad = _files(loads)["bad.csv"]
    assert bad["rejects_url"] == f"/snowseg/rejects?file=bad.csv&batch={bad['batch_id']}"
    data = client.get(bad["rejects_api_url"]).json()
    assert (data["file_name"], data["batch_id"], data["table"], data["total"]) == (
        "bad.csv", bad["batch_id"], "RAW.SALES_REJECTED", 2)
    rows = [(r["line"], r["column_name"]) for r in data["rows"]]
    assert rows == [(11, "QUANTITY"), (81, "UNIT_PRICE")]
    assert "'x7'" in data["rows"][0]["error"] and "x7" in data["rows"][0]["rejected_record"]
    assert "abc" in data["rows"][1]["rejected_record"]

    # one row a page: a count, a next link, the second row on the next page
    page1 = client.get(f"/snowseg/api/rejects?file=bad.csv&batch={bad['batch_id']}&limit=1").json()
    page2 = client.get(f"/snowseg/api/rejects?file=bad.csv&batch={bad['batch_id']}&limit=1&offset=1").json()
    assert (page1["total"], len(page1["rows"]), page2["rows"][0]["line"]) == (2, 1, 81)
    assert client.get("/snowseg/api/rejects?file=bad.csv&limit=501").status_code == 422  # 500 a page at most

    html = client.get(bad["rejects_url"]).text
    assert "<b>2</b> rejected records in RAW.SALES_REJECTED" in html
    for line, column in rows:
        assert f'<td class="n">{line}</td>' in html and f"<td>{column}</td>" in html
    assert "Numeric value &#39;x7&#39; is not recognized" in html
    assert 'href="rejects?file=bad.csv&amp;batch=' in client.get(
        f"/snowseg/rejects?file=bad.csv&batch={bad['batch_id']}&limit=1").text  # the next-page link

    # an aborted load: every row rejected in LOAD_AUDIT, the one bad record listed
    aborted = client.get(_files(loads)["aborted.csv"]["rejects_api_url"]).json()
    assert [(r["line"], r["column_name"]) for r in aborted["rows"]] == [(5, "QUANTITY")]
    assert client.get("/snowseg/api/rejects?file=nothing.csv").json()["total"] == 0


def test_quality_shows_latest_verdicts_and_failed_rules(client, filled):
    q = client.get("/snowseg/api/quality").json()
    assert q["latest_run"]["run_id"] == filled.segment_run
    assert q["latest_run"]["batches"] == 2 and q["latest_run"]["rules_failed"] >= 1
    loaded = {f["batch_id"] for f in _files(client.get("/snowseg/api/loads").json()).values()
              if f["status"] in {"LOADED", "PARTIALLY_LOADED"}}
    verdicts = {v["batch_id"]: v for v in q["verdicts"]}
    assert set(verdicts) == loaded and {v["status"] for v in verdicts.values()} == {"PUBLISHED"}
    assert sum(v["rows_checked"] for v in verdicts.values()) == 2 * ROWS - 2
    assert sum(v["rows_quarantined"] for v in verdicts.values()) == 1
    failed = {(f["expectation"], f["column_name"], f["severity"], f["unexpected_count"]) for f in q["failures"]}
    assert ("range:RATING", "RATING", "error", 1) in failed
    # the gate run's own report is served from the report folder
    assert q["report_path"].startswith("quality/") and q["report_url"] == f"/snowseg/reports/{q['report_path']}"
    assert client.get(q["report_url"]).status_code == 200

    html = client.get("/snowseg/").text
    assert f"Latest gate run <b>{filled.segment_run}</b>" in html
    assert "<td>range:RATING</td><td>RATING</td>" in html and 'class="st st-PUBLISHED"' in html


def test_segments_show_latest_run_profiles_and_report(client, filled, sf):
    s = client.get("/snowseg/api/segments").json()
    ((run_id, k, n_runs, rows),) = query(
        sf, f"select MODEL_RUN_ID, K, N_RUNS, ROW_COUNT from {filled.database}.ANALYTICS.MODEL_RUNS")
    run = s["run"]
    assert (run["model_run_id"], run["k"], run["n_runs"], run["row_count"]) == (run_id, k, n_runs, rows)
    assert run["airflow_run_id"] == filled.segment_run and run["assigned_in"] == "python"
    assert run["published_at"] and run["k_reason"] and isinstance(run["structured"], bool)
    assert len(s["profiles"]) == k == 3 and sum(p["size"] for p in s["profiles"]) == rows
    # each share is the segment's size over the rows, rounded to 4 places (so their sum may miss 1 by 1e-4)
    assert all(abs(p["share"] - p["size"] / rows) <= 5e-5 + 1e-9 for p in s["profiles"])
    for p in s["profiles"]:
        assert p["segment_name"] and p["stability_band"] and 0 < p["mean_confidence"] <= 1 and 0 <= p["stability"] <= 1

    assert s["report_path"] == f"{run_id}/index.html" and s["report_url"] == f"/snowseg/reports/{run_id}/index.html"
    report = client.get(s["report_url"])
    on_disk = Path(os.environ["SNOWSEG_REPORT_DIR"]) / run_id / "index.html"
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert report.content == on_disk.read_bytes()
    png = client.get(f"/snowseg/reports/{run_id}/elbow.png")  # the report's relative image links work
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert client.get(f"/snowseg/reports/{run_id}/", follow_redirects=False).content == on_disk.read_bytes()
    assert client.get(f"/snowseg/reports/{run_id}", follow_redirects=False).headers["location"] == f"{run_id}/"

    html = client.get("/snowseg/").text
    assert f'<a id="report-link" href="reports/{run_id}/index.html">' in html
    for p in s["profiles"]:
        assert f"<td>{p['segment_name']}</td>" in html


def test_segments_show_the_rules_of_the_latest_run(client, filled, sf):
    """The generated sales sample's rules: /api/segments returns SEGMENT_PROFILES' rules, the page shows them
    (escaped) with their figures and the run's fidelity."""
    from html import escape

    from tests.integration.rules_checks import published_rules

    s = client.get("/snowseg/api/segments").json()
    stored = published_rules(sf, filled.database, s["run"]["model_run_id"])
    assert {p["segment_id"]: p["rules"] for p in s["profiles"]} == {sid: p["rules"] for sid, p in stored.items()}
    assert s["rules_fidelity"] == next(iter(stored.values()))["fidelity"] and 0 < s["rules_fidelity"] <= 1
    assert all(p["rules"] for p in s["profiles"]) and all(p["rule_accuracy"] > 0.5 for p in s["profiles"])
    page = client.get("/snowseg/").text
    assert '<table id="segment-rules">' in page
    for p in s["profiles"]:
        for r in p["rules"]:
            assert f"<td>{escape(r['text'])} → {escape(p['segment_name'])}</td>" in page, r["text"]


def test_empty_warehouse_shows_nothing_loaded_yet(client, database):
    html = client.get("/snowseg/")
    assert html.status_code == 200
    assert 'id="loads-empty">nothing loaded yet<' in html.text
    assert "no quality gate has run yet" in html.text and "no segmentation run has been published yet" in html.text
    loads = client.get("/snowseg/api/loads").json()
    assert (loads["available"], loads["files"], loads["message"]) == (True, 0, "nothing loaded yet")  # set up, empty
    quality = client.get("/snowseg/api/quality").json()
    assert (quality["available"], quality["latest_run"], quality["message"]) == (True, None, "no quality gate has run yet")
    assert client.get("/snowseg/api/segments").json()["message"] == "no segmentation run has been published yet"
    assert client.get("/snowseg/api/rejects?file=a.csv").json()["total"] == 0
    assert "no rejected rows for this file" in client.get("/snowseg/rejects?file=a.csv").text  # its table is there


def test_unreachable_warehouse_is_a_503_with_the_message(client, twin, monkeypatch):
    from snowseg_twin.process import free_port

    port = free_port()  # nothing listens there
    down = json.loads(twin.connection_json())
    down["extra"]["port"] = port
    monkeypatch.setenv("SNOWSEG_SNOWFLAKE_CONN_ID", "snowseg_down")
    monkeypatch.setenv("AIRFLOW_CONN_SNOWSEG_DOWN", json.dumps(down))
    page = client.get("/snowseg/")
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert f"points at 127.0.0.1:{port}, which does not answer" in page.text and "make twin-up" in page.text
    assert "Traceback" not in page.text
    for api in ("loads", "quality", "segments", "rejects?file=a.csv"):
        r = client.get(f"/snowseg/api/{api}")
        assert r.status_code == 503 and r.json()["error"] == "warehouse unreachable"
        assert f"127.0.0.1:{port}" in r.json()["detail"]


def test_counts_that_do_not_add_up_are_flagged(client, filled, sf):
    """LOAD_AUDIT's writers never break parsed = loaded + rejected; the monitor flags a row that does."""
    audit = f"{filled.database}.AUDIT.LOAD_AUDIT"
    now = datetime.now(UTC).replace(tzinfo=None)
    query(sf, f"insert into {audit} (AUDIT_ID, BATCH_ID, FILE_NAME, LOAD_PATH, TARGET_TABLE, STATUS, ROWS_PARSED, "
              f"ROWS_LOADED, ROWS_REJECTED, STARTED_AT, FINISHED_AT) values ('tampered', 'bulk_stage_x', 'odd.csv', "
              f"'bulk_stage', 'X', 'LOADED', 10, 7, 1, %(t)s, %(t)s)", {"t": now})
    try:
        loads = client.get("/snowseg/api/loads").json()
        assert loads["mismatched"] == ["odd.csv"] and _files(loads)["odd.csv"]["counts_add_up"] is False
        assert loads["paths"][1]["summary"]["files_mismatched"] == 1
        html = client.get("/snowseg/").text
        assert 'id="mismatch"' in html and '<tr class="mismatch" data-file="odd.csv">' in html
    finally:
        query(sf, f"delete from {audit} where AUDIT_ID = 'tampered'")


@pytest.mark.parametrize("path", ["small", "bulk", "snowpipe"])
def test_every_bad_input_file_shows_its_fate_with_counts_that_add_up(client, run_dag, database, tmp_path, path):
    """The loads issue's twelve bad-input files, loaded through one path: the monitor lists each one under its
    load path with the status and counts the bad-input table states, and parsed = loaded + rejected for all."""
    from tests.integration.test_bad_input import CASES, ROWS, run_load

    seeds = {"small": 101, "bulk": 202, "snowpipe": 303}
    names = {}
    for i, (case, (make, expected)) in enumerate(CASES.items()):
        src = write_sales_csv(tmp_path / f"{case}.csv", ROWS, seed=seeds[path] + i)
        file = make(src)
        names[case] = (file.name, expected[path])
        run_load(run_dag, path, file, database)

    loads = client.get("/snowseg/api/loads", params={"limit": 500}).json()
    assert loads["available"] and loads["mismatched"] == []
    (shown,) = [p["files"] for p in loads["paths"] if p["load_path"] == {"small": "small_file", "bulk": "bulk_stage",
                                                                         "snowpipe": "snowpipe"}[path]]
    for case, (name, want) in names.items():
        rows = [f for f in shown if f["file_name"].endswith(name)]
        assert len(rows) == 1, (case, name, [f["file_name"] for f in shown])
        f = rows[0]
        assert (f["status"], f["rows_parsed"], f["rows_loaded"], f["rows_rejected"]) == want.audit, (case, f)
        assert f["counts_add_up"] and f["rows_parsed"] == f["rows_loaded"] + f["rows_rejected"]
    # the malformed file's rejected rows, with their lines and columns
    bad = next(f for f in shown if f["file_name"].endswith(names["malformed-values"][0]))
    rejects = client.get(bad["rejects_api_url"]).json()
    assert rejects["total"] == 2
    assert sorted((r["line"], r["column_name"]) for r in rejects["rows"]) == [(11, "QUANTITY"), (81, "UNIT_PRICE")]
    html = client.get("/snowseg/", params={"limit": 500}).text
    assert all(name in html for name, _ in names.values())
