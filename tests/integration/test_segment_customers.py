"""segment_customers as a real Airflow run against the twin: assignments, model run, plot, re-runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.conftest import query
from tests.integration.rules_checks import assert_rules_shown, published_rules

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
    assert len(names) == 3
    (run,) = query(sf, f"select MODEL_RUN_ID, K, ROW_COUNT, SCORES_BY_K, AIRFLOW_RUN_ID, K_REASON, K_CHOICE, N_RUNS, "
                       f"STRUCTURED, TRANSFORM, CENTERS, ASSIGNED_IN from {a}.MODEL_RUNS")
    model_run_id, k, rows, scores, airflow_run, k_reason, k_choice, n_runs, structured, transform, centers, where = run
    assert (k, rows, airflow_run, n_runs, where) == (3, 1000, dr.run_id, 20, "python")
    inertias = [s["inertia"] for s in json.loads(scores)]
    assert [s["k"] for s in json.loads(scores)] == list(range(1, 11))
    assert inertias == sorted(inertias, reverse=True)  # the elbow curve falls with k
    assert all(s["silhouette"] is not None and s["stability"] is not None for s in json.loads(scores)[1:])
    # MODEL_RUNS explains k: fixed at the seed's 3, and what the scores say about the seed's data
    assert k_reason.startswith("fixed by params (k = 3); by the scores: ")
    assert json.loads(k_choice)["reason"] in k_reason and structured is False  # the seed file has no strong clusters
    assert json.loads(transform)["kind"] == "snowseg.FeatureTransformer"
    assert sorted(c["segment_id"] for c in json.loads(centers)) == [0, 1, 2]

    # mean spend orders the names: the seed's low / mid / high paying customers
    by_spend = [n for n, _ in query(sf, f"select SEGMENT_NAME, MEAN_AMOUNT from {a}.SEGMENT_PROFILES order by 2")]
    assert [n.split(" · ")[0] for n in by_spend] == ["Low spend", "Mid spend", "High spend"]
    assert query(sf, f"select sum(SIZE) from {a}.SEGMENT_PROFILES") == [(1000,)]
    conf = query(sf, f"select min(CONFIDENCE), max(CONFIDENCE) from {a}.CURRENT_SEGMENTS")[0]
    assert 0.0 <= conf[0] <= conf[1] <= 1.0
    # every segment has a stability (clusterboot Jaccard) in a band, and the mean confidence of its rows
    for stability, band, mean_conf, size in query(
            sf, f"select STABILITY, STABILITY_BAND, MEAN_CONFIDENCE, SIZE from {a}.SEGMENT_PROFILES"):
        assert 0 <= stability <= 1 and band in {"highly stable", "stable", "doubtful", "dissolved"}
        assert 0 < mean_conf <= 1 and size > 0
    per_segment = query(sf, f"select p.MEAN_CONFIDENCE, avg(c.CONFIDENCE) from {a}.SEGMENT_PROFILES p join "
                            f"{a}.CURRENT_SEGMENTS c on c.SEGMENT_ID = p.SEGMENT_ID group by 1")
    assert all(abs(m - c) < 1e-3 for m, c in per_segment)

    report_dir = Path(os.environ["SNOWSEG_REPORT_DIR"]) / model_run_id
    page = (report_dir / "index.html").read_text()
    for png in ("elbow", "profiles", "confidence", "pca"):
        assert (report_dir / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"{png}.png" in page
    assert "no clear cluster structure" in page  # the report says what the scores say
    # rules people can read, in the profiles and the report: the seed's segments follow spend, price and quantity
    seed_rules = assert_rules_shown(sf, database, min_fidelity=0.85, min_accuracy=0.85)
    assert {c["column"] for p in seed_rules.values() for r in p["rules"] for c in r["conditions"]} <= {
        "TOTAL", "UNIT_PRICE", "QUANTITY", "RATING"}

    # the unit tests' pandas copy of the feature query (tests/unit/seed_features.py) is what the warehouse
    # returns, and the published segments are the seed's least-inertia partition at k = 3 (issue 13)
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from snowseg import features as feats
    from snowseg.airflow.tasks import resolve
    from tests.unit.seed_features import seed_feature_frame, seed_feature_matrix

    contract, names = resolve("supermarket")
    with sf.cursor() as cur:
        got = feats.read_features(cur, contract, database=names.database, schema=names.raw)
    pd.testing.assert_frame_equal(got, seed_feature_frame(seed_csv), check_exact=False, rtol=1e-12)
    best = KMeans(n_clusters=3, n_init=200, random_state=0).fit(seed_feature_matrix(seed_csv)).labels_
    published = dict(query(sf, f"select ENTITY_ID, SEGMENT_ID from {a}.CURRENT_SEGMENTS"))
    assert adjusted_rand_score(best, [published[e] for e in got.index]) >= 0.99

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
    # back to k = 3: a new run (not the first one's id), and the current segments are k = 3 again
    dr4, _ = run_dag("segment_customers", k=3)  # explicit: dag.test() can carry the last conf over
    assert dr4.state == "success"
    assert query(sf, f"select count(*), count(distinct MODEL_RUN_ID), count(distinct FINGERPRINT) from {a}.MODEL_RUNS") == [
        (3, 3, 2)]
    assert query(sf, f"select count(distinct SEGMENT_ID) from {a}.CURRENT_SEGMENTS") == [(3,)]
    assert query(sf, f"select count(*) from {a}.MODEL_RUNS where FOLLOWS is not null") == [(2,)]
    # same data and parameters, another model run (its segment ids carried over from the k = 2 run): the same rules
    ((again,),) = query(sf, f"select MODEL_RUN_ID from {a}.MODEL_RUNS order by PUBLISHED_AT desc limit 1")
    assert again != model_run_id

    def by_name(rules: dict) -> dict[str, tuple]:
        return {p["name"]: ([{k: v for k, v in r.items() if k != "segment_id"} for r in p["rules"]], p["accuracy"],
                            p["recall"], p["fidelity"]) for p in rules.values()}

    assert by_name(published_rules(sf, database, again)) == by_name(seed_rules)
    dr5, _ = run_dag("segment_customers", k=3)  # and that run, re-run, publishes nothing
    assert dr5.state == "success" and query(sf, f"select count(*) from {a}.MODEL_RUNS") == [(3,)]
    # one open row per entity after the runs
    assert query(sf, f"select count(*) from (select ENTITY_ID from {a}.SEGMENT_ASSIGNMENTS where VALID_TO is null "
                     f"group by 1 having count(*) > 1)") == [(0,)]


def test_segment_without_data_fails_clearly(run_dag, database):
    """No data yet: the gate has nothing to judge, and the features stage fails saying to load a file first;
    the later stages do not run."""
    dr, states = run_dag("segment_customers")
    assert dr.state == "failed"
    assert states["quality_gate"] == "success" and states["features"] == "failed"
    assert {states[t] for t in ("k_scores", "ensemble", "profiles", "report", "publish", "summarise")} == {
        "upstream_failed"}


def test_segment_ids_carry_over_and_k_can_be_chosen(run_dag, sf, database, seed_csv):
    """Another seed finds the same high-spend segment: it keeps its id. k = 0 chooses k by the rule; on the
    seed's data (no strong clusters) the run fails saying so, after writing its report, and publishes nothing."""
    assert run_dag("load_small_file", file_path=str(seed_csv))[0].state == "success"
    a = f"{database}.ANALYTICS"
    assert run_dag("segment_customers", random_state=1)[0].state == "success"
    first = dict(query(sf, f"select SEGMENT_NAME, SEGMENT_ID from {a}.SEGMENT_PROFILES"))
    high = next(n for n in first if n.startswith("High spend"))
    assert run_dag("segment_customers", random_state=2)[0].state == "success"
    (matches,) = query(sf, f"select SEGMENT_MATCHES from {a}.MODEL_RUNS order by PUBLISHED_AT desc limit 1")[0]
    second = query(sf, f"select p.SEGMENT_NAME, p.SEGMENT_ID from {a}.SEGMENT_PROFILES p join {a}.MODEL_RUNS r "
                       f"on r.MODEL_RUN_ID = p.MODEL_RUN_ID order by r.PUBLISHED_AT desc limit 3")
    high2 = next(sid for n, sid in second if n.startswith("High spend"))
    assert high2 == first[high], (first, second, matches)
    assert any(m["previous"] == first[high] for m in json.loads(matches))

    dr, states = run_dag("segment_customers", k=0)
    assert dr.state == "failed" and states["features"] == "success" and states["k_scores"] == "failed"
    assert states["ensemble"] == "upstream_failed"
    assert query(sf, f"select count(*) from {a}.MODEL_RUNS") == [(2,)]
