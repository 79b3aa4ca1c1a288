"""StableKMeans on data with known answers: separated blobs, structureless noise, and a large N."""

from __future__ import annotations

import tracemalloc
import warnings
from typing import NamedTuple

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import check_estimator

from snowseg.clustering import ensemble
from snowseg.clustering.ensemble import StableKMeans, stability_band


def blobs(k: int, n: int = 3000, d: int = 5, seed: int = 7):
    """k well separated spherical blobs: std 1 in a (-20, 20)^d box, so centers are ~10+ std apart."""
    return make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=1.0, center_box=(-20, 20),
                      random_state=seed, return_centers=True)


@pytest.mark.parametrize("k", [3, 5, 8])
def test_blobs_recover_known_clusters(k):
    X, truth, true_centers = blobs(k)
    model = StableKMeans(n_clusters=k, n_runs=20, random_state=0).fit(X)
    assert adjusted_rand_score(truth, model.labels_) >= 0.95
    assert np.all(model.cluster_stability_ >= 0.85), model.cluster_stability_
    assert {stability_band(j) for j in model.cluster_stability_} == {"highly stable"}
    assert model.confidence_.mean() >= 0.95
    assert model.runs_ari_ >= 0.9
    assert model.jaccard_.shape == (20, k)
    # every consensus center sits on one true center (blob means are within ~0.1 of them at 3000/k rows)
    gaps = np.linalg.norm(model.cluster_centers_[:, None, :] - true_centers[None, :, :], axis=2)
    assert sorted(gaps.argmin(axis=1).tolist()) == list(range(k))
    assert gaps.min(axis=1).max() < 0.3
    expected_inertia = ((X - model.cluster_centers_[model.labels_]) ** 2).sum()
    assert model.inertia_ == pytest.approx(expected_inertia, rel=1e-9)
    assert model.labels_.dtype == np.int32 and model.labels_.shape == (len(X),)
    assert model.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("refine_rows", [ensemble.REFINE_ROWS, 500], ids=["all-rows", "sampled-rows"])
def test_same_seed_is_byte_identical_whatever_n_jobs(refine_rows, monkeypatch):
    monkeypatch.setattr(ensemble, "REFINE_ROWS", refine_rows)  # 500: candidates scored on 200 k = 1000 rows
    X, _, _ = blobs(5, n=2000)
    fits = [StableKMeans(n_clusters=5, n_runs=10, random_state=3, n_jobs=n_jobs).fit(X) for n_jobs in (1, 1, 2)]
    first = fits[0]
    scored_share = first.candidate_inertia_.min() / first.inertia_  # inertia sums over rows: ~ the share scored
    assert scored_share == pytest.approx(1.0 if refine_rows > len(X) else 0.5, abs=0.05)
    for other in fits[1:]:
        assert np.array_equal(first.labels_, other.labels_)
        assert np.array_equal(first.confidence_, other.confidence_)
        assert np.array_equal(first.cluster_centers_, other.cluster_centers_)
        assert np.array_equal(first.reference_centers_, other.reference_centers_)
        assert np.array_equal(first.run_centers_, other.run_centers_)
        assert np.array_equal(first.candidate_inertia_, other.candidate_inertia_)
        assert np.array_equal(first.cluster_stability_, other.cluster_stability_)
        assert np.array_equal(first.jaccard_, other.jaccard_, equal_nan=True)
        assert first.inertia_ == other.inertia_ and first.runs_ari_ == other.runs_ari_
        assert first.reference_candidate_ == other.reference_candidate_


def test_same_seed_identical_on_noise_too():
    # on noise the runs disagree a lot, so this pins every run's draw and fit, not just an easy consensus
    X = np.random.default_rng(5).uniform(size=(1500, 6))
    a = StableKMeans(n_clusters=4, n_runs=8, random_state=11, n_jobs=1).fit(X)
    b = StableKMeans(n_clusters=4, n_runs=8, random_state=11, n_jobs=2).fit(X)
    assert np.array_equal(a.labels_, b.labels_) and np.array_equal(a.confidence_, b.confidence_)
    assert np.array_equal(a.jaccard_, b.jaccard_, equal_nan=True)
    c = StableKMeans(n_clusters=4, n_runs=8, random_state=12).fit(X)
    assert not np.array_equal(a.confidence_, c.confidence_)


def test_different_seeds_publish_the_same_labels_on_blobs():
    # one best partition: every random_state finds it, and clusters are numbered by their first row
    X, _, _ = blobs(5)
    fits = [StableKMeans(n_clusters=5, n_runs=10, random_state=seed).fit(X) for seed in (1, 2, 3)]
    for other in fits[1:]:
        assert np.array_equal(fits[0].labels_, other.labels_)
        np.testing.assert_allclose(fits[0].cluster_centers_, other.cluster_centers_, rtol=0, atol=1e-12)
    first_rows = [int(np.argmax(fits[0].labels_ == c)) for c in range(5)]
    assert first_rows == sorted(first_rows) and first_rows[0] == 0


class Reference(NamedTuple):
    """What the reference fit is replaced with: its starts from the blobs' true centers (None: the real fit)."""

    starts: object
    overturned: bool


def _split_and_merge(centers: np.ndarray) -> np.ndarray:
    """Starts of a k-means local optimum: blob 0 split in two, blobs 1 and 2 merged, the others as they are."""
    shift = np.full(centers.shape[1], 0.5)
    return np.vstack([centers[0] + shift, centers[0] - shift, (centers[1] + centers[2]) / 2, centers[3:]])


@pytest.mark.parametrize("case", [
    pytest.param(Reference(None, False), id="real-reference-fit"),
    pytest.param(Reference(_split_and_merge, True), id="reference-fit-in-a-local-optimum"),
])
def test_consensus_is_the_least_inertia_candidate(case, monkeypatch):
    """Candidates are the reference fit and every run, refined on all rows; the least inertia wins and is run
    to convergence, so a reference fit stuck in a local optimum is overturned by the runs (the vote of the
    runs, aligned to it, used to keep its clusters)."""
    X, truth, centers = blobs(5)
    if case.starts is not None:
        stuck = KMeans(n_clusters=5, init=case.starts(centers), n_init=1).fit(X)
        monkeypatch.setattr(ensemble, "_fit_reference", lambda *args, **kwargs: stuck)
    model = StableKMeans(n_clusters=5, n_runs=10, random_state=0).fit(X)
    assert model.candidate_inertia_.shape == (11,)
    assert model.reference_candidate_ == int(np.argmin(model.candidate_inertia_))
    assert model.inertia_ <= model.candidate_inertia_.min() * (1 + 1e-12)  # Lloyd only lowers it
    best = KMeans(n_clusters=5, n_init=20, random_state=0).fit(X)
    assert model.inertia_ == pytest.approx(best.inertia_, rel=1e-9)
    assert adjusted_rand_score(truth, model.labels_) == 1.0
    np.testing.assert_allclose(model.reference_centers_, model.cluster_centers_, rtol=0, atol=1e-9)
    if case.overturned:
        assert model.candidate_inertia_[0] > 2 * model.inertia_ and model.reference_candidate_ > 0


def test_uniform_noise_is_not_reported_stable():
    # Uniform noise has no clusters. In 2-D, k=4 cuts the square into quadrants that every resample
    # finds again (mean Jaccard ~0.95-0.99 measured): stability measures reproducibility, not whether
    # clusters exist. In 6-D a cube has many near-equivalent k=4 partitions, and the runs disagree.
    X = np.random.default_rng(0).uniform(size=(2000, 6))
    model = StableKMeans(n_clusters=4, n_runs=20, random_state=0).fit(X)
    assert model.cluster_stability_.max() < 0.75, model.cluster_stability_
    assert all(stability_band(j) in ("doubtful", "dissolved") for j in model.cluster_stability_)
    assert model.confidence_.mean() < 0.8
    assert model.runs_ari_ < 0.6


def test_stability_uses_each_runs_sampled_rows(monkeypatch):
    """Recompute clusterboot's Jaccard from the runs' own outputs: subsample runs are judged on their
    round(0.8 n) rows, bootstrap runs on their distinct rows (about 1 - 1/e of n), never on all n."""
    X, truth, _ = blobs(4, n=2000)
    real = ensemble._one_run
    for bootstrap in (False, True):
        runs = []

        def recording(*args, runs=runs, **kwargs):
            out = real(*args, **kwargs)
            runs.append(out)
            return out

        monkeypatch.setattr(ensemble, "_one_run", recording)
        model = StableKMeans(n_clusters=4, n_runs=6, random_state=0, bootstrap=bootstrap).fit(X)
        monkeypatch.undo()
        assert len(runs) == 6
        for r, (labels, in_sample, _) in enumerate(runs):  # the run's own numbering: max Jaccard ignores it
            size = in_sample.sum()
            if bootstrap:
                assert 0.58 * len(X) < size < 0.68 * len(X)
            else:
                assert size == round(0.8 * len(X))
            for c in range(4):
                a = (model.labels_ == c) & in_sample
                best = max(((labels == j) & a).sum() / (((labels == j) & in_sample) | a).sum() for j in range(4))
                assert model.jaccard_[r, c] == pytest.approx(best)
        assert adjusted_rand_score(truth, model.labels_) >= 0.95
        assert np.all(model.cluster_stability_ >= 0.85)


@pytest.mark.parametrize("data", ["blobs", "noise"])
def test_run_centers_reproduce_confidence(data):
    """run_centers_ (aligned, input space) give back confidence_: the share of runs whose nearest
    centroid is the row's consensus cluster (the warehouse computes it this way)."""
    if data == "blobs":
        X = blobs(4, n=2000)[0] + 1000.0  # an offset: run centers must come back in the input space
    else:
        X = np.random.default_rng(2).uniform(size=(2000, 4))
    model = StableKMeans(n_clusters=4, n_runs=8, random_state=0).fit(X)
    assert model.run_centers_.shape == (8, 4, X.shape[1])
    nearest = np.stack([((X[:, None, :] - c[None]) ** 2).sum(axis=2).argmin(axis=1) for c in model.run_centers_])
    share = (nearest == model.labels_).mean(axis=0)
    assert (share == model.confidence_).mean() >= 0.999  # float32 runs: a boundary row may flip
    if data == "blobs":
        gaps = np.linalg.norm(model.run_centers_ - model.cluster_centers_[None], axis=2)
        assert gaps.max() < 0.2


def test_predict_matches_labels_on_training_rows():
    X, _, _ = blobs(5)
    model = StableKMeans(n_clusters=5, n_runs=10, random_state=0).fit(X)
    assert (model.predict(X) == model.labels_).mean() >= 0.99
    assert np.array_equal(model.fit_predict(X), model.labels_)
    # new points next to each consensus center get that center's label
    assert model.predict(model.cluster_centers_ + 0.1).tolist() == list(range(5))


def test_labels_are_the_nearest_center_and_boundary_rows_are_uncertain():
    # the consensus is a converged Lloyd partition: every training row is in the cluster of its nearest
    # consensus center. On noise the runs split on the rows near a boundary: the 10 % of rows with the
    # smallest margin between their two nearest centers had mean confidence 0.48-0.56, the half with the
    # largest 0.76-0.82 (random_state 0-3)
    X = np.random.default_rng(1).uniform(size=(2000, 3))
    model = StableKMeans(n_clusters=3, n_runs=10, random_state=0).fit(X)
    assert np.array_equal(model.predict(X), model.labels_)
    d = np.sort(np.linalg.norm(X[:, None, :] - model.cluster_centers_[None], axis=2), axis=1)
    margin = d[:, 1] - d[:, 0]
    near, far = margin < np.quantile(margin, 0.1), margin > np.quantile(margin, 0.5)
    assert model.confidence_[near].mean() < model.confidence_[far].mean() - 0.15


def test_large_n_never_builds_n_by_n():
    # an N x N float64 co-association matrix at N = 200 000 would be 320 GB; the ensemble keeps an
    # (N, R) int8 matrix, an (N, R) bool mask and (N, k) vote counts: a few MB here
    X, truth = make_blobs(n_samples=200_000, centers=[[-10.0, 0.0], [0.0, 10.0], [10.0, 0.0]], random_state=0)
    tracemalloc.start()
    try:
        model = StableKMeans(n_clusters=3, n_runs=5, random_state=0, n_jobs=2).fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100e6, f"peak {peak / 1e6:.0f} MB"
    assert adjusted_rand_score(truth, model.labels_) >= 0.99


def test_single_cluster_and_single_run():
    X, _, _ = blobs(3, n=300)
    one = StableKMeans(n_clusters=1, n_runs=3, random_state=0).fit(X)
    assert np.all(one.labels_ == 0) and np.all(one.confidence_ == 1.0)
    assert one.cluster_stability_.tolist() == [1.0]
    np.testing.assert_allclose(one.cluster_centers_[0], X.mean(axis=0))
    single = StableKMeans(n_clusters=3, n_runs=1, random_state=0).fit(X)
    assert np.all(single.confidence_ == 1.0) and single.jaccard_.shape == (1, 3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # sklearn's own, per fit
def test_empty_consensus_cluster_warns_and_scores_zero():
    # two distinct points, k = 3: one cluster cannot get rows
    X = np.array([[0.0, 0.0]] * 10 + [[5.0, 5.0]] * 10)
    with pytest.warns(UserWarning, match=r"consensus clusters \[\d\] got no rows"):
        model = StableKMeans(n_clusters=3, n_runs=5, random_state=0).fit(X)
    empty = int(np.setdiff1d(np.arange(3), model.labels_)[0])
    assert model.cluster_stability_[empty] == 0.0
    assert sorted(np.delete(model.cluster_stability_, empty).tolist()) == [1.0, 1.0]
    assert np.all(np.isfinite(model.cluster_centers_))
    assert np.isin(model.predict(X), np.unique(model.labels_)).all()


def test_float32_input_stays_float32():
    X, truth, _ = blobs(3, n=1000)
    model = StableKMeans(n_clusters=3, n_runs=5, random_state=0).fit(X.astype(np.float32))
    assert model.cluster_centers_.dtype == np.float32
    assert adjusted_rand_score(truth, model.labels_) >= 0.95


def test_ari_from_contingency_matches_sklearn():
    rng = np.random.default_rng(0)
    for k in (2, 4, 7):
        a, b = rng.integers(0, k, 500), rng.integers(0, k, 500)
        b[:300] = a[:300]
        table = ensemble._contingency(a, b, k)
        assert ensemble._ari_from_contingency(table) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    assert ensemble._ari_from_contingency(ensemble._contingency(np.zeros(5, int), np.zeros(5, int), 1)) == 1.0


@pytest.mark.parametrize(("j", "band"), [(1.0, "highly stable"), (0.85, "highly stable"), (0.8499, "stable"),
                                         (0.75, "stable"), (0.7499, "doubtful"), (0.5001, "doubtful"),
                                         (0.5, "dissolved"), (0.0, "dissolved")])
def test_stability_bands(j, band):
    assert stability_band(j) == band


@pytest.mark.parametrize(("params", "message"), [
    ({"n_clusters": 0}, "n_clusters must be an integer >= 1"),
    ({"n_clusters": 2.5}, "n_clusters must be an integer >= 1"),
    ({"n_clusters": 11}, "n_clusters=11 is more than the 10 rows"),
    ({"n_runs": 0}, "n_runs must be an integer >= 1"),
    ({"subsample": 0.0}, r"subsample must be a share in \(0, 1\]"),
    ({"subsample": 1.5}, r"subsample must be a share in \(0, 1\]"),
    ({"n_init": 0}, "n_init must be an integer >= 1"),
    ({"max_iter": 0}, "max_iter must be an integer >= 1"),
    ({"random_state": -1}, "random_state must be None or an integer >= 0"),
    ({"n_jobs": 0}, "n_jobs must be None or a non-zero integer"),
    ({"bootstrap": "yes"}, "bootstrap must be True or False"),
])
def test_bad_params_raise(params, message):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=message):
        StableKMeans(**{"n_clusters": 2, **params}).fit(X)


def test_predict_checks_fit_and_features():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        StableKMeans().predict(np.zeros((2, 2)))
    model = StableKMeans(n_clusters=2, n_runs=2, random_state=0).fit(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(ValueError, match="X has 2 features"):
        model.predict(np.zeros((2, 2)))


def test_scikit_learn_estimator_checks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(StableKMeans(n_clusters=3, n_runs=3, random_state=0))


@pytest.mark.filterwarnings("ignore:consensus clusters")  # 2 runs of 130 clusters may leave one empty
@pytest.mark.parametrize("k", [70, 130])
def test_many_clusters_label_arithmetic(k, monkeypatch):
    """k > 63 overflows int8 arithmetic on codes (2 * label); k > 127 needs int16 labels: the tables
    must still match a brute-force count."""
    X, _ = make_blobs(n_samples=20 * k, centers=k, cluster_std=0.1, center_box=(-100, 100), random_state=0)
    runs = []
    real = ensemble._one_run

    def recording(*args, **kwargs):
        runs.append(real(*args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(ensemble, "_one_run", recording)
    model = StableKMeans(n_clusters=k, n_runs=2, n_init=1, random_state=0).fit(X)
    assert runs[0][0].dtype == (np.int8 if k <= 128 else np.int16)
    for r, (labels, in_sample, _) in enumerate(runs):
        for c in np.flatnonzero(np.bincount(model.labels_, minlength=k))[:5]:
            a = (model.labels_ == c) & in_sample
            best = max(((labels == j) & a).sum() / (((labels == j) & in_sample) | a).sum() for j in np.unique(labels[a]))
            assert model.jaccard_[r, c] == pytest.approx(best)
    assert np.all((model.confidence_ > 0) & (model.confidence_ <= 1))
