"""Query tags and cost per load (issue 16, item 1): a real load and segment_customers on the twin; their queries
read back from the twin's query history through INFORMATION_SCHEMA.QUERY_HISTORY_BY_USER; the monitor's cost per
file and per model run equal to the sums over those rows; the run report's cost section."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import snowflake.connector
from snowflake.connector import DictCursor

from tests.integration.conftest import query

pytestmark = pytest.mark.integration

TAG_CONTEXT = {"app", "dag", "task", "run", "try"}


def _token(api) -> str:
    password = json.loads((Path(os.environ["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated")
                          .read_text())["admin"]
    return api.post("/auth/token", json={"username": "admin", "password": password}).json()["access_token"]


@pytest.fixture()
def client(airflow_db):
    """The plugin's app as the api-server mounts it, logged in as the UI's admin."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as c:
        c.headers["Authorization"] = f"Bearer {_token(c)}"
        yield c


def _history(twin, database: str) -> list[dict]:
    """The service user's queries, through the documented table function, as the pipeline's user reads them."""
    with snowflake.connector.connect(**twin.connect_kwargs(database)) as conn, conn.cursor(DictCursor) as cur:
        cur.execute(f"select QUERY_ID, QUERY_TEXT, QUERY_TAG, SESSION_ID, USER_NAME, WAREHOUSE_NAME, WAREHOUSE_SIZE, "
                    f"EXECUTION_STATUS, START_TIME, END_TIME, TOTAL_ELAPSED_TIME, EXECUTION_TIME, "
                    f"CREDITS_USED_CLOUD_SERVICES from table({database}.INFORMATION_SCHEMA.QUERY_HISTORY_BY_USER("
                    f"RESULT_LIMIT => 10000)) order by START_TIME")
        return cur.fetchall()


def _tagged(rows: list[dict], run_id: str) -> list[tuple[dict, dict]]:
    out = []
    for r in rows:
        tag = json.loads(r["QUERY_TAG"]) if (r["QUERY_TAG"] or "").startswith("{") else {}
        if tag.get("run") == run_id:
            out.append((r, tag))
    return out


def _after_retag(pairs: list[tuple[dict, dict]], task: str) -> list[tuple[dict, dict]]:
    """A task's queries after each session's ALTER SESSION SET QUERY_TAG (the statement itself carries the tag it
    replaces); asserts every session of the task re-tagged first."""
    out, sessions = [], {}
    for r, t in pairs:
        if t["task"] != task:
            continue
        seen = sessions.setdefault(r["SESSION_ID"], [])
        seen.append(r)
        if len(seen) == 1:
            assert r["QUERY_TEXT"].lower().startswith("alter session set query_tag"), (task, r["QUERY_TEXT"])
        else:
            out.append((r, t))
    assert sessions, f"no query of task {task}"
    return out


def _expected(rows: list[dict]) -> dict:
    """Queries, seconds and credits summed over history rows by hand: X-Small is 1 credit per hour."""
    assert {r["WAREHOUSE_SIZE"] for r in rows} == {"X-Small"}
    execution_s = sum(r["EXECUTION_TIME"] for r in rows) / 1000
    return {"queries": len(rows), "elapsed_s": sum(r["TOTAL_ELAPSED_TIME"] for r in rows) / 1000,
            "execution_s": execution_s,
            "credits": execution_s / 3600 + sum(r["CREDITS_USED_CLOUD_SERVICES"] for r in rows)}


def _same(cost: dict, expected: dict) -> None:
    assert cost["queries"] == expected["queries"]
    for key in ("elapsed_s", "execution_s", "credits"):
        assert cost[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), key
    assert cost["credits"] > 0 and cost["credits_are_estimated"] is True


def test_queries_carry_their_task_batch_and_model_run_and_the_monitor_sums_their_cost(
        run_dag, twin, sf, database, seed_csv, client, monkeypatch):
    load, states = run_dag("load_small_file", file_path=str(seed_csv))
    assert load.state == "success", states
    seg, seg_states = run_dag("segment_customers")
    assert seg.state == "success", seg_states
    for var in ("AIRFLOW_CTX_DAG_ID", "AIRFLOW_CTX_TASK_ID", "AIRFLOW_CTX_DAG_RUN_ID", "AIRFLOW_CTX_TRY_NUMBER"):
        monkeypatch.delenv(var, raising=False)  # the monitor's own sessions are no task's
    ((batch,),) = query(sf, f"select BATCH_ID from {database}.AUDIT.LOAD_AUDIT")
    ((model_run,),) = query(sf, f"select MODEL_RUN_ID from {database}.ANALYTICS.MODEL_RUNS "
                                f"where AIRFLOW_RUN_ID = %s", (seg.run_id,))

    loads = client.get("/snowseg/api/loads").json()
    segments = client.get("/snowseg/api/segments").json()
    rows = _history(twin, database)

    # every query of both DAG runs names Snowseg, its DAG, task, run and try
    load_q, seg_q = _tagged(rows, load.run_id), _tagged(rows, seg.run_id)
    assert load_q and seg_q
    for r, t in load_q + seg_q:
        assert TAG_CONTEXT <= t.keys() and t["app"] == "snowseg", (r["QUERY_TEXT"], t)
        assert r["USER_NAME"] == "SNOWSEG" and r["WAREHOUSE_NAME"] == "SNOWSEG_WH"
    assert {t["dag"] for _, t in load_q} == {"load_small_file"}
    assert {t["dag"] for _, t in seg_q} == {"segment_customers"}
    # ... and, once known, the batch it loads or the model run it builds
    assert {t.get("batch") for _, t in _after_retag(load_q, "put_and_copy")} == {batch}
    for task in ("profiles", "publish", "summarise"):
        assert {t.get("model_run") for _, t in _after_retag(seg_q, task)} == {model_run}, task
    assert {t["task"] for _, t in seg_q} >= {"quality_gate", "features", "profiles", "publish", "summarise"}

    # the monitor: cost per file = the sum over the history rows tagged with its batch
    (f,) = [f for p in loads["paths"] for f in p["files"] if f["batch_id"] == batch]
    batch_rows = [r for r in rows if json.loads(r["QUERY_TAG"] or "{}").get("batch") == batch]
    _same(f["cost"], _expected(batch_rows))
    assert loads["costs"]["available"] is True and "estimate" in loads["costs"]["note"]

    # ... and per model run: the queries of its DAG run and those tagged with its id
    run_rows = [r for r, _ in seg_q] + [r for r in rows if json.loads(r["QUERY_TAG"] or "{}").get("model_run")
                                        == model_run and r not in [x for x, _ in seg_q]]
    assert segments["run"]["model_run_id"] == model_run
    _same(segments["run"]["cost"], _expected(run_rows))

    page = client.get("/snowseg/").text
    assert "cost (credits, estimate)" in page and 'id="model-run-cost"' in page

    # the run report: the cost section the summarise step added (queries up to its own history read)
    index = Path(os.environ["SNOWSEG_REPORT_DIR"]) / model_run / "index.html"
    text = index.read_text()
    assert '<h2 id="cost">Cost</h2>' in text and "credits" in text and "estimate" in text
    reported = int(text.split(f"Model run {model_run}: ")[1].split(" queries")[0])
    assert 0 < reported < len(run_rows)
