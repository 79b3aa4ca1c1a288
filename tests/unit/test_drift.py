"""Migration matrix, centroid shift, drift and the refit decision on tiny hand-computed data; the contract's refit
policy (defaults, validation); the monitor's shape of the matrix."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
import yaml

from snowseg.clustering.drift import (
    ASSIGN,
    REFIT,
    centroid_shift,
    decide_refit,
    drift,
    migration_from_counts,
    migration_matrix,
)
from snowseg.config import ContractError, RefitPolicy, load_contract
from snowseg.monitor import shape_migration


def test_migration_matrix_counts_add_up_to_the_customers_of_either_run():
    # previous: a b c d in 0 0 1 1; now: a stays in 0, b moves 0->1, c moves 1->0, d left, e and f new in 1 and 0
    previous = [("a", 0), ("b", 0), ("c", 1), ("d", 1)]
    current = [("a", 0), ("b", 1), ("c", 0), ("e", 1), ("f", 0)]
    m = migration_matrix(previous, current)
    cells = {(c["from"], c["to"]): c["count"] for c in m["cells"]}
    assert cells == {(0, 0): 1, (0, 1): 1, (1, 0): 1, (1, None): 1, (None, 0): 1, (None, 1): 1}
    assert (m["total"], m["stayed"], m["moved"], m["new"], m["left"]) == (6, 1, 2, 2, 1)
    assert sum(cells.values()) == len({e for e, _ in previous} | {e for e, _ in current})
    assert m["moved_share"] == pytest.approx(2 / 3, abs=1e-6)  # of the 3 customers in both runs
    by = {(c["from"], c["to"]): c for c in m["cells"]}
    assert by[(0, 1)]["share"] == pytest.approx(1 / 6, abs=1e-6) and by[(0, 1)]["row_share"] == 0.5
    assert by[(1, None)]["row_share"] == 0.5 and by[(None, 0)]["row_share"] == 0.5


def test_migration_from_sql_counts_merges_and_drops_zeros():
    m = migration_from_counts([(0, 0, 2), (0, 0, 3), (1, 0, 0), (None, None, 4)])
    assert [(c["from"], c["to"], c["count"]) for c in m["cells"]] == [(0, 0, 5)]
    assert (m["total"], m["moved_share"]) == (5, 0.0)


def test_first_run_is_all_new_with_no_moved_share():
    m = migration_matrix([], [("a", 0), ("b", 1)])
    assert (m["new"], m["moved"], m["total"], m["moved_share"]) == (2, 0, 2, None)


def test_centroid_shift_in_units_and_standard_deviations():
    s = centroid_shift({"A": 12.0, "B": 5.0, "C": 1.0}, {"A": 10.0, "B": 6.0}, {"A": 4.0, "B": 0.0})
    # A: +2 over sd 4 = 0.5; B: -1 over sd 0 (counts as 1) = -1; C has no previous value
    assert s["delta"] == {"A": 2.0, "B": -1.0}
    assert s["scaled"] == pytest.approx(((0.5 ** 2 + 1.0 ** 2) / 2) ** 0.5, abs=1e-6)
    assert centroid_shift({"A": 1.0}, {"B": 1.0}, {}) == {"delta": {}, "scaled": None}


def test_drift_is_the_largest_segment_shift_from_the_refit():
    # 6 rows, sd of A = 5 (values -5, 5 around 0 ... computed below), two segments
    X = pd.DataFrame({"A": [0.0, 0.0, 0.0, 10.0, 10.0, 10.0], "B": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    refit = {0: {"A": 0.0, "B": 1.0}, 1: {"A": 8.0, "B": 1.0}}
    d = drift(X, [0, 0, 0, 1, 1, 1], refit)
    # segment 1's mean of A moved 8 -> 10 = 2 / sd 5 = 0.4; B constant (sd counts as 1), no change: rms = 0.4 / sqrt 2
    assert d.by_segment[0]["scaled"] == 0.0
    assert d.by_segment[1]["scaled"] == pytest.approx(0.4 / 2 ** 0.5, abs=1e-6)
    assert d.value == d.by_segment[1]["scaled"] and d.empty_segments == []
    # the same rows on the refit's own data: no drift
    assert drift(X, [0, 0, 0, 1, 1, 1], {0: {"A": 0.0, "B": 1.0}, 1: {"A": 10.0, "B": 1.0}}).value == 0.0
    # a segment nobody is nearest to any more
    assert drift(X, [0] * 6, refit).empty_segments == [1]


NOW = datetime(2026, 3, 10, 6, 0)


@pytest.mark.parametrize(("kw", "kind", "reason"), [
    pytest.param({"last_refit_at": None}, REFIT, "first run", id="first"),
    pytest.param({"forced": True}, REFIT, "forced by the run's params", id="forced"),
    pytest.param({"same_model": False}, REFIT, "parameters or features changed since the last refit", id="params"),
    pytest.param({"last_refit_at": datetime(2026, 3, 2, 23, 59)}, REFIT,
                 "schedule: last refit 8 days ago (every 7 days)", id="schedule"),
    # a weekly run a few seconds earlier in the day than the last is still on schedule: calendar days count
    pytest.param({"last_refit_at": datetime(2026, 3, 3, 6, 0, 30)}, REFIT,
                 "schedule: last refit 7 days ago (every 7 days)", id="weekly"),
    pytest.param({"every_days": 0}, REFIT, "schedule: last refit 1 day ago (every 0 days)", id="every-run"),
    pytest.param({"empty_segments": [2]}, REFIT, "segment 2 has no customers under the current centroids", id="empty"),
    pytest.param({"drift_value": 0.31}, REFIT, "drift 0.31 > 0.25", id="drift"),
    pytest.param({"drift_value": 0.25}, ASSIGN, "assign only: drift 0.25 ≤ 0.25, last refit 1 day ago", id="at"),
    pytest.param({}, ASSIGN, "assign only: drift 0.04 ≤ 0.25, last refit 1 day ago", id="assign"),
])
def test_refit_decision_rules(kw, kind, reason):
    args = {"every_days": 7, "max_drift": 0.25, "now": NOW, "last_refit_at": datetime(2026, 3, 9, 12),
            "same_model": True, "drift_value": 0.04, **kw}
    d = decide_refit(**args)
    assert (d.kind, d.reason) == (kind, reason)
    assert d.refit == (kind == REFIT)


def test_contract_refit_policy_defaults_and_overrides(tmp_path):
    assert load_contract().refit == RefitPolicy(every_days=7, max_drift=0.25)
    raw = yaml.safe_load(load_contract().source.read_text())
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**raw, "refit": {"every_days": 0, "max_drift": 1}}))
    assert load_contract(path).refit == RefitPolicy(every_days=0, max_drift=1.0)


@pytest.mark.parametrize(("refit", "field"), [
    pytest.param({"every_days": -1}, "refit.every_days", id="negative-days"),
    pytest.param({"every_days": 1.5}, "refit.every_days", id="fractional-days"),
    pytest.param({"every_days": True}, "refit.every_days", id="bool-days"),
    pytest.param({"max_drift": 0}, "refit.max_drift", id="zero-drift"),
    pytest.param({"max_drift": "high"}, "refit.max_drift", id="text-drift"),
    pytest.param({"max_drift": float("inf")}, "refit.max_drift", id="inf-drift"),
    pytest.param({"every_week": 1}, "refit", id="unknown-key"),
    pytest.param([7], "refit", id="not-a-mapping"),
])
def test_bad_refit_policies_name_the_field(tmp_path, refit, field):
    raw = yaml.safe_load(load_contract().source.read_text())
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**raw, "refit": refit}))
    with pytest.raises(ContractError) as e:
        load_contract(path)
    assert e.value.field == field and e.value.path == str(path) and e.value.advice


def test_monitor_shapes_the_matrix_with_new_and_left():
    m = migration_matrix([("a", 0), ("b", 1), ("c", 1)], [("a", 0), ("b", 0), ("d", 1)])
    g = shape_migration(m, [{"segment_id": 0, "delta": {"A": -2.0, "B": 0.5}, "scaled": 0.3}], run_kind="assign",
                        refit_reason="assign only", refit_run_id="mr_x", drift=0.1)
    assert g["columns"] == [0, 1, "left"]
    table = {r["label"]: [c["count"] for c in r["cells"]] for r in g["rows"]}
    assert table == {"0": [1, None, None], "1": [1, None, 1], "new": [None, 1, None]}
    assert sum(n or 0 for row in table.values() for n in row) == g["totals"]["customers"] == 4
    assert g["shifts"] == [{"segment_id": 0, "scaled": 0.3, "largest": [("A", -2.0), ("B", 0.5)]}]
