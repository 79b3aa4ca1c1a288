"""segment_customers as a real Airflow run against the twin: assignments, model run, plot, re-runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.conftest import query

pytestmark = pytest.mark.integration


def test_seed_segments_k3_and_rerun_publishes_nothing_twice(run_dag, sf, database, seed_csv):
    """1,000 assignments over 3 segments, one model run, an elbow PNG; re-running writes no new rows."""
    assert run_dag("load_small_file", file_path=str(seed_csv))[0].state == "success"
    dr, states = run_dag("segment_customers")
    assert dr.state == "success", states

    a = f"{database}.ANALYTICS"
    assert query(sf, f"select count(*), count(distinct ENTITY_ID), count(distinct SEGMENT_ID) from {a}.CURRENT_SEGMENTS") == [
        (1000, 1000, 3)
    ]
    names = {r[0] for r in query(sf, f"select distinct SEGMENT_NAME from {a}.CURRENT_SEGMENTS")}
    assert names == {"Low spend", "Mid spend", "High spend"}
    (run,) = query(sf, f"select MODEL_RUN_ID, K, ROW_COUNT, SCORES_BY_K, AIRFLOW_RUN_ID from {a}.MODEL_RUNS")
    model_run_id, k, rows, scores, airflow_run = run
    assert (k, rows, airflow_run) == (3, 1000, dr.run_id)
    inertias = [s["inertia"] for s in json.loads(scores)]
    assert [s["k"] for s in json.loads(scores)] == list(range(1, 11))
    assert inertias == sorted(inertias, reverse=True)  # the elbow curve falls with k

    # mean spend orders the names
    by_name = dict(query(sf, f"select SEGMENT_NAME, MEAN_AMOUNT from {a}.SEGMENT_PROFILES"))
    assert by_name["Low spend"] < by_name["Mid spend"] < by_name["High spend"]
    assert query(sf, f"select sum(SIZE) from {a}.SEGMENT_PROFILES") == [(1000,)]
    conf = query(sf, f"select min(CONFIDENCE), max(CONFIDENCE) from {a}.CURRENT_SEGMENTS")[0]
    assert 0.0 <= conf[0] <= conf[1] <= 1.0

    report_dir = Path(os.environ["SNOWSEG_REPORT_DIR"]) / model_run_id
    assert (report_dir / "elbow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "elbow.png" in (report_dir / "index.html").read_text()

    # the writeback's staging table and stage are left empty after publishing
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS_STAGE") == [(0,)]
    assert query(sf, f"list @{a}.SNOWSEG_WRITEBACK") == []

    # same data, same params: nothing new is published
    dr2, _ = run_dag("segment_customers")
    assert dr2.state == "success"
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS") == [(1000,)]
    assert query(sf, f"select count(*) from {a}.MODEL_RUNS") == [(1,)]

    # a different k is a new model: history closes the old rows, the view shows only the new run
    dr3, _ = run_dag("segment_customers", k=2)
    assert dr3.state == "success"
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS") == [(2000,)]
    assert query(sf, f"select count(*), count(distinct SEGMENT_ID) from {a}.CURRENT_SEGMENTS") == [(1000, 2)]
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS where VALID_TO is not null") == [(1000,)]


def test_segment_without_data_fails_clearly(run_dag, database):
    """No data yet: the gate has nothing to judge, and segment fails saying to load a file first."""
    dr, states = run_dag("segment_customers")
    assert dr.state == "failed"
    assert states["quality_gate"] == "success" and states["segment"] == "failed"
