"""Known answers per data shape (issue 13): order lines without an invoice id, and a customer table.

Each shape's synthetic file (``devstack/snowseg_twin/shapes.py``: planted customer groups) is loaded through the
real ``load_small_file`` DAG with ``{"contract": <name>}``, judged by the quality gate, segmented by
``run_segmentation``; the tests check rows in tables: exact features of hand-computed customers, the gate's rule
per level, and published segments that recover the planted groups.
"""

from __future__ import annotations

import pytest

from snowseg_twin.shapes import KNOWN_FEATURES, write_customers_csv, write_orders_csv
from tests.conftest import set_up_warehouse
from tests.integration.conftest import dag_test, query
from tests.integration.rules_checks import assert_rules_shown

pytestmark = pytest.mark.integration


@pytest.fixture()
def shaped(dagbag, twin, bare_database):
    """A database set up for one contract only; returns a loader running load_small_file with that contract."""

    def _load(contract: str, path) -> tuple:
        set_up_warehouse(bare_database, (contract,), snowpipe=False)
        dr = dag_test(dagbag.get_dag("load_small_file"), {"file_path": str(path), "contract": contract})
        states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
        assert dr.state == "success", states
        return bare_database

    return _load


def _gate_and_segment(contract_name: str):
    """The gate, then the segmentation at k = 3; returns (contract, names, gate verdicts, feature frame)."""
    from snowseg import features as feats
    from snowseg import warehouse
    from snowseg.airflow.tasks import resolve
    from snowseg.quality.gate import run_gate
    from snowseg.segmentation import SegmentationParams, run_segmentation

    contract, names = resolve(contract_name)
    conn = warehouse.connect()
    try:
        verdicts = run_gate(conn, contract, names, run_id=f"gate_{contract_name}").verdicts
        with conn.cursor() as cur:
            X = feats.read_features(cur, contract, database=names.database, schema=names.raw)
        result = run_segmentation(conn, contract, names, SegmentationParams(k=3, n_runs=8), run_id=f"seg_{contract_name}")
    finally:
        conn.close()
    assert result.published
    return contract, names, verdicts, X


def _ari(sf, database: str, groups: dict[str, str]) -> float:
    from sklearn.metrics import adjusted_rand_score

    published = dict(query(sf, f"select ENTITY_ID, SEGMENT_ID from {database}.ANALYTICS.CURRENT_SEGMENTS"))
    ids = sorted(groups)
    return adjusted_rand_score([groups[i] for i in ids], [published[i] for i in ids])


def test_orders_without_invoice_id_segment_customers_by_purchase_days(shaped, sf, tmp_path):
    """customer,date,quantity,amount lines: FREQUENCY counts distinct dates, the gate has no row key (equal lines
    are kept), and the three planted groups come back."""
    import pandas as pd

    path, groups = write_orders_csv(tmp_path / "orders.csv")
    database = shaped("orders", path)
    lines = pd.read_csv(path, dtype={"customer_id": str, "amount": str})
    assert query(sf, f"select count(*), count(distinct CUSTOMER_ID) from {database}.RAW.ORDERS_RAW") == [
        (len(lines), len(groups) + 1)]

    contract, names, verdicts, X = _gate_and_segment("orders")
    (v,) = verdicts
    assert (v.status, v.quarantined) == ("PUBLISHED", 0)
    rules = {r[0] for r in query(sf, f"select EXPECTATION from {database}.AUDIT.DQ_RESULTS")}
    assert not any(r.startswith("unique") for r in rules) and "not_null:ORDER_DATE" in rules

    # the hand-written customer: two orders on 2 June are one purchase day
    assert X.loc["KNOWN-1"].to_dict() == {c: KNOWN_FEATURES[c] for c in X.columns}
    assert list(X.columns) == ["RECENCY_DAYS", "FREQUENCY", "MONETARY", "AVG_BASKET", "TENURE_DAYS", "AVG_QUANTITY"]
    # two more customers against pandas on the file
    lines["order_date"] = pd.to_datetime(lines["order_date"])
    lines["amount"] = lines["amount"].astype(float)
    for cid in ("C1001", "C3007"):
        mine = lines[lines["customer_id"] == cid]
        days = mine["order_date"].nunique()
        assert X.loc[cid, "FREQUENCY"] == days
        assert X.loc[cid, "MONETARY"] == pytest.approx(mine["amount"].sum(), abs=1e-9)
        assert X.loc[cid, "AVG_BASKET"] == pytest.approx(mine["amount"].sum() / days, abs=1e-9)
        assert X.loc[cid, "AVG_QUANTITY"] == pytest.approx(mine["quantity"].sum() / days, abs=1e-12)
        assert X.loc[cid, "RECENCY_DAYS"] == (lines["order_date"].max() - mine["order_date"].max()).days

    lines_per_customer = lines.groupby("customer_id").size()
    assert (lines_per_customer > X["FREQUENCY"].reindex(lines_per_customer.index)).sum() > 10  # same-day orders

    assert _ari(sf, database, groups) >= 0.95
    assert query(sf, f"select count(*) from {database}.ANALYTICS.CURRENT_SEGMENTS") == [(len(groups) + 1,)]
    # the planted groups differ in their features: the rules say how, and are right for nearly every customer
    rules = assert_rules_shown(sf, database, min_fidelity=0.9, min_accuracy=0.9)
    assert {c["column"] for p in rules.values() for r in p["rules"] for c in r["conditions"]} <= set(X.columns)


def test_customer_table_segments_its_rows_and_quarantines_a_repeated_customer(shaped, sf, tmp_path):
    """One row per customer, its columns as features; a customer id twice in the batch is quarantined (both rows),
    and the three planted groups come back."""
    path, groups = write_customers_csv(tmp_path / "customers.csv")
    lines = path.read_text().splitlines()
    # a repeated customer: the gate cannot tell which row is right, so both are quarantined
    lines.append("9001,Female,30,40,70")
    lines.append("9001,Female,31,41,71")
    path.write_text("\n".join(lines) + "\n")
    database = shaped("customers", path)

    contract, names, verdicts, X = _gate_and_segment("customers")
    (v,) = verdicts
    assert (v.status, v.rows, v.quarantined) == ("PUBLISHED", len(groups) + 2, 2)
    assert query(sf, f"select distinct EXPECTATION, VALUE from {database}.RAW.CUSTOMERS_QUARANTINE") == [
        ("unique:CUSTOMER_ID", "9001")]

    first = lines[1].split(",")  # a customer's features are its row as it is
    assert X.loc[first[0]].to_dict() == {
        "AGE": float(first[2]), "ANNUAL_INCOME_K": float(first[3]), "SPENDING_SCORE": float(first[4]),
        "GENDER__FEMALE": float(first[1] == "Female"), "GENDER__MALE": float(first[1] == "Male")}
    assert len(X) == len(groups) and "9001" not in X.index

    assert _ari(sf, database, groups) >= 0.95
    assert query(sf, f"select count(*) from {database}.ANALYTICS.CURRENT_SEGMENTS") == [(len(groups),)]
    rules = assert_rules_shown(sf, database, min_fidelity=0.9, min_accuracy=0.9)
    texts = [r["text"] for p in rules.values() for r in p["rules"]]
    assert not any("__" in t or "_K" in t for t in texts), texts  # column names never reach the reader


@pytest.mark.parametrize("shape", ["orders", "customers", "orders_timestamps"])
def test_a_drafted_contract_runs_end_to_end_unedited(twin, airflow_db, bare_database, sf, tmp_path, monkeypatch, shape):
    """`make contract` on each shape's file, no edit: the draft's folder joins SNOWSEG_CONTRACTS_DIR, load_small_file
    (parsed with it, so its contract choice offers the draft) loads the file, the gate publishes it, and the segments
    recover the planted groups."""
    from airflow.dag_processing.dagbag import DagBag

    from snowseg.contract_draft import main as draft_main
    from tests.conftest import REPO

    write = {"orders": write_orders_csv, "customers": write_customers_csv,
             "orders_timestamps": lambda p: write_orders_csv(p, timestamps=True)}[shape]
    path, groups = write(tmp_path / "data" / f"my_{shape}.csv")
    assert draft_main([str(path), "--out", str(tmp_path / "contracts")]) == 0
    monkeypatch.setenv("SNOWSEG_CONTRACTS_DIR", str(tmp_path / "contracts"))
    set_up_warehouse(bare_database, (f"my_{shape}",), snowpipe=False)
    dag = DagBag(dag_folder=str(REPO / "dags" / "load_small_file.py")).get_dag("load_small_file")
    assert f"my_{shape}" in dag.params.get_param("contract").schema["enum"]
    dr = dag_test(dag, {"file_path": str(path), "contract": f"my_{shape}"})
    assert dr.state == "success", {ti.task_id: ti.state for ti in dr.get_task_instances()}

    _, _, (verdict,), X = _gate_and_segment(f"my_{shape}")
    assert verdict.status == "PUBLISHED"
    assert set(groups) <= set(X.index)
    if shape == "orders_timestamps":  # a TIMESTAMP_NTZ sale date: purchases are counted by calendar day
        from snowseg.config import load_contract

        assert load_contract(tmp_path / "contracts" / f"my_{shape}.yaml").column("ORDERED_AT").type == "TIMESTAMP_NTZ"
        assert X.loc["KNOWN-1"].to_dict() == {c: KNOWN_FEATURES[c] for c in X.columns}
    assert _ari(sf, bare_database, groups) >= 0.95


def test_orders_load_through_the_bulk_and_snowpipe_paths_too(dagbag, twin, bare_database, sf, tmp_path):
    """Nothing on the bulk or Snowpipe path assumes an invoice id: half the customers' lines through
    load_bulk_stage, the other half through load_s3_snowpipe, both with {"contract": "orders"}; the gate publishes
    both batches and the features are those of the one file."""
    from tests.conftest import landing_url_for

    path, groups = write_orders_csv(tmp_path / "orders.csv")
    lines = path.read_text().splitlines()
    first = [ln for ln in lines[1:] if ln.split(",")[0] < "C2"]  # group 1 and KNOWN-1; the rest through the pipe
    (tmp_path / "bulk").mkdir()
    (tmp_path / "pipe").mkdir()
    (tmp_path / "bulk" / "a.csv").write_text("\n".join([lines[0], *first]) + "\n")
    (tmp_path / "pipe" / "b.csv").write_text("\n".join([lines[0], *(ln for ln in lines[1:] if ln not in first)]) + "\n")
    set_up_warehouse(bare_database, ("orders",))
    runs = (("load_bulk_stage", {"path": str(tmp_path / "bulk" / "a.csv"), "chunk_mb": 0.003}),
            ("load_s3_snowpipe", {"path": str(tmp_path / "pipe" / "b.csv"), "landing_url": landing_url_for(bare_database),
                                  "poll_seconds": 0.5, "wait_minutes": 2}))
    for dag_id, conf in runs:
        dr = dag_test(dagbag.get_dag(dag_id), {**conf, "contract": "orders"})
        assert dr.state == "success", (dag_id, {ti.task_id: ti.state for ti in dr.get_task_instances()})
    assert query(sf, f"select _LOAD_PATH, count(*) from {bare_database}.RAW.ORDERS_RAW group by 1 order by 1") == [
        ("bulk_stage", len(first)), ("snowpipe", len(lines) - 1 - len(first))]

    _, _, verdicts, X = _gate_and_segment("orders")
    assert sorted(v.status for v in verdicts) == ["PUBLISHED", "PUBLISHED"]
    assert X.loc["KNOWN-1"].to_dict() == {c: KNOWN_FEATURES[c] for c in X.columns}
    assert _ari(sf, bare_database, groups) >= 0.95
