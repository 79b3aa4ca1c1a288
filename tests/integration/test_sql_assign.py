"""Nearest-centroid assignment on the twin agrees row by row with scikit-learn's predict.

2,000 generated invoices are loaded and published by the quality gate once for the module (the features
read the published view, as in production). Each case fits a FeatureTransformer and KMeans(k=3) in
Python on a sample, rebuilds the transformer from its JSON (as the SQL path does from a model run), and
assigns every row in the warehouse with `assignment_sql`.
"""

from __future__ import annotations

import json
import uuid
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from snowseg import warehouse as wh
from snowseg.clustering.sql_assign import assignment_sql
from snowseg.clustering.transform import FeatureTransformer
from snowseg.features import feature_sql, onehot_groups, read_features
from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration

N = 2000


@pytest.fixture(scope="module")
def published(twin, tmp_path_factory):
    """A module database holding N generated invoices, loaded and published by the gate; yields (conn, contract, names)."""
    import snowflake.connector

    from snowseg.airflow.tasks import resolve
    from snowseg.loading.checks import check_file
    from snowseg.loading.small_file import load_file
    from snowseg.quality.gate import run_gate
    from tests.conftest import set_up_warehouse

    contract, names = resolve("supermarket", database=f"T_{uuid.uuid4().hex[:10].upper()}")
    set_up_warehouse(names.database)
    conn = snowflake.connector.connect(**twin.connect_kwargs())
    path = write_sales_csv(tmp_path_factory.mktemp("assign") / "sales.csv", N, seed=7)
    assert load_file(conn, check_file(path, contract), contract, names).rows_loaded == N
    (verdict,) = run_gate(conn, contract, names, run_id="t").verdicts
    assert verdict.status == "PUBLISHED"
    yield conn, contract, names
    conn.close()


class Case(NamedTuple):
    encoding: str
    scaling: str
    log_columns: object
    skew_threshold: float
    logged: list[str]


CASES = [
    # TOTAL's skewness in this sample is ~0.84: a threshold of 0.5 lets "auto" pick it (and only it)
    pytest.param(Case("onehot", "standard", "auto", 0.5, ["TOTAL"]), id="standard-onehot-auto-log"),
    pytest.param(Case("label", "robust", ["TOTAL", "UNIT_PRICE"], 1.0, ["UNIT_PRICE", "TOTAL"]), id="robust-label"),
    pytest.param(Case("onehot", "robust", "auto", 1.0, []), id="robust-onehot-no-log"),
]


def _fit(X: pd.DataFrame, case: Case) -> tuple[FeatureTransformer, KMeans]:
    """Fit on a sample, as the large-table path does; return the JSON-rebuilt transformer and the model."""
    sample = X.sample(800, random_state=1)
    t = FeatureTransformer(log_columns=case.log_columns, skew_threshold=case.skew_threshold, scaling=case.scaling,
                           groups=onehot_groups(X.columns)).fit(sample)
    assert t.log_columns_ == case.logged
    km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(t.transform(sample))
    return FeatureTransformer.from_dict(json.loads(json.dumps(t.to_dict()))), km


@pytest.mark.parametrize("case", CASES)
def test_sql_assignment_matches_python_predict(published, case):
    conn, contract, names = published
    with conn.cursor() as cur:
        X = read_features(cur, contract, database=names.database, schema=names.raw, encoding=case.encoding)
        t, km = _fit(X, case)
        source, params = feature_sql(contract, database=names.database, schema=names.raw, encoding=case.encoding)
        got = wh.fetch_df(cur, assignment_sql(source, ["ENTITY_ID"], t, km.cluster_centers_), params)

    assert len(X) == N and list(got.columns) == ["ENTITY_ID", "SEGMENT_ID", "DISTANCE"]
    got = got.set_index("ENTITY_ID").loc[X.index]  # every key back exactly once
    Z = t.transform(X)
    labels = km.predict(Z)
    want_distance = np.sqrt(((Z - km.cluster_centers_[labels]) ** 2).sum(axis=1))
    assert got["SEGMENT_ID"].astype(int).to_numpy().tolist() == labels.tolist()
    np.testing.assert_allclose(got["DISTANCE"].astype(float).to_numpy(), want_distance, rtol=1e-6, atol=0)
    assert len(set(labels)) == 3


def test_ties_go_to_the_lower_index(published):
    """Centers 0 and 1 coincide: no row may go to 1, as with numpy's argmin."""
    conn, contract, names = published
    with conn.cursor() as cur:
        X = read_features(cur, contract, database=names.database, schema=names.raw)
        t = FeatureTransformer(groups=onehot_groups(X.columns)).fit(X)
        Z = t.transform(X)
        centers = np.vstack([Z[:1], Z[:1], Z[-1:]])
        source, params = feature_sql(contract, database=names.database, schema=names.raw)
        got = wh.fetch_df(cur, assignment_sql(source, ["ENTITY_ID"], t, centers), params)
    want = np.argmin(((Z[:, None, :] - centers[None]) ** 2).sum(axis=2), axis=1)
    assert set(want) == {0, 2}
    assert got.set_index("ENTITY_ID").loc[X.index, "SEGMENT_ID"].astype(int).tolist() == want.tolist()


def test_null_feature_gets_no_segment(twin, sf):
    """A row with a NULL feature has SEGMENT_ID and DISTANCE NULL (not silently the last segment)."""
    t = FeatureTransformer(log_columns=["A"]).fit(pd.DataFrame({"A": [0.0, 1.0, 3.0], "B": [1.0, 2.0, 4.0]}))
    z = t.transform(pd.DataFrame({"A": [1.5, 0.0], "B": [2.0, 1.0]}))  # rows x and z
    centers = np.vstack([z[1] + 0.5, z[0] - 0.1, z[1] - 0.2])  # x is nearest 1, z nearest 2
    source = "select 'x' as ID, 1.5 as A, 2 as B union all select 'y', null, 3 union all select 'z', 0, 1"
    rows = {r[0]: r[1:] for r in query(sf, assignment_sql(source, ["id"], t, centers))}
    assert rows["y"] == (None, None)
    assert (rows["x"][0], rows["z"][0]) == (1, 2)
    assert rows["x"][1] == pytest.approx(0.1 * np.sqrt(2), rel=1e-9)
    assert rows["z"][1] == pytest.approx(0.2 * np.sqrt(2), rel=1e-9)
