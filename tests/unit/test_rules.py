"""Readable segment rules (snowseg.clustering.rules): a planted rule recovered, formatting and folding of conditions,
figures measured as shown, reproducibility, the low-fidelity warning."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from snowseg.clustering.rules import (
    Condition,
    Feature,
    LowFidelityWarning,
    SegmentRules,
    describe_features,
    format_condition,
    segment_rules,
    simplify,
    threshold_step,
)
from snowseg.config import load_contract

RECENCY = Feature("RECENCY_DAYS", "Recency", unit="days")
FREQUENCY = Feature("FREQUENCY", "Purchases")
SPEND = Feature("MONETARY", "Spend", unit="money")
PAYMENT = Feature("PAYMENT__CASH", "Payment", "onehot", category="PAYMENT", value="Cash",
                  values=("Cash", "Credit card", "Ewallet"))
PAYMENT_EW = Feature("PAYMENT__EWALLET", "Payment", "onehot", category="PAYMENT", value="Ewallet",
                     values=("Cash", "Credit card", "Ewallet"))
LINE = Feature("PRODUCT_LINE", "Product line", "code", category="PRODUCT_LINE",
               values=("Electronic", "Fashion", "Food", "Health"))
CASH_SHARE = Feature("PAYMENT__CASH", "Payment Cash share", "share", category="PAYMENT", value="Cash")
INCOME = Feature("ANNUAL_INCOME_K", "Annual Income", unit="k$")


def planted(n: int = 2000, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers whose segment is planted: 0 = recency <= 60 and purchases >= 4; 1 = recency > 180; 2 = the rest."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "RECENCY_DAYS": rng.integers(0, 366, n).astype(float),
        "FREQUENCY": rng.integers(1, 13, n).astype(float),
        "MONETARY": np.round(rng.lognormal(5, 1, n), 2),
        "TENURE_DAYS": rng.integers(0, 900, n).astype(float),
    })
    active = (X["RECENCY_DAYS"] <= 60) & (X["FREQUENCY"] >= 4)
    labels = np.where(active, 0, np.where(X["RECENCY_DAYS"] > 180, 1, 2))
    return X, labels


def test_a_planted_rule_is_recovered() -> None:
    X, labels = planted()
    sets, fidelity, warns = segment_rules(X, labels, load_contract("orders"), random_state=0)
    active = next(s for s in sets if s.segment_id == 0)
    best = active.rules[0]
    by_column = {c["column"]: c for c in best.conditions}
    assert set(by_column) == {"RECENCY_DAYS", "FREQUENCY"}, best.text
    recency, frequency = by_column["RECENCY_DAYS"], by_column["FREQUENCY"]
    assert recency["op"] in ("<=", "<") and abs(recency["value"] - 60) <= 5, recency
    assert frequency["op"] == ">=" and frequency["value"] == 4, frequency
    assert best.precision >= 0.95 and best.recall >= 0.9, best
    assert best.text.startswith("Recency ") and "days" in best.text and "Purchases ≥ 4" in best.text
    lapsed = next(s for s in sets if s.segment_id == 1)
    assert [c["column"] for c in lapsed.rules[0].conditions] == ["RECENCY_DAYS"]
    assert lapsed.rules[0].conditions[0]["op"] == ">=" and abs(lapsed.rules[0].conditions[0]["value"] - 180) <= 10
    assert fidelity >= 0.95 and warns == []


def test_figures_are_measured_on_the_rows_as_shown() -> None:
    X, labels = planted()
    sets, _, _ = segment_rules(X, labels, random_state=0)
    for s in sets:
        for r in s.rules:
            m = np.ones(len(X), dtype=bool)
            for c in r.conditions:
                x = X[c["column"]].to_numpy()
                m &= {"<=": x <= c.get("value", 0), "<": x < c.get("value", 0), ">=": x >= c.get("value", 0),
                      "between": (x >= c.get("low", 0)) & ((x < c.get("high", 0)) if c.get("high_op") == "<"
                                                           else (x <= c.get("high", 0)))}[c["op"]]
            in_seg = labels == s.segment_id
            assert (r.covers, r.correct) == (int(m.sum()), int((m & in_seg).sum())), r.text
            assert r.precision == round(r.correct / r.covers, 4) and r.recall == round(r.correct / in_seg.sum(), 4)


def test_same_data_same_rules() -> None:
    X, labels = planted(seed=3)
    first = [s.to_dict() for s in segment_rules(X, labels, random_state=0)[0]]
    again = [s.to_dict() for s in segment_rules(X.copy(), labels.copy(), random_state=0)[0]]
    assert first == again


def test_the_rules_do_not_depend_on_how_segments_are_numbered() -> None:
    """A run numbers its segments by carrying ids over; the same partition under other ids has the same rules."""
    X, labels = planted(seed=5)
    X["MONETARY"] = X["MONETARY"] + X["RECENCY_DAYS"]  # near-ties between features
    texts = {}
    for ids in ([0, 1, 2], [2, 0, 1], [7, 3, 5]):
        sets, fidelity, _ = segment_rules(X, np.array(ids)[labels])
        texts[tuple(ids)] = ({ids.index(s.segment_id): [r.text for r in s.rules] for s in sets}, fidelity)
    first = texts[(0, 1, 2)]
    assert all(t == first for t in texts.values()), texts


class Fmt(NamedTuple):
    condition: Condition
    text: str


@pytest.mark.parametrize("case", [
    pytest.param(Fmt(Condition(RECENCY, high=60), "Recency ≤ 60 days"), id="upper-days"),
    pytest.param(Fmt(Condition(FREQUENCY, low=4), "Purchases ≥ 4"), id="lower-count"),
    pytest.param(Fmt(Condition(RECENCY, low=10, high=60), "Recency 10 to 60 days"), id="range"),
    pytest.param(Fmt(Condition(SPEND, low=1200, high=3400, high_strict=True), "Spend ≥ 1,200 and < 3,400"),
                 id="money-rounded-range"),
    pytest.param(Fmt(Condition(SPEND, high=250.5, high_strict=True), "Spend < 250.5"), id="money-decimals"),
    pytest.param(Fmt(Condition(INCOME, low=70), "Annual Income ≥ 70 k$"), id="unit-from-header"),
    pytest.param(Fmt(Condition(CASH_SHARE, low=40), "Payment Cash share ≥ 40 %"), id="share-percent"),
    pytest.param(Fmt(Condition(PAYMENT, allowed=("Cash",)), "Payment is Cash"), id="onehot-is"),
    pytest.param(Fmt(Condition(PAYMENT, allowed=("Credit card", "Ewallet")), "Payment is not Cash"), id="onehot-not"),
    pytest.param(Fmt(Condition(LINE, allowed=("Electronic", "Fashion")), "Product line is Electronic or Fashion"),
                 id="code-two-of-four"),
    pytest.param(Fmt(Condition(LINE, allowed=("Electronic", "Fashion", "Food")), "Product line is not Health"),
                 id="code-all-but-one"),
    pytest.param(Fmt(Condition(LINE, allowed=("Electronic",)), "Product line is Electronic"), id="code-one"),
])
def test_format_condition(case: Fmt) -> None:
    assert format_condition(case.condition) == case.text


class Fold(NamedTuple):
    path: list
    exact: set
    texts: list[str]


STEPS = {"RECENCY_DAYS": 1.0, "FREQUENCY": 1.0, "MONETARY": 20.0, "PAYMENT__CASH": 2.0}


@pytest.mark.parametrize("case", [
    pytest.param(Fold([(RECENCY, "<=", 90.5), (RECENCY, "<=", 60.5)], {"RECENCY_DAYS"}, ["Recency ≤ 60 days"]),
                 id="tightest-upper-bound"),
    pytest.param(Fold([(RECENCY, ">", 10.5), (FREQUENCY, ">", 3.5), (RECENCY, "<=", 60.5)],
                      {"RECENCY_DAYS", "FREQUENCY"}, ["Recency 11 to 60 days", "Purchases ≥ 4"]),
                 id="two-bounds-one-condition"),
    pytest.param(Fold([(FREQUENCY, ">", 3.0)], {"FREQUENCY"}, ["Purchases ≥ 4"]), id="split-on-a-value"),
    pytest.param(Fold([(SPEND, "<=", 587.2), (SPEND, ">", 114.3)], set(), ["Spend ≥ 120 and < 580"]),
                 id="nearest-grid-point"),
    pytest.param(Fold([(PAYMENT, "<=", 0.5), (PAYMENT_EW, "<=", 0.5)], set(), ["Payment is Credit card"]),
                 id="onehot-not-not-is-the-rest"),
    pytest.param(Fold([(PAYMENT, "<=", 0.5), (PAYMENT_EW, ">", 0.5)], set(), ["Payment is Ewallet"]),
                 id="onehot-is-makes-is-not-redundant"),
    pytest.param(Fold([(LINE, ">", 0.5), (LINE, "<=", 2.5)], set(), ["Product line is Fashion or Food"]),
                 id="code-interval"),
    pytest.param(Fold([(CASH_SHARE, ">", 0.395)], set(), ["Payment Cash share ≥ 40 %"]), id="share-in-points"),
])
def test_simplify(case: Fold) -> None:
    assert [format_condition(c) for c in simplify(case.path, STEPS, case.exact)] == case.texts


@pytest.mark.parametrize(("values", "share", "step"), [
    pytest.param([100.0, 300.0, 500.0, 900.0], False, 20.0, id="money"),
    pytest.param([1, 2, 3, 10], False, 1.0, id="integers-at-least-one"),
    pytest.param([4.1, 6.5, 9.9], False, 0.2, id="decimals"),
    pytest.param([0.1, 0.5, 0.9], True, 2.0, id="share-points"),
    pytest.param([5.0, 5.0], False, 1.0, id="constant"),
])
def test_threshold_step(values: list, share: bool, step: float) -> None:
    assert threshold_step(values, share=share) == step


def test_one_hot_rules_read_as_values_for_a_customer_table() -> None:
    rng = np.random.default_rng(0)
    n = 400
    female = rng.integers(0, 2, n).astype(float)
    X = pd.DataFrame({"AGE": rng.integers(18, 70, n).astype(float), "ANNUAL_INCOME_K": rng.integers(15, 140, n),
                      "GENDER__FEMALE": female, "GENDER__MALE": 1 - female}).astype(float)
    labels = np.where(X["GENDER__FEMALE"] == 1, np.where(X["ANNUAL_INCOME_K"] >= 70, 0, 1), 2)
    sets, fidelity, _ = segment_rules(X, labels, load_contract("customers"))
    texts = {s.segment_id: [r.text for r in s.rules] for s in sets}
    assert texts[2] == ["Gender is Male"], texts
    assert any("Gender is Female" in t and "Annual Income ≥ 70 k$" in t for t in texts[0]), texts
    assert fidelity == 1.0


def test_a_category_whose_column_was_dropped_as_redundant_is_counted() -> None:
    """drop_correlated keeps one column of a two-value block (GENDER__FEMALE): 'Gender is Male' is its zeros."""
    X = pd.DataFrame({"GENDER__FEMALE": [1, 1, 1, 0, 0, 0.0], "AGE": [20, 30, 40, 25, 35, 45.0]})
    sets, fidelity, _ = segment_rules(X, [0, 0, 0, 1, 1, 1], load_contract("customers"))
    male = next(s for s in sets if s.segment_id == 1).rules[0]
    assert (male.text, male.covers, male.correct, male.precision) == ("Gender is Male", 3, 3, 1.0)


def test_low_fidelity_warns_with_its_figures() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"TOTAL": rng.normal(size=300), "RATING": rng.normal(size=300)})
    labels = rng.integers(0, 3, 300)  # no rule can find random labels
    with pytest.warns(LowFidelityWarning) as caught:
        model = SegmentRules().fit(X, labels)
    w = caught[0].message
    assert isinstance(w, LowFidelityWarning) and w.fidelity == model.fidelity_ < 0.8 and w.min_fidelity == 0.8
    _, fidelity, warns = segment_rules(X, labels)
    assert fidelity < 0.8 and any("tendencies" in t for t in warns)


@pytest.mark.parametrize(("params", "message"), [
    pytest.param({"max_depth": 0}, "max_depth must be an integer in 1..5", id="depth"),
    pytest.param({"min_samples_leaf": 0.9}, "min_samples_leaf must be an integer >= 1 or a share", id="leaf"),
    pytest.param({"class_weight": "auto"}, "class_weight must be 'balanced' or None, got 'auto'", id="weights"),
    pytest.param({"random_state": -1}, "random_state must be an integer >= 0, got -1", id="random-state"),
])
def test_bad_parameters_are_named(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SegmentRules(**params).fit(pd.DataFrame({"A": [1.0, 2.0]}), [0, 1])


def test_customer_level_categories_are_shares() -> None:
    d = describe_features(["FREQUENCY", "AVG_QUANTITY", "PAYMENT__EWALLET", "TOTAL"],
                          load_contract("supermarket_customers"))
    assert [(f.label, f.kind) for f in d.values()] == [
        ("Purchases", "numeric"), ("Average quantity", "numeric"), ("Payment Ewallet share", "share"),
        ("Total", "numeric")]
    d = describe_features(["PAYMENT__EWALLET", "PAYMENT__CASH"], load_contract("supermarket"))
    assert d["PAYMENT__CASH"] == Feature("PAYMENT__CASH", "Payment", "onehot", category="PAYMENT", value="Cash",
                                         values=("Cash", "Credit card", "Ewallet"))
