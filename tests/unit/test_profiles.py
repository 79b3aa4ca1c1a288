"""Segment names from what separates a segment, on frames with planted groups (known answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snowseg.clustering.profiles import SEPARATES, SegmentProfile, name_segments, profile_segments
from snowseg.config import ColumnSpec, DatasetContract, FeatureSpec, load_contract


def _rfm_frame(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customer-level features with three planted groups of 100: active repeat, lapsed one-time, in between."""
    rng = np.random.default_rng(seed)
    n = 100
    groups = {  # recency days, invoices, spend per invoice
        "active repeat": (rng.integers(0, 8, n), rng.integers(8, 15, n), rng.normal(200, 40, n)),
        "lapsed one-time": (rng.integers(60, 90, n), np.ones(n, dtype=int), rng.normal(200, 40, n)),
        "in between": (rng.integers(20, 45, n), rng.integers(2, 5, n), rng.normal(200, 40, n)),
    }
    frames = []
    for recency, frequency, basket in groups.values():
        frames.append(pd.DataFrame({
            "RECENCY_DAYS": recency.astype(float), "FREQUENCY": frequency.astype(float),
            "MONETARY": frequency * basket, "AVG_BASKET": basket,
            "TENURE_DAYS": np.where(frequency > 1, rng.integers(10, 80, n), 0).astype(float),
            "AVG_RATING": rng.uniform(4, 10, n),
            "CUSTOMER_TYPE__MEMBER": rng.integers(0, 2, n).astype(float),
        }).assign(CUSTOMER_TYPE__NORMAL=lambda f: 1 - f["CUSTOMER_TYPE__MEMBER"]))
    return pd.concat(frames, ignore_index=True), np.repeat([0, 1, 2], n)


def test_rfm_groups_get_recency_and_frequency_words():
    X, labels = _rfm_frame()
    profiles = profile_segments(X, labels, load_contract("supermarket_customers"))
    names = [p.name for p in profiles]
    assert names[0].startswith("Active repeat"), names
    assert names[1].startswith("Lapsed one-time"), names
    assert not names[2].startswith(("Active", "Lapsed")) and "one-time" not in names[2], names
    assert len(set(names)) == 3
    # the effects behind the words: recency well below the mean for the active, above for the lapsed
    assert profiles[0].effects["RECENCY_DAYS"] <= -SEPARATES <= profiles[1].effects["RECENCY_DAYS"]
    assert profiles[0].effects["FREQUENCY"] >= SEPARATES and profiles[1].effects["FREQUENCY"] <= -SEPARATES
    assert profiles[0].mean_amount == pytest.approx(X["MONETARY"][:100].mean(), abs=1e-3)  # MONETARY is the amount


def _customer_table_contract() -> DatasetContract:
    """A customer table (no sales, no amount column): age, income, spending score, gender."""
    cols = (
        ColumnSpec("CustomerID", "CUSTOMER_ID", "VARCHAR(16)", "entity"),
        ColumnSpec("Gender", "GENDER", "VARCHAR(8)", "categorical", values=("Female", "Male")),
        ColumnSpec("Age", "AGE", "NUMBER(3,0)", "numeric"),
        ColumnSpec("Annual Income (k$)", "ANNUAL_INCOME", "NUMBER(6,0)", "numeric"),
        ColumnSpec("Spending Score (1-100)", "SPENDING_SCORE", "NUMBER(3,0)", "numeric"),
    )
    return DatasetContract(name="mall_customers", version=1, table="MALL_CUSTOMERS", columns=cols,
                           features=FeatureSpec(level="invoice", numeric=("AGE", "ANNUAL_INCOME", "SPENDING_SCORE"),
                                                categorical=("GENDER",)))


def _customer_table(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three planted groups of 80: rich and sparing, poor and keen, and average but mostly women."""
    rng = np.random.default_rng(seed)
    n = 80
    groups = [  # income mean, score mean, share female
        (95.0, 20.0, 0.4), (25.0, 80.0, 0.4), (60.0, 50.0, 0.95),
    ]
    frames = []
    for income, score, female in groups:
        g = (rng.random(n) < female).astype(float)
        frames.append(pd.DataFrame({
            "AGE": rng.integers(18, 70, n).astype(float),
            "ANNUAL_INCOME": rng.normal(income, 8, n), "SPENDING_SCORE": rng.normal(score, 8, n).clip(1, 100),
            "GENDER__FEMALE": g, "GENDER__MALE": 1 - g,
        }))
    return pd.concat(frames, ignore_index=True), np.repeat([0, 1, 2], n)


def test_customer_table_groups_are_named_by_income_score_and_gender():
    X, labels = _customer_table()
    profiles = profile_segments(X, labels, _customer_table_contract())
    assert [p.name for p in profiles] == ["High income · low score", "Low income · high score", "Female"]
    assert [p.mean_amount for p in profiles] == [None, None, None]
    top = profiles[0].numeric_index[0]
    assert (top["column"], top["label"], top["direction"]) == ("ANNUAL_INCOME", "income", "high")
    assert top["mean"] > top["overall"] and top["effect"] >= SEPARATES
    assert [o["column"] for o in profiles[0].numeric_index] == ["ANNUAL_INCOME", "SPENDING_SCORE"]  # age: no


@pytest.mark.parametrize("seed", range(5))
def test_without_an_amount_column_no_name_speaks_of_spend(seed):
    """Neither a spend word nor a tier, whatever the planted groups (the spending *score* is 'score')."""
    X, labels = _customer_table(seed)
    rng = np.random.default_rng(seed)
    for labs in (labels, rng.integers(0, 4, len(X)), rng.integers(0, 7, len(X))):
        for p in profile_segments(X, labs, _customer_table_contract()):
            assert "spend" not in p.name.lower() and "tier" not in p.name.lower(), p.name


def test_nothing_separates_reads_close_to_average_and_names_stay_unique():
    X, _ = _customer_table()
    labels = np.arange(len(X)) % 2  # two halves of every group: nothing separates them
    names = [p.name for p in profile_segments(X, labels, _customer_table_contract())]
    assert names == ["Close to average (segment 0)", "Close to average (segment 1)"]


def test_colliding_names_take_further_features_then_the_id():
    hi = {"column": "A", "label": "a", "direction": "high", "effect": 2.0}
    b_hi, b_lo = ({"column": "B", "label": "b", "direction": d, "effect": e} for d, e in (("high", 0.9), ("low", -0.8)))
    p0 = SegmentProfile(0, "", 1, 0.3, None, numeric_index=[hi, b_hi])
    p1 = SegmentProfile(1, "", 1, 0.3, None, numeric_index=[hi, b_lo])
    p2 = SegmentProfile(2, "", 1, 0.3, None, numeric_index=[hi])
    assert name_segments([p0, p1, p2], max_values=1) == ["High a · high b", "High a · low b", "High a"]
    p3 = SegmentProfile(3, "", 1, 0.1, None, numeric_index=[hi])
    assert name_segments([p2, p3]) == ["High a (segment 2)", "High a (segment 3)"]


def test_invoice_level_spend_head_is_by_standard_deviations_not_by_rank():
    """Two segments both well below the mean are both 'Low spend' (told apart by what else separates them);
    a rank would have called one of them 'Mid spend'."""
    c = load_contract()
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"TOTAL": np.r_[rng.normal(100, 5, 50), rng.normal(110, 5, 50), rng.normal(900, 20, 50)],
                      "RATING": np.r_[rng.normal(9, 0.3, 50), rng.normal(5, 0.3, 50), rng.normal(7, 0.3, 50)]})
    names = [p.name for p in profile_segments(X, np.repeat([0, 1, 2], 50), c)]
    assert names == ["Low spend · high rating", "Low spend · low rating", "High spend"]
