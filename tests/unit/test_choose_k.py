"""choose_k on known answers (blobs with k = 3, 5, 8; uniform noise; a ring), the rule on hand-made scores, and
decide_k: the job's k, or a typed refusal when k was to be chosen and the scores support none."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from snowseg.clustering.choose_k import (
    KChoice,
    KNotChosen,
    KScore,
    NoStableK,
    NoStructure,
    _apply_rule,
    choose_k,
    decide_k,
)

FAST = {"n_init": 3, "stability_pairs": 5}  # keeps the file well under a minute on 2 cores


@pytest.mark.parametrize(
    ("true_k", "n_samples", "n_features"),
    [(3, 2000, 4), (5, 3000, 6), (8, 4000, 8)],
)
def test_blobs_recover_the_true_k(true_k, n_samples, n_features):
    X, _ = make_blobs(n_samples=n_samples, n_features=n_features, centers=true_k, cluster_std=1.0,
                      center_box=(-20, 20), random_state=true_k)
    choice = choose_k(X, **FAST)
    assert choice.structured and choice.k == true_k, choice.reason
    assert choice.reason.startswith(f"k={true_k}: ")
    best = next(s for s in choice.scores if s.k == true_k)
    assert best.silhouette > 0.8 and best.stability > 0.95
    assert best.gap is not None and best.gap > 1


def test_uniform_noise_has_no_structure():
    X = np.random.default_rng(0).uniform(size=(2000, 4))
    choice = choose_k(X, **FAST)
    assert not choice.structured and choice.k is None
    assert "no cluster structure" in choice.reason.lower()
    assert max(s.silhouette for s in choice.scores if s.silhouette is not None) < 0.25


def test_uniform_noise_in_2d_is_caught_by_the_gap():
    # k-means tiles a square into four stable quadrants with a "reasonable" silhouette (~0.4);
    # only the gap statistic sees that uniform data fit four clusters just as well
    X = np.random.default_rng(1).uniform(size=(2000, 2))
    choice = choose_k(X, **FAST)
    assert not choice.structured and choice.k is None
    assert "uniform random data" in choice.reason
    four = next(s for s in choice.scores if s.k == 4)
    assert four.silhouette > 0.25 and four.stability > 0.75


def test_same_random_state_same_choice_and_n_jobs_does_not_matter():
    X, _ = make_blobs(n_samples=600, n_features=3, centers=4, cluster_std=1.5, center_box=(-10, 10), random_state=1)
    first = choose_k(X, k_values=range(2, 7), **FAST)
    assert choose_k(X, k_values=range(2, 7), **FAST) == first
    assert choose_k(X, k_values=range(2, 7), n_jobs=2, **FAST) == first
    assert [s.k for s in first.scores] == [1, 2, 3, 4, 5, 6]
    one = first.scores[0]
    assert one.silhouette is None and one.stability is None and one.inertia > first.scores[1].inertia


def test_k_above_rows_dropped_with_warning():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [10.0, 0.0], [10.1, 0.0]])
    with pytest.warns(UserWarning, match=r"k values \[7, 9\] exceed the 6 rows"):
        choice = choose_k(X, k_values=[2, 3, 7, 9], n_init=2, stability_pairs=2)
    assert [s.k for s in choice.scores] == [1, 2, 3]


@pytest.mark.parametrize("k_values", [range(2, 2), [], [1]])
def test_no_k_to_choose_from_raises(k_values):
    with pytest.raises(ValueError):
        choose_k(np.random.default_rng(0).normal(size=(20, 2)), k_values=k_values)


def test_all_k_above_rows_raises():
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="no k >= 2"):
        choose_k(np.zeros((3, 2)), k_values=[5, 6])


def test_to_dict_is_json_serialisable():
    X, _ = make_blobs(n_samples=300, n_features=2, centers=3, cluster_std=0.5, center_box=(-10, 10), random_state=0)
    choice = choose_k(X, k_values=range(2, 6), n_init=2, stability_pairs=3)
    d = json.loads(json.dumps(choice.to_dict(), allow_nan=False))
    assert d["k"] == choice.k and d["structured"] is choice.structured and d["reason"] == choice.reason
    assert d["stable"] is True and d["candidate"] == choice.k == 3
    assert [s["k"] for s in d["scores"]] == [1, 2, 3, 4, 5]
    assert set(d["scores"][0]) == {"k", "inertia", "silhouette", "stability", "gap"}


def test_to_dict_replaces_nan_by_null():
    choice = KChoice(k=None, knee=None, scores=[KScore(2, 1.0, float("nan"), None, float("inf"))], reason="r",
                     structured=False)
    assert json.dumps(choice.to_dict(), allow_nan=False)


# --- the rule on hand-made scores -----------------------------------------------------------------

def _scores(rows):
    return [KScore(1, 100.0, None, None)] + [KScore(k, 100.0 / k, sil, stab) for k, sil, stab in rows]


def test_rule_stability_filters_then_silhouette_decides():
    # k=2 is the most stable, k=4 has the best silhouette but is unstable: k=3 wins
    scores = _scores([(2, 0.50, 0.99), (3, 0.60, 0.90), (4, 0.70, 0.40)])
    k, reason, stable = _apply_rule(scores, knee=None, stability_min=0.75)
    assert k == 3 and stable and reason.startswith("k=3: highest silhouette (0.60)")


def test_rule_near_tie_goes_to_the_knee():
    scores = _scores([(2, 0.50, 0.99), (3, 0.60, 0.90), (4, 0.61, 0.90)])
    k, reason, stable = _apply_rule(scores, knee=3, stability_min=0.75)
    assert k == 3 and "within 0.02 of the best (0.61 at k=4)" in reason and "knee is at 3" in reason


def test_rule_near_tie_without_knee_goes_to_the_smaller_k():
    scores = _scores([(2, 0.50, 0.99), (3, 0.60, 0.90), (4, 0.61, 0.90)])
    k, reason, stable = _apply_rule(scores, knee=2, stability_min=0.75)
    assert k == 3 and "smaller k is preferred" in reason


def test_rule_without_a_stable_k_chooses_none_and_names_the_most_stable():
    scores = _scores([(2, 0.50, 0.60), (3, 0.60, 0.70), (4, 0.70, 0.40)])
    k, reason, stable = _apply_rule(scores, knee=3, stability_min=0.75)
    assert k == 3 and not stable
    assert reason.startswith("No stable k: no k's subsample fits agree") and "the most stable is k=3 (ARI 0.70" in reason


# --- decide_k: the job's k ------------------------------------------------------------------------

def _ring(n=1000, noise=0.05, seed=0):
    """Points on a circle: k-means cuts it into arcs, tidy (silhouette ~0.5) but placed anywhere round it."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, n)
    return np.c_[np.cos(t), np.sin(t)] + rng.normal(0, noise, (n, 2))


def test_a_ring_has_structure_but_no_stable_k_and_k0_is_refused_with_the_scores():
    """Before issue 13 the job published the most stable k here (k=3, ARI 0.69) "with caution"."""
    choice = choose_k(_ring(), k_values=range(2, 9), **FAST)
    assert choice.structured and not choice.stable and choice.k is None and choice.candidate == 3, choice.reason
    assert all(s.stability < 0.75 for s in choice.scores if s.k >= 2)
    with pytest.raises(NoStableK) as caught:
        decide_k(0, choice)
    e = caught.value
    assert isinstance(e, KNotChosen) and isinstance(e, ValueError)
    assert (e.reason, e.scores, e.candidate, e.knee) == (choice.reason, choice.scores, 3, choice.knee)
    assert e.report_path is None and "no segments were published" in str(e) and choice.reason in str(e)
    e.report_path = "/r/index.html"
    assert "See the report file:///r/index.html." in str(e)
    # a fixed k is used as given, and the reason says what the scores say
    assert decide_k(3, choice) == (3, f"fixed by params (k = 3); by the scores: {choice.reason}")


def test_decide_k_no_structure_chosen_and_errors():
    scores = _scores([(2, 0.10, 0.99), (3, 0.12, 0.95)])
    flat = KChoice(k=None, knee=2, scores=scores, reason="No cluster structure: ...", structured=False, candidate=2)
    with pytest.raises(NoStructure) as caught:
        decide_k(0, flat)
    assert (caught.value.reason, caught.value.candidate, caught.value.knee) == ("No cluster structure: ...", 2, 2)
    assert decide_k(2, flat) == (2, "fixed by params (k = 2); by the scores: No cluster structure: ...")
    good = KChoice(k=3, knee=3, scores=scores, reason="k=3: highest silhouette", structured=True, candidate=3)
    assert decide_k(0, good) == (3, "chosen: k=3: highest silhouette")
    with pytest.raises(ValueError, match="k must be >= 1, or 0 to choose it; got -1"):
        decide_k(-1, good)


def test_refusals_pickle_with_their_fields():
    import pickle

    e = NoStableK("No stable k: ...", _scores([(2, 0.5, 0.6)]), candidate=2, knee=None, report_path="/r")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is NoStableK and (back.reason, back.scores, back.candidate, back.report_path) == (
        e.reason, e.scores, 2, "/r") and str(back) == str(e)
