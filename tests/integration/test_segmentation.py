"""The segmentation job on the twin, called directly: customer-level features (RFM + behaviour) and the
scale path (fit on a sample, every row assigned in the warehouse, equal to Python's predict)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration


def _load_and_publish(contract_name: str, path):
    """Load a file with the small-file core and let the gate publish it; return (conn, contract, names)."""
    from snowseg import warehouse
    from snowseg.airflow.tasks import resolve
    from snowseg.loading.checks import check_file
    from snowseg.loading.small_file import load_file
    from snowseg.quality.gate import run_gate
    from tests.conftest import set_up_warehouse

    contract, names = resolve(contract_name)
    set_up_warehouse(names.database, (contract_name,))
    conn = warehouse.connect()
    load_file(conn, check_file(path, contract), contract, names, on_error="ABORT_STATEMENT")
    (v,) = run_gate(conn, contract, names, run_id="gate").verdicts
    assert v.status == "PUBLISHED"
    return conn, contract, names


def test_customer_level_features_are_rfm_plus_behaviour(twin, database, sf, tmp_path):
    """One row per customer: recency, frequency, monetary, basket, tenure, shares; checked against pandas."""
    import pandas as pd

    from snowseg import features as feats
    from snowseg.segmentation import SegmentationParams, run_segmentation

    path = write_sales_csv(tmp_path / "c.csv", 3000, seed=5, contract="supermarket_customers", n_customers=150)
    conn, contract, names = _load_and_publish("supermarket_customers", path)
    with conn.cursor() as cur:
        X = feats.read_features(cur, contract, database=names.database, schema=names.raw)
    raw = pd.read_csv(path)
    raw["Date"] = pd.to_datetime(raw["Date"], format="%m/%d/%Y")
    g = raw.groupby("Customer ID")
    assert len(X) == raw["Customer ID"].nunique()
    cid = X.index[0]
    rows = g.get_group(cid)
    assert X.loc[cid, "FREQUENCY"] == len(rows)
    assert X.loc[cid, "MONETARY"] == pytest.approx(rows["Total"].sum())
    assert X.loc[cid, "AVG_BASKET"] == pytest.approx(rows["Total"].mean())
    assert X.loc[cid, "RECENCY_DAYS"] == (raw["Date"].max() - rows["Date"].max()).days
    with conn.cursor() as cur:  # recency to the run's date (the DAG's default): it ages without new sales
        aged = feats.read_features(cur, contract, database=names.database, schema=names.raw, as_of="2030-01-01")
    assert aged.loc[cid, "RECENCY_DAYS"] == (pd.Timestamp("2030-01-01") - rows["Date"].max()).days
    assert (aged["FREQUENCY"] == X["FREQUENCY"]).all()
    assert X.loc[cid, "TENURE_DAYS"] == (rows["Date"].max() - rows["Date"].min()).days
    assert X.loc[cid, "PAYMENT__CASH"] == pytest.approx((rows["Payment"] == "Cash").mean())
    shares = X[[c for c in X.columns if c.startswith("PRODUCT_LINE__")]].sum(axis=1)
    assert np.allclose(shares, 1.0)

    result = run_segmentation(conn, contract, names, SegmentationParams(k=4, n_runs=10), report_dir=tmp_path / "r")
    assert result.published and result.rows == len(X)
    a = f"{database}.ANALYTICS"
    assert query(sf, f"select count(*), count(distinct ENTITY_ID) from {a}.CURRENT_SEGMENTS") == [(len(X), len(X))]
    assert query(sf, f"select min(ENTITY_ID) like 'C%' from {a}.CURRENT_SEGMENTS") == [(True,)]
    (level, features) = query(sf, f"select FEATURE_LEVEL, FEATURES from {a}.MODEL_RUNS")[0]
    assert level == "customer" and "RECENCY_DAYS" in json.loads(features)
    # customers are named in recency / frequency / monetary words ("Active repeat big spenders · ..."), no tiers
    seg_names = [n for (n,) in query(sf, f"select SEGMENT_NAME from {a}.SEGMENT_PROFILES")]
    assert len(set(seg_names)) == 4 and all(n.split(" · ")[0].endswith(("buyers", "spenders")) for n in seg_names), seg_names
    assert [p.name for p in result.profiles] == sorted(seg_names, key=[p.name for p in result.profiles].index)
    conn.close()


def test_k0_without_a_k_to_choose_raises_typed_after_the_report_and_publishes_nothing(twin, database, sf, tmp_path,
                                                                                       seed_csv):
    """k = 0 on the seed's invoices (no cluster structure: best silhouette 0.19): NoStructure (a KNotChosen)
    carrying the scores, the reason and the report it wrote; no model run, no assignments. A fixed k publishes."""
    from pathlib import Path

    from snowseg.clustering.choose_k import KNotChosen
    from snowseg.segmentation import NoStructure, SegmentationParams, run_segmentation

    conn, contract, names = _load_and_publish("supermarket", seed_csv)
    with pytest.raises(KNotChosen) as caught:
        run_segmentation(conn, contract, names, SegmentationParams(k=0, k_max=6, n_runs=5), report_dir=tmp_path / "r")
    e = caught.value
    assert isinstance(e, NoStructure) and e.reason.startswith("No cluster structure")
    assert [s.k for s in e.scores] == [1, 2, 3, 4, 5, 6] and e.candidate in range(2, 7)
    assert Path(e.report_path).is_file() and f"file://{e.report_path}" in str(e)
    a = f"{database}.ANALYTICS"
    assert query(sf, f"select count(*) from {a}.MODEL_RUNS") == [(0,)]
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS") == [(0,)]
    result = run_segmentation(conn, contract, names, SegmentationParams(k=3, k_max=6, n_runs=5),
                              report_dir=tmp_path / "r")
    assert result.published and result.k_reason.startswith("fixed by params (k = 3); by the scores: No cluster")
    conn.close()


def test_scale_path_assigns_every_row_in_the_warehouse_like_predict(twin, database, sf, tmp_path):
    """Over max_fit_rows: fitted on a hash sample, every row assigned by SQL; the SQL's segment, distance and
    confidence equal the fitted model's on the same rows (predict, distance, share of runs agreeing)."""
    from snowseg import features as feats
    from snowseg.clustering.transform import FeatureTransformer
    from snowseg.segmentation import SegmentationParams, run_segmentation

    conn, contract, names = _load_and_publish("supermarket", write_sales_csv(tmp_path / "s.csv", 2000, seed=9))
    params = SegmentationParams(k=3, n_runs=8, max_fit_rows=500)
    result = run_segmentation(conn, contract, names, params, report_dir=tmp_path / "r")
    assert result.assigned_in == "warehouse" and result.rows == 2000
    a = f"{database}.ANALYTICS"
    (fit_rows, where, transform, centers) = query(
        sf, f"select FIT_ROWS, ASSIGNED_IN, TRANSFORM, CENTERS from {a}.MODEL_RUNS")[0]
    assert where == "warehouse" and 300 < fit_rows < 800  # the hash sample is about max_fit_rows
    assert query(sf, f"select count(*), count(SEGMENT_ID), count(CONFIDENCE) from {a}.CURRENT_SEGMENTS") == [
        (2000, 2000, 2000)]
    # the profiles count every assigned row, not the fit sample's
    assert query(sf, f"select sum(SIZE) from {a}.SEGMENT_PROFILES") == [(2000,)]
    assert query(sf, f"select count(*) from {a}.SEGMENT_PROFILES p join (select SEGMENT_ID, count(*) as N, "
                     f"avg(CONFIDENCE) as C from {a}.CURRENT_SEGMENTS group by 1) c on c.SEGMENT_ID = p.SEGMENT_ID "
                     f"where c.N = p.SIZE and abs(c.C - p.MEAN_CONFIDENCE) < 1e-4") == [(3,)]
    assert sum(p.size for p in result.profiles) == 2000

    # the same rows, assigned in Python from what MODEL_RUNS stores
    with conn.cursor() as cur:
        X = feats.read_features(cur, contract, database=names.database, schema=names.raw)
    t = FeatureTransformer.from_dict(json.loads(transform))
    centers = json.loads(centers)
    C = np.array([c["center"] for c in centers])
    ids = np.array([c["segment_id"] for c in centers])
    Z = t.transform(X[t.feature_names_in_])
    d = ((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    expected = dict(zip(X.index, ids[d.argmin(axis=1)]))
    got = query(sf, f"select ENTITY_ID, SEGMENT_ID, DISTANCE, CONFIDENCE from {a}.CURRENT_SEGMENTS")
    assert sum(expected[e] == s for e, s, _, _ in got) == 2000
    dist = dict(zip(X.index, np.sqrt(d.min(axis=1))))
    assert all(abs(dist[e] - dd) <= 1e-6 * max(1.0, dist[e]) for e, _, dd, _ in got)
    # confidence: the share of the ensemble's runs whose own nearest centre (stored per run) is the segment
    R = np.array([c["runs"] for c in centers])  # (k, runs, features)
    votes = ((Z[:, None, None, :] - R[None]) ** 2).sum(axis=3).argmin(axis=1)  # (rows, runs): index of the nearest
    share = dict(zip(X.index, (votes == d.argmin(axis=1)[:, None]).mean(axis=1)))
    assert all(abs(share[e] - c) < 1e-9 for e, *_, c in got)
    assert sorted({round(c, 6) for *_, c in got}) != [1.0]  # not every row is certain
    # staging is left empty after publishing
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS_STAGE") == [(0,)]
    conn.close()


def test_tables_of_an_earlier_version_get_the_new_columns(bare_database, sf):
    """MODEL_RUNS / SEGMENT_PROFILES created by an earlier Snowseg (whose DAGs created them, without the ensemble's
    columns) are extended in place by the versioned setup, rows kept; applying it again changes nothing."""
    from snowseg import migrations
    from tests.conftest import set_up_warehouse

    database = bare_database
    with sf.cursor() as cur:
        cur.execute(f"create database if not exists {database}")
        cur.execute(f"create schema if not exists {database}.ANALYTICS")
        # the first Snowseg's MODEL_RUNS had CONTRACT (the dataset) from the start
        cur.execute(f"create table {database}.ANALYTICS.MODEL_RUNS (MODEL_RUN_ID varchar(64) not null, "
                    "CONTRACT varchar not null, K number(4, 0))")
        cur.execute(f"insert into {database}.ANALYTICS.MODEL_RUNS values ('mr_old', 'supermarket_sales', 3)")
        cur.execute(f"create table {database}.ANALYTICS.SEGMENT_PROFILES (MODEL_RUN_ID varchar(64), SEGMENT_ID number(4, 0))")
        cur.execute(f"create table {database}.ANALYTICS.SEGMENT_ASSIGNMENTS (ENTITY_ID varchar not null, SEGMENT_ID "
                    "number(4, 0) not null, SEGMENT_NAME varchar not null, CONFIDENCE float, DISTANCE float, "
                    "MODEL_RUN_ID varchar(64) not null, VALID_FROM timestamp_ntz not null, VALID_TO timestamp_ntz)")
        cur.execute(f"insert into {database}.ANALYTICS.SEGMENT_ASSIGNMENTS values "
                    "('I-1', 0, 'Low spend', 1.0, 0.5, 'mr_old', '2026-01-01 00:00:00', null)")
    for _ in range(2):
        set_up_warehouse(database)
    cols = {(t, c) for t, c in query(sf, f"select TABLE_NAME, COLUMN_NAME from {database}.INFORMATION_SCHEMA.COLUMNS "
                                         "where TABLE_SCHEMA = 'ANALYTICS'")}
    for table, migration in (("MODEL_RUNS", "V009__model_runs.sql"), ("SEGMENT_PROFILES", "V008__segment_profiles.sql"),
                             ("MODEL_RUNS", "V014__segment_migrations.sql"),
                             ("SEGMENT_ASSIGNMENTS", "V014__segment_migrations.sql"),
                             ("SEGMENT_PROFILES", "V015__segment_rules.sql")):
        sql = (migrations.MIGRATIONS_DIR / "database" / migration).read_text()
        added = re.findall(rf"alter table .*\.{table} add column if not exists (\w+)", sql)
        assert added and {(table, c) for c in added} <= cols, (table, added)
    versions = query(sf, f"select VERSION, count(*) from {database}.AUDIT.SCHEMA_VERSION group by 1")
    assert all(n == 1 for _, n in versions) and ("database/V009", 1) in versions  # each applied once
    assert query(sf, f"select MODEL_RUN_ID, K, N_RUNS from {database}.ANALYTICS.MODEL_RUNS") == [("mr_old", 3, None)]
    # assignments written before segments were kept per dataset take their model run's dataset
    assert query(sf, f"select DATASET, ENTITY_ID, MODEL_RUN_ID from {database}.ANALYTICS.CURRENT_SEGMENTS") == [
        ("supermarket_sales", "I-1", "mr_old")]


def test_datasets_keep_their_own_current_segments(twin, bare_database, sf, tmp_path):
    """Two datasets segmented one after the other: each keeps its current segments, its model runs and its
    own segment ids; re-segmenting one (another k) never closes the other's assignments."""
    from snowseg.segmentation import SegmentationParams, run_segmentation

    database = bare_database
    conn_a, a_contract, names = _load_and_publish("supermarket", write_sales_csv(tmp_path / "a.csv", 400, seed=3))
    conn_b, b_contract, _ = _load_and_publish(
        "supermarket_customers",
        write_sales_csv(tmp_path / "b.csv", 600, seed=4, contract="supermarket_customers", n_customers=60))
    a = f"{database}.ANALYTICS"
    first = run_segmentation(conn_a, a_contract, names, SegmentationParams(k=3, n_runs=5), report_dir=tmp_path / "r")
    run_segmentation(conn_b, b_contract, names, SegmentationParams(k=2, n_runs=5), report_dir=tmp_path / "r")
    n_b = len({line.split(",")[1] for line in (tmp_path / "b.csv").read_text().splitlines()[1:]})  # Customer ID
    current = f"select DATASET, count(*), min(SEGMENT_ID), max(SEGMENT_ID) from {a}.CURRENT_SEGMENTS group by 1 order by 1"
    assert query(sf, current) == [("supermarket_sales", 400, 0, 2), ("supermarket_sales_customers", n_b, 0, 1)]
    # B again with another k: a new run of B; A's assignments stay open and unchanged
    again = run_segmentation(conn_b, b_contract, names, SegmentationParams(k=3, n_runs=5), report_dir=tmp_path / "r")
    assert again.published
    assert query(sf, current) == [("supermarket_sales", 400, 0, 2), ("supermarket_sales_customers", n_b, 0, 2)]
    assert query(sf, f"select distinct MODEL_RUN_ID from {a}.CURRENT_SEGMENTS where DATASET = 'supermarket_sales'"
                 ) == [(first.model_run_id,)]
    assert query(sf, f"select count(*) from {a}.SEGMENT_ASSIGNMENTS where DATASET = 'supermarket_sales' "
                     "and VALID_TO is not null") == [(0,)]
    assert query(sf, f"select CONTRACT, count(*) from {a}.MODEL_RUNS group by 1 order by 1") == [
        ("supermarket_sales", 1), ("supermarket_sales_customers", 2)]
    # the loads monitor lists every dataset's current run beside the latest one's profiles
    from snowseg import monitor

    with conn_a.cursor() as cur:
        shown = monitor.latest_segments(cur, names)
    assert shown["run"]["model_run_id"] == again.model_run_id and shown["run"]["contract"] == b_contract.name
    assert [(d["contract"], d["model_run_id"]) for d in shown["datasets"]] == [
        ("supermarket_sales", first.model_run_id), ("supermarket_sales_customers", again.model_run_id)]
    # A again on the same data and params: its own run is still current, so nothing is written
    assert not run_segmentation(conn_a, a_contract, names, SegmentationParams(k=3, n_runs=5),
                                report_dir=tmp_path / "r").published
    conn_a.close()
    conn_b.close()


def test_stages_hand_over_through_the_workspace_and_retry_alone(twin, database, sf, tmp_path):
    """Each stage reads what the one before wrote: run one by one, a stage run twice (a retry) gives the same
    output, a stage whose input is missing names the stage to run first, and the published run is the same
    as run_segmentation's on the same data and params."""
    from snowseg.segmentation import SegmentationParams, run_segmentation, stages
    from snowseg.segmentation.workspace import Workspace, WorkspaceMissing

    conn, contract, names = _load_and_publish("supermarket", write_sales_csv(tmp_path / "s.csv", 500, seed=21))
    params = SegmentationParams(k=3, n_runs=6)
    ws = Workspace.for_run("manual__2026-12-05T10:00:00+00:00", root=tmp_path / "work")
    with pytest.raises(WorkspaceMissing) as missing:
        stages.ensemble(ws)
    assert missing.value.stage == "features" and missing.value.path.name == "meta.json"
    out = stages.features(conn, contract, names, params, ws, report_dir=tmp_path / "r")
    assert out["rows"] == 500 and (ws.path / "features.parquet").is_file()
    assert stages.k_scores(contract, ws)["k"] == 3
    first = stages.ensemble(ws)
    labels = ws.load_arrays("ensemble")["labels"]
    assert stages.ensemble(ws) == first and (ws.load_arrays("ensemble")["labels"] == labels).all()  # a retry
    stages.profiles(conn, contract, names, ws)
    page = stages.report(contract, ws)["report_path"]
    assert page.endswith(f"{out['model_run_id']}/index.html")
    result = stages.publish(conn, contract, names, ws)
    assert result.published and result.model_run_id == out["model_run_id"]
    assert stages.publish(conn, contract, names, ws).published is False  # a retried publish writes nothing
    a = f"{database}.ANALYTICS"
    assert query(sf, f"select count(*) from {a}.CURRENT_SEGMENTS where MODEL_RUN_ID = '{out['model_run_id']}'") == [
        (500,)]
    # the library path (one call, private folder) is the same run: nothing new is published
    assert not run_segmentation(conn, contract, names, params, report_dir=tmp_path / "r").published
    ws.remove()
    assert not ws.path.exists()
    conn.close()
