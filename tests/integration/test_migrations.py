"""Segment migrations, drift and the refit policy (issue 16, part C), as real segment_customers runs on the twin.

Customer-level data (the ``supermarket_customers`` contract): a first file, a first run (a refit: "first run"); the
same run again (nothing new); more invoices of the same customers, a second run (assign only: every customer
assigned in the warehouse to the first run's centroids, with the migration matrix, the moved share and the drift);
new customers and a lower drift threshold, a third run (a refit: "drift ... > ..."). The tests read the tables, the
run report and the loads monitor's /api/segments and page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration

CONTRACT = "supermarket_customers"
SEG = {"contract": CONTRACT, "k": 3, "n_runs": 5, "k_max": 4, "refit": "policy", "max_drift": None}


def _part(src: Path, dst: Path, start: int, stop: int) -> Path:
    """Data rows `start` to `stop` of `src` (header kept): one file of a generated stream of invoices."""
    lines = src.read_text().splitlines(keepends=True)
    dst.write_text(lines[0] + "".join(lines[1 + start:1 + stop]))
    return dst


def _latest_run(sf, a: str) -> dict:
    cols = ("MODEL_RUN_ID", "RUN_KIND", "REFIT_REASON", "REFIT_RUN_ID", "DRIFT", "DRIFT_BY_SEGMENT", "MIGRATION",
            "MOVED_SHARE", "CENTROID_SHIFT", "K", "ASSIGNED_IN", "FIT_ROWS", "CENTERS", "TRANSFORM")
    (row,) = query(sf, f"select {', '.join(cols)} from {a}.MODEL_RUNS order by PUBLISHED_AT desc limit 1")
    return dict(zip(cols, row, strict=True))


def _check_matrix(sf, a: str, run: dict) -> dict:
    """The run's migration matrix adds up to its customers and those that left, and matches its assignments'
    PREVIOUS_SEGMENT_ID row for row."""
    m = json.loads(run["MIGRATION"])
    n_now = query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS where MODEL_RUN_ID = %s", (run["MODEL_RUN_ID"],))
    assert sum(c["count"] for c in m["cells"]) == m["total"] == n_now[0][0] + m["left"]
    assert m["stayed"] + m["moved"] + m["new"] + m["left"] == m["total"]
    pairs = query(sf, f"select PREVIOUS_SEGMENT_ID, SEGMENT_ID, count(*) from {a}.SEGMENT_ASSIGNMENTS "
                      f"where MODEL_RUN_ID = %s group by 1, 2", (run["MODEL_RUN_ID"],))
    assert {(f, t): n for f, t, n in pairs} == {(c["from"], c["to"]): c["count"] for c in m["cells"] if c["to"] is not None}
    assert sum(n for f, t, n in pairs if f is not None and f != t) == m["moved"]
    if m["stayed"] + m["moved"]:
        assert run["MOVED_SHARE"] == pytest.approx(m["moved"] / (m["stayed"] + m["moved"]), abs=1e-6)
    for c in m["cells"]:  # shares of all customers and of the row
        row = sum(d["count"] for d in m["cells"] if d["from"] == c["from"])
        assert c["share"] == pytest.approx(c["count"] / m["total"], abs=1e-6)
        assert c["row_share"] == pytest.approx(c["count"] / row, abs=1e-6)
    return m


@pytest.fixture()
def client(airflow_db):
    """The loads monitor as the api-server mounts it, logged in as the UI's admin."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    from tests.integration.test_monitor import _token

    with TestClient(create_app()) as c:
        c.headers["Authorization"] = f"Bearer {_token(c)}"
        yield c


def test_two_runs_on_changed_data_show_migrations_drift_and_the_refit_decision(run_dag, sf, bare_database, tmp_path,
                                                                              client):
    from tests.conftest import set_up_warehouse

    set_up_warehouse(bare_database, (CONTRACT,))
    a = f"{bare_database}.ANALYTICS"
    whole = write_sales_csv(tmp_path / "whole.csv", 4800, seed=5, contract=CONTRACT, n_customers=150)
    first = _part(whole, tmp_path / "first.csv", 0, 3000)
    second = _part(whole, tmp_path / "second.csv", 3000, 3600)  # 600 more invoices of the same customers

    def load(path: Path) -> None:
        dr, states = run_dag("load_small_file", file_path=str(path), contract=CONTRACT, on_error="ABORT_STATEMENT")
        assert dr.state == "success", states

    # 1. the first run refits: "first run"; every customer is new
    load(first)
    dr, states = run_dag("segment_customers", **SEG)
    assert dr.state == "success", states
    assert states["k_scores"] == states["ensemble"] == "success" and states["assign"] == "skipped"
    r1 = _latest_run(sf, a)
    assert (r1["RUN_KIND"], r1["REFIT_REASON"], r1["REFIT_RUN_ID"], r1["DRIFT"]) == ("refit", "first run", None, None)
    m1 = _check_matrix(sf, a, r1)
    (customers,) = query(sf, f"select count(*) from {a}.CURRENT_SEGMENTS")[0]
    assert (m1["new"], m1["left"], m1["moved"], m1["moved_share"], m1["total"]) == (customers, 0, 0, None, customers)
    assert query(sf, f"select count(*) from {a}.CURRENT_SEGMENTS where PREVIOUS_SEGMENT_ID is not null") == [(0,)]

    # re-running the same run on the same data duplicates nothing
    dr, _ = run_dag("segment_customers", **SEG)
    assert dr.state == "success"
    assert query(sf, f"select count(*) from {a}.MODEL_RUNS") == [(1,)]
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS") == [(customers,)]

    # 2. more invoices of the same customers: assign only (drift measured from the first run, within the policy)
    load(second)
    dr, states = run_dag("segment_customers", **SEG)
    assert dr.state == "success", states
    assert states["k_scores"] == states["ensemble"] == "skipped", states
    assert states["assign"] == states["profiles"] == states["publish"] == "success"
    r2 = _latest_run(sf, a)
    assert r2["RUN_KIND"] == "assign" and r2["REFIT_RUN_ID"] == r1["MODEL_RUN_ID"], r2["REFIT_REASON"]
    assert r2["REFIT_REASON"] == f"assign only: drift {r2['DRIFT']:.2f} ≤ 0.25, last refit 0 days ago"
    assert r2["ASSIGNED_IN"] == "warehouse" and r2["FIT_ROWS"] is None and r2["K"] == 3
    # the first run's model, carried: the same centres and transform
    assert json.loads(r2["CENTERS"]) == json.loads(r1["CENTERS"])
    assert json.loads(r2["TRANSFORM"]) == json.loads(r1["TRANSFORM"])
    by_segment = json.loads(r2["DRIFT_BY_SEGMENT"])
    assert sorted(by_segment) == ["0", "1", "2"]
    assert r2["DRIFT"] == pytest.approx(max(v["scaled"] for v in by_segment.values()))
    assert 0 < r2["DRIFT"] <= 0.25
    m2 = _check_matrix(sf, a, r2)
    (now,) = query(sf, f"select count(*) from {a}.CURRENT_SEGMENTS")[0]
    # the same customers with more invoices (and the few whose first invoice is in the second file: new)
    assert m2["left"] == 0 and m2["stayed"] + m2["moved"] == customers and m2["new"] == now - customers
    assert m2["moved"] > 0 and m2["new"] > 0, m2  # more purchases move some of them
    assert query(sf, f"select count(*) from {a}.CURRENT_SEGMENTS where PREVIOUS_SEGMENT_ID is null") == [(m2["new"],)]
    shifts = {s["segment_id"]: s for s in json.loads(r2["CENTROID_SHIFT"])}
    assert sorted(shifts) == [0, 1, 2] and all(s["previous"] and s["scaled"] > 0 for s in shifts.values())
    centers = {(r, sid): json.loads(c) for r, sid, c in query(
        sf, f"select MODEL_RUN_ID, SEGMENT_ID, CENTER from {a}.SEGMENT_PROFILES")}
    for sid, s in shifts.items():  # the shift is the change of the segment's mean (SEGMENT_PROFILES.CENTER)
        before, after = centers[(r1["MODEL_RUN_ID"], sid)], centers[(r2["MODEL_RUN_ID"], sid)]
        assert s["delta"] == pytest.approx({f: after[f] - before[f] for f in after}, abs=1e-5)
    # between refits the drift from the last refit equals the shift since the previous run (the same refit)
    assert r2["DRIFT"] == pytest.approx(max(s["scaled"] for s in shifts.values()), rel=1e-6)

    # re-running it takes the same path (assign) and writes nothing
    n_rows = query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS")
    dr, states = run_dag("segment_customers", **SEG)
    assert dr.state == "success" and states["assign"] == "success" and states["k_scores"] == "skipped", states
    assert query(sf, f"select count(*) from {a}.MODEL_RUNS") == [(2,)]
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS") == n_rows

    # the run report shows the decision, the matrix (table and heatmap) and the shifts
    report_dir = Path(os.environ["SNOWSEG_REPORT_DIR"]) / r2["MODEL_RUN_ID"]
    page = (report_dir / "index.html").read_text()
    assert "Migrations and drift" in page and r2["REFIT_REASON"] in page and "id='migration'" in page
    assert f"{m2['moved']:,} moved" in page and "id='centroid-shift'" in page
    assert (report_dir / "migration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "migration.png" in page

    # the loads monitor: /api/segments and the page show the same figures for the latest run
    seg = client.get("/snowseg/api/segments").json()
    g = seg["migration"]
    assert (g["run_kind"], g["refit_reason"], g["refit_run_id"]) == ("assign", r2["REFIT_REASON"], r1["MODEL_RUN_ID"])
    assert g["moved_share"] == pytest.approx(r2["MOVED_SHARE"]) and g["drift"] == pytest.approx(r2["DRIFT"])
    assert g["totals"]["moved"] == m2["moved"] and g["columns"] == [0, 1, 2]
    assert sum(c["count"] or 0 for row in g["rows"] for c in row["cells"]) == m2["total"]
    assert len(g["shifts"]) == 3
    page = client.get("/snowseg/").text
    assert 'id="migration"' in page and r2["REFIT_REASON"] in page

    # 3. more invoices, and a threshold below the drift (measured from the first run, it accumulates): a refit
    third = _part(whole, tmp_path / "third.csv", 3600, 4800)
    load(third)
    dr, states = run_dag("segment_customers", **{**SEG, "max_drift": 0.01})
    assert dr.state == "success", states
    assert states["k_scores"] == states["ensemble"] == "success" and states["assign"] == "skipped"
    r3 = _latest_run(sf, a)
    assert r3["RUN_KIND"] == "refit" and r3["REFIT_RUN_ID"] is None and r3["DRIFT"] > 0.01
    assert r3["REFIT_REASON"] == f"drift {r3['DRIFT']:.2f} > 0.01"
    m3 = _check_matrix(sf, a, r3)
    assert m3["left"] == 0
    assert query(sf, f"select count(*) from {a}.MODEL_RUNS") == [(3,)]
    # one open row per customer, each with its previous segment when it had one
    assert query(sf, f"select count(*), count(distinct ENTITY_ID) from {a}.CURRENT_SEGMENTS") == [
        (m3["total"], m3["total"])]
    assert query(sf, f"select count(*) from {a}.CURRENT_SEGMENTS where PREVIOUS_SEGMENT_ID is null") == [(m3["new"],)]


def test_schedule_and_forced_refits(run_dag, sf, bare_database, tmp_path):
    """A refit forced by the params, then the schedule: the last refit made to look 8 days old refits."""
    from tests.conftest import set_up_warehouse

    set_up_warehouse(bare_database, (CONTRACT,))
    a = f"{bare_database}.ANALYTICS"
    whole = write_sales_csv(tmp_path / "whole.csv", 2400, seed=9, contract=CONTRACT, n_customers=120)
    lines = whole.read_text().splitlines(keepends=True)
    parts = [tmp_path / f"p{i}.csv" for i in range(3)]
    for i, p in enumerate(parts):
        p.write_text(lines[0] + "".join(lines[1 + 800 * i:1 + 800 * (i + 1)]))
    for i, p in enumerate(parts):
        assert run_dag("load_small_file", file_path=str(p), contract=CONTRACT,
                       on_error="ABORT_STATEMENT")[0].state == "success"
        if i == 0:
            assert run_dag("segment_customers", **SEG)[0].state == "success"
        elif i == 1:
            dr, states = run_dag("segment_customers", **{**SEG, "refit": "now"})
            assert dr.state == "success" and states["assign"] == "skipped", states
            assert _latest_run(sf, a)["REFIT_REASON"] == "forced by the run's params"
        else:
            sf.cursor().execute(f"update {a}.MODEL_RUNS set PUBLISHED_AT = dateadd(day, -8, PUBLISHED_AT)")
            dr, states = run_dag("segment_customers", **SEG)
            assert dr.state == "success" and states["assign"] == "skipped", states
            assert _latest_run(sf, a)["REFIT_REASON"] == "schedule: last refit 8 days ago (every 7 days)"
