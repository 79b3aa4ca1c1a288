"""Stability ensemble for k-means: a reproducible consensus partition, per-row confidence, per-cluster stability.

:class:`StableKMeans` fits a reference k-means on all rows and reruns k-means on ``n_runs``
subsamples (or bootstrap samples). The reference fit and every run are candidates: each one's
centres get a few Lloyd iterations on all rows (on a fixed random sample of them for large N) and the
candidate of least inertia, run to convergence on all rows, is the published partition. Where the
data have one best partition, every ``random_state`` finds it. The runs' own labels, aligned to it
with the Hungarian method, say how sure it is: each row gets the share of runs that agree with its
label; each cluster gets Hennig's clusterboot stability, the mean over runs of the best Jaccard
similarity between the cluster and a cluster of the run, on the rows the run was fitted on. Time
and memory are O(N * R * k): the aligned labels are kept as an (N, R) matrix of small integers, and
no N x N co-association matrix is ever built.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
>>> model = StableKMeans(n_clusters=2, n_runs=5, random_state=0).fit(X)
>>> sorted(np.bincount(model.labels_).tolist())
[50, 50]
>>> [stability_band(j) for j in model.cluster_stability_]
['highly stable', 'highly stable']
>>> float(model.confidence_.min())
1.0
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from scipy.optimize import linear_sum_assignment
from sklearn import config_context
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.metrics import pairwise_distances_argmin
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

__all__ = ["ALGORITHM_VERSION", "STABILITY_BANDS", "StableKMeans", "stability_band"]

#: Changes whenever the same data and parameters would give another partition; part of a model run's fingerprint,
#: so that a new version publishes anew instead of keeping an older version's segments current.
#: 2: the lowest-inertia candidate (reference fit and runs, refined) instead of the runs' vote.
ALGORITHM_VERSION = 2

#: clusterboot's reading of a cluster's mean Jaccard (Hennig 2007; fpc's ``clusterboot`` help):
#: (lower bound, inclusive?, band), checked top-down; anything not above 0.5 is "dissolved".
STABILITY_BANDS: tuple[tuple[float, bool, str], ...] = (
    (0.85, True, "highly stable"),
    (0.75, True, "stable"),
    (0.5, False, "doubtful"),
)

# Joblib backend for the runs. Threads: sklearn's Lloyd loop and assignment are Cython with the GIL
# released and k-means++ is mostly large numpy/BLAS calls, so two threads keep two cores busy with no
# pickling or process start-up (loky's fixed cost exceeds a whole 1e4-row ensemble; see the benchmark).
_BACKEND = "threading"

#: A run seeds k-means++ from at most max(SEED_ROWS, 200 * k) of its rows, drawn at random, then runs
#: Lloyd on all of them. Seeding costs O(rows * k * (2 + log k)) and is a large part of a run on
#: separated data, where Lloyd converges in a few iterations; 200 rows per cluster on average hold
#: every cluster of more than ~1 % of the data dozens of times, so the seeds are as good.
SEED_ROWS = 5_000

#: Lloyd iterations that every candidate's centres (the reference fit's, each run's) get on the
#: refinement rows before the candidates are compared by inertia (:func:`_refine`). From a fit on 80 %
#: of the rows a few settle which local optimum a candidate is in; the winner alone is then run to
#: convergence on all rows. On the seed file, random_state 0-9, 5 pick the same winners as no limit, 3 do not.
REFINE_ITER = 10

#: Candidates are refined and scored on at most max(REFINE_ROWS, 200 * k) rows, drawn at random once per
#: fit (all rows below it); the winner is then run to convergence on all rows.
REFINE_ROWS = 20_000


def stability_band(j: float) -> str:
    """clusterboot's band for a cluster's mean Jaccard stability.

    Hennig (2007) and fpc's ``clusterboot`` read a cluster's mean Jaccard over resamples as: at least
    0.85 "highly stable"; at least 0.75 "stable"; above 0.5 "doubtful" (0.6-0.75: the cluster shows
    some pattern, but which points belong to it is not to be trusted); at most 0.5 "dissolved".

    Parameters
    ----------
    j : float
        Mean Jaccard similarity in [0, 1].

    Returns
    -------
    str
        One of "highly stable", "stable", "doubtful", "dissolved".

    Examples
    --------
    >>> [stability_band(j) for j in (0.9, 0.85, 0.8, 0.6, 0.5, 0.1)]
    ['highly stable', 'highly stable', 'stable', 'doubtful', 'dissolved', 'dissolved']
    """
    j = float(j)
    if np.isnan(j):
        raise ValueError("stability is NaN")
    for bound, inclusive, band in STABILITY_BANDS:
        if j > bound or (inclusive and j == bound):
            return band
    return "dissolved"


def _label_dtype(n_clusters: int) -> type:
    """Smallest signed integer type that holds labels 0 .. n_clusters - 1."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_clusters - 1 <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _contingency(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """k x k table of counts of (a, b) label pairs, O(len(a)) time and O(k^2) memory."""
    return np.bincount(a.astype(np.int32 if k * k <= np.iinfo(np.int32).max else np.int64) * k + b,
                       minlength=k * k).reshape(k, k)


def _ari_from_contingency(table: np.ndarray) -> float:
    """Adjusted Rand index from a contingency table (as sklearn's adjusted_rand_score)."""
    table = table.astype(np.float64)
    n = table.sum()
    sum_cells = (table * (table - 1)).sum() / 2
    sum_rows = (table.sum(axis=1) * (table.sum(axis=1) - 1)).sum() / 2
    sum_cols = (table.sum(axis=0) * (table.sum(axis=0) - 1)).sum() / 2
    expected = sum_rows * sum_cols / (n * (n - 1) / 2) if n > 1 else 0.0
    maximum = (sum_rows + sum_cols) / 2
    if maximum == expected:  # both partitions trivial (one cluster, or all singletons)
        return 1.0
    return float((sum_cells - expected) / (maximum - expected))


def _draw_rows(rng: np.random.Generator, n: int, m: int, bootstrap: bool, n_clusters: int):
    """One run's rows: (sorted distinct row indices, their multiplicity as weights or None)."""
    if not bootstrap:  # draw the smaller of the sample and its complement
        keep = m <= n - m
        mask = np.full(n, not keep)
        mask[rng.choice(n, size=m if keep else n - m, replace=False, shuffle=False)] = keep
        return np.flatnonzero(mask), None
    for _ in range(1000):
        counts = np.bincount(rng.integers(0, n, size=n), minlength=n)
        rows = np.flatnonzero(counts)
        if len(rows) >= n_clusters:
            return rows, counts[rows]
    raise ValueError(f"bootstrap samples keep fewer than n_clusters={n_clusters} distinct rows")


def _controller() -> ThreadpoolController:
    """One ThreadpoolController per process (building one scans the loaded libraries: ~4 ms)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


_CONTROLLER: ThreadpoolController | None = None


def _runs_copy(X: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """The runs' copy of X: centered (in X's precision), then float32; and the offset to add back.

    A run only labels rows, and float32 halves the bytes of every pass a run makes over its rows
    (copy, variance, centering, Lloyd, assignment): 10-15 % of a run at 1e5-1e6 rows, and its
    sample copies are half the size. Centering first keeps float32's 7 digits for the spread, not
    for a large offset (1.7e9 +- 1e3 survives; cast as is, it would be rounded to steps of 128).
    """
    if X.dtype == np.float32:
        return X, np.zeros(X.shape[1])
    mean = X.mean(axis=0)
    out = np.empty(X.shape, dtype=np.float32)
    for start in range(0, X.shape[0], chunk):
        np.subtract(X[start:start + chunk], mean, out=out[start:start + chunk], casting="same_kind")
    return out, mean


def _sampled_kmeans_plusplus(X: np.ndarray, n_clusters: int, random_state: np.random.RandomState) -> np.ndarray:
    """k-means++ seeds from ``max(SEED_ROWS, 200 k)`` of X's rows drawn at random (all rows if fewer): a KMeans init."""
    seed_rows = max(SEED_ROWS, 200 * n_clusters)
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if X.shape[0] > seed_rows:
        X = X[np.sort(rng.choice(X.shape[0], size=seed_rows, replace=False))]
    centers, _ = kmeans_plusplus(X.astype(np.float64, copy=False), n_clusters,  # float64: as in _one_run
                                 random_state=int(rng.integers(np.iinfo(np.int32).max)))
    return centers.astype(X.dtype)


def _fit_reference(X: np.ndarray, n_clusters: int, n_init: int, max_iter: int, seed: int) -> KMeans:
    """The reference fit: ``n_init`` restarts on all rows, each seeded as a run is, on one thread (see _one_run)."""
    with _controller().limit(limits=1), config_context(assume_finite=True):
        return KMeans(n_clusters=n_clusters, init=_sampled_kmeans_plusplus, n_init=n_init, max_iter=max_iter,
                      random_state=seed).fit(X)


def _one_run(X: np.ndarray, n_clusters: int, m: int, bootstrap: bool, max_iter: int,
             seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit k-means on one resample and assign all rows to its nearest centroid.

    Runs with one OpenMP and one BLAS thread whatever the caller's parallelism, so a run's floating
    point (and so its labels) depends neither on ``n_jobs`` nor on the machine's number of cores.

    Returns
    -------
    labels : ndarray of shape (n_samples,), small int
        The run's label of every row (the run's own numbering).
    in_sample : ndarray of shape (n_samples,), bool
        Rows the run was fitted on (distinct rows for a bootstrap sample).
    centers : ndarray of shape (n_clusters, n_features)
        The run's centroids, in X's space (X here is the runs' centered copy).
    """
    rng = np.random.default_rng(seed)
    km_seed = int(rng.integers(np.iinfo(np.int32).max))
    rows, weights = _draw_rows(rng, X.shape[0], m, bootstrap, n_clusters)
    # OpenMP's thread count is per calling thread; BLAS's is process-wide (fit() limits it as well).
    # X was checked for NaN/inf by fit(): sklearn need not scan it again on every run.
    with _controller().limit(limits=1), config_context(assume_finite=True):
        Xr = X[rows]
        w = None if weights is None else weights.astype(X.dtype)
        init = "k-means++"
        seed_rows = max(SEED_ROWS, 200 * n_clusters)
        if len(rows) > seed_rows:  # k-means++ on a random share of the run's rows, then Lloyd on all of them
            sub = np.sort(rng.choice(len(rows), size=seed_rows, replace=False))
            # in float64: sklearn's float32 distances upcast chunk by chunk, 3x slower here
            init, _ = kmeans_plusplus(Xr[sub].astype(np.float64), n_clusters, random_state=km_seed,
                                      sample_weight=None if w is None else w[sub].astype(np.float64))
        km = KMeans(n_clusters=n_clusters, init=init, n_init=1, max_iter=max_iter, random_state=km_seed,
                    copy_x=False)  # X[rows] is already a private copy
        km.fit(Xr, sample_weight=w)
        labels = km.predict(X).astype(_label_dtype(n_clusters))
    in_sample = np.zeros(X.shape[0], dtype=bool)
    in_sample[rows] = True
    return labels, in_sample, km.cluster_centers_


def _refine(X_refine: np.ndarray, X64_refine: np.ndarray, offset: np.ndarray,
            centers: np.ndarray) -> tuple[np.ndarray, float]:
    """A candidate's centres after at most ``REFINE_ITER`` Lloyd iterations on the refinement rows, and its inertia.

    Lloyd runs on the runs' float32 copy of those rows, on one thread; the inertia is computed in
    float64 on the input's rows, so candidates compare to ~1e-12 relative rather than float32's
    ~1e-5 over a million rows (distinct local optima of the seed file differ by 5e-6).

    Returns
    -------
    refined : ndarray of shape (n_clusters, n_features), float64
        The refined centres, in the input space.
    inertia : float
        Sum of squared distances (float64) of the refinement rows to their nearest refined centre.
    """
    with _controller().limit(limits=1), config_context(assume_finite=True):
        km = KMeans(n_clusters=len(centers), init=centers.astype(X_refine.dtype), n_init=1, max_iter=REFINE_ITER,
                    tol=0.0, random_state=0).fit(X_refine)  # copies X_refine (sklearn centres it in place)
    refined = km.cluster_centers_.astype(np.float64) + offset
    return refined, _inertia(X64_refine, refined, km.labels_)


def _reference_candidate(X: np.ndarray, X_refine: np.ndarray, X64_refine: np.ndarray, offset: np.ndarray,
                         n_clusters: int, n_init: int, max_iter: int, seed: int) -> tuple[np.ndarray, float]:
    """The reference fit (:func:`_fit_reference`) as a candidate: its centres refined, and their inertia (_refine)."""
    reference = _fit_reference(X, n_clusters, n_init, max_iter, seed)
    return _refine(X_refine, X64_refine, offset, reference.cluster_centers_ - offset)


def _candidate_run(X_runs: np.ndarray, X_refine: np.ndarray, X64_refine: np.ndarray, offset: np.ndarray,
                   n_clusters: int, m: int, bootstrap: bool, max_iter: int, seed: np.random.SeedSequence):
    """One run (:func:`_one_run`) and its centres refined as a candidate (:func:`_refine`).

    The run's own labels, fitted on its sample, are returned unchanged: they are what the
    stability and the confidence measure. Only the choice of the reference uses the refinement.

    Returns
    -------
    labels, in_sample, centers
        As :func:`_one_run`.
    refined, inertia
        As :func:`_refine`.
    """
    labels, in_sample, centers = _one_run(X_runs, n_clusters, m, bootstrap, max_iter, seed)
    return (labels, in_sample, centers, *_refine(X_refine, X64_refine, offset, centers))


def _polish(X: np.ndarray, centers: np.ndarray, max_iter: int) -> KMeans:
    """Lloyd on all rows of X from the given centres to strict convergence (labels stop changing), one thread."""
    with _controller().limit(limits=1), config_context(assume_finite=True):
        return KMeans(n_clusters=len(centers), init=centers.astype(X.dtype), n_init=1, max_iter=max_iter, tol=0.0,
                      random_state=0).fit(X)


def _first_row_order(labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """rename[c]: clusters numbered in the order of their first row (clusters without rows last, in order)."""
    n = len(labels)
    first = np.array([int(np.argmax(hit)) if (hit := labels == c).any() else n + c for c in range(n_clusters)])
    rename = np.empty(n_clusters, dtype=np.int64)
    rename[np.argsort(first, kind="stable")] = np.arange(n_clusters)
    return rename


def _rename(reference: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """A run's label j becomes rename[j], the reference's: Hungarian matching of maximum overlap on the
    k x k contingency table."""
    ref_ids, run_ids = linear_sum_assignment(_contingency(reference, labels, n_clusters), maximize=True)
    rename = np.empty(n_clusters, dtype=labels.dtype)
    rename[run_ids] = ref_ids
    return rename


class StableKMeans(ClusterMixin, BaseEstimator):
    """k-means++ with a resampling ensemble: consensus labels, per-row confidence, per-cluster stability.

    ``fit`` does, in order:

    1. A reference fit: ``KMeans(n_init=n_init)`` on all rows, each start's k-means++ seeding drawn
       from ``max(SEED_ROWS, 200 k)`` random rows (as a run's).
    2. ``n_runs`` runs. Run r draws ``subsample`` of the rows without replacement (or, with
       ``bootstrap=True``, n rows with replacement) with its own generator spawned from
       ``np.random.SeedSequence(random_state)``, fits k-means with one k-means++ start on them and
       assigns all rows to the run's nearest centroid.
    3. Candidates: the reference fit's centres and each run's get at most ``REFINE_ITER`` Lloyd
       iterations on the refinement rows (all rows, or ``max(REFINE_ROWS, 200 k)`` of them drawn at
       random once per fit when there are more) and are scored by their inertia there, in float64.
    4. The candidate of least inertia (the first of equals) is run by Lloyd on all rows until no label
       changes: its partition is ``labels_``, clusters numbered in the order of their first row, so
       that two fits that find the same partition publish the same labels.
    5. Each run's labels (its own, from step 2, not refined) are renamed to the consensus's by
       Hungarian matching on the k x k contingency table (maximum overlap) and kept in an (N, R)
       int8/int16 matrix; ``confidence_`` is the share of runs that agree with a row's label.
    6. ``cluster_stability_[c]`` is clusterboot's (Hennig 2007): per run, on the rows the run was
       fitted on (distinct rows of a bootstrap sample), the largest Jaccard similarity between
       consensus cluster c and any cluster of the run; then the mean over runs. Read it with
       :func:`stability_band`.
    7. ``cluster_centers_`` are the means of X over the consensus clusters; every training row is in
       the cluster of its nearest centre (``predict(X) == labels_`` up to exact ties).

    Design, measured with ``bench/bench_reproducibility.py`` (the seed file at k=3, random_state
    0-9) and ``bench/bench_ensemble.py`` (make_blobs, k=5, 10 features, 2 cores):

    - The published partition is the least-inertia candidate, not the runs' vote. One-start runs on
      subsamples land in different local optima (on the seed file their mean ARI with the consensus
      is 0.5-0.7), and a row-by-row vote mixes them: the vote's partitions had pairwise ARI min 0.48,
      mean 0.76 across random_states, and 1-4 % more inertia than ``KMeans(n_init=200)``. The
      reference fit's ``n_init`` starts and the ``n_runs`` runs make 30 competing starts by default;
      the seed file's partitions now agree across random_states (see the benchmark), at the least
      inertia found.
      Confidence and stability still come from the runs' own labels: refining them towards the
      consensus would make noise look stable.
    - One k-means++ start per run (``n_init=1``), not ``n_init``. Twenty runs of ``n_init`` starts
      would cost 20 reference fits; one start each on 80 % of the rows costs about 1.5-2 more
      (sklearn's fixed passes per fit - copy, variance, centering, assignment of all rows - weigh
      as much as a start on separated data). It is also what clusterboot does with k-means (fpc's
      ``kmeansCBI`` defaults to ``runs=1``). A run stuck in a poor local optimum is not hidden by
      restarts, so stability is, if anything, understated; the reference fit keeps its ``n_init``
      restarts. Runs never start from the reference centers: they would agree by construction and
      report noise as stable.
    - The refinement is cheap: at most ``REFINE_ITER`` Lloyd iterations per candidate from centres
      already fitted on 80 % of the rows, on at most ``max(REFINE_ROWS, 200 k)`` rows, then one Lloyd
      run on all rows for the winner alone. On the seed file, 5 iterations pick the same winners as
      running each candidate to convergence (11-28 iterations), 3 do not.
    - A run's k-means++ seeding looks at ``max(SEED_ROWS, 200 k)`` of its rows drawn at random
      (Lloyd then uses all of them), in float64; the run itself works on a centered float32 copy
      of X made once (:func:`_runs_copy`), and skips sklearn's NaN scans (fit() did one). Together
      about 20-30 % off a run at 1e5-1e6 rows.
    - The reference fit's starts are seeded the same way (a callable ``init``, so sklearn still
      copies, centres and scans X once for all ``n_init`` starts): k-means++ on all rows was half of
      the reference fit's time at 1e5 rows (profiled: 95 of 181 ms), and more at 1e6.
    - Every k-means fit, the reference's included, runs on one OpenMP and one BLAS thread, and
      ``n_jobs`` fits run side by side in joblib threads (sklearn's Lloyd loop releases the GIL;
      k-means++ is large numpy/BLAS calls). So results are byte-identical whatever ``n_jobs`` and
      whatever the number of cores, and threads are never oversubscribed. The reference fit is the
      first task, so with ``n_jobs >= 2`` it overlaps the runs. Measured alternatives: sklearn's
      own two OpenMP threads were 12-40x slower than one thread for ``KMeans(n_init=10)`` at 1e4-1e5
      rows while the shared machine was loaded (load average 2-4: threads wait at barriers for a
      core someone else holds), and no faster at 1e6 when it was quiet; loky processes cost
      seconds of start-up and memory-mapping, more than a whole 1e4-row ensemble.
    - Cost against one ``KMeans(n_init=10)``, before the candidates (vote consensus, quiet machine):
      with ``n_jobs=2`` 2.0-2.6x at 1e5-1e6 rows, with ``n_jobs=1`` 3.2-3.6x (the goal is <= 3);
      linear in rows from 1e5 on (0.34-0.39 s per 1e5 rows with ``n_jobs=1``, KMeans 0.10-0.12). At
      1e4 rows about 5.8x (66 ms against 11 ms): sklearn's fixed cost per fit, ~2 ms, is most of a
      run there. The candidates' refinement and the reference fit's sampled seeding together, timed
      interleaved with that version (CPU seconds, medians; the shared machine at load 2-4): 1.4-1.6x
      at 1e4 rows (21 more sklearn fits' fixed costs), 1.01-1.05x at 1e5, 0.72-0.85x at 1e6. The
      current ``bench_ensemble.py`` numbers: docs/benchmarks.md.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters k, 1 <= k <= n_samples.
    n_runs : int, default=20
        Number of resampled runs R >= 1.
    subsample : float, default=0.8
        Share of rows each run is fitted on, drawn without replacement, in (0, 1] (at least
        ``n_clusters`` rows). Ignored when ``bootstrap=True``.
    bootstrap : bool, default=False
        Fit each run on a bootstrap sample (n rows with replacement). The run is fitted on the
        distinct rows weighted by their multiplicity, which is the same k-means objective at about
        63 % of the cost; stability is computed on those distinct rows.
    n_init : int, default=10
        k-means++ restarts of the reference fit (one of the candidates).
    random_state : int or None, default=None
        Seed of the ``np.random.SeedSequence`` that every fit and resample is spawned from. An int
        makes ``fit`` reproducible, byte for byte, whatever ``n_jobs``.
    n_jobs : int or None, default=None
        Fits run side by side in joblib threads; None means 1 (one core in all), -1 all cores.
        Results do not depend on it; on 2 cores, 2 is 1.55x faster than 1 at 1e6 rows, 1.35x at 1e5.
    max_iter : int, default=300
        Maximum Lloyd iterations of each k-means fit.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,), int32
        Consensus label of each training row: the partition of the least-inertia candidate, run to
        convergence (not the runs' majority vote), clusters numbered in the order of their first row.
    confidence_ : ndarray of shape (n_samples,), float64
        Share of runs whose aligned label equals the consensus label (it can be below 1/2 where the
        runs split: the consensus is not their vote).
    cluster_stability_ : ndarray of shape (n_clusters,), float64
        clusterboot mean Jaccard of each consensus cluster (0 for a cluster without rows).
    jaccard_ : ndarray of shape (n_runs, n_clusters), float64
        Per run, the best Jaccard of each consensus cluster; NaN where the cluster had no row among
        the run's sampled rows (such runs are left out of its mean).
    n_dissolved_ : ndarray of shape (n_clusters,), int
        Runs in which the cluster dissolved (Jaccard <= 0.5; clusterboot's ``bootbrd``).
    n_recovered_ : ndarray of shape (n_clusters,), int
        Runs in which the cluster was recovered (Jaccard >= 0.75; clusterboot's ``bootrecover``).
    runs_ari_ : float
        Mean adjusted Rand index between each run's labels and the consensus, on all rows.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Mean of X over each consensus cluster (the reference center for a cluster without rows).
    reference_centers_ : ndarray of shape (n_clusters, n_features), float64
        Centers of the winning candidate after its Lloyd run on all rows, numbered as ``labels_``
        (equal to ``cluster_centers_`` but for rounding, and for a cluster without rows).
    candidate_inertia_ : ndarray of shape (n_runs + 1,), float64
        Each candidate's inertia on the refinement rows after its refinement: ``[0]`` the reference
        fit's, ``[r + 1]`` run r's.
    reference_candidate_ : int
        Index of the winning candidate in ``candidate_inertia_`` (0: the reference fit).
    run_centers_ : ndarray of shape (n_runs, n_clusters, n_features), float64
        Each run's centroids, in the input space, aligned: ``run_centers_[r, c]`` is the centroid of
        run r matched to cluster c. A row's confidence is the share of runs whose nearest centroid
        here is its cluster, so new rows (or the warehouse) can get one without refitting. The runs
        label rows in float32, so a recomputation in float64 may differ on a row within ~1e-7 of
        a boundary.
    inertia_ : float
        Sum of squared distances of the rows to their consensus cluster's center.
    n_iter_ : int
        Lloyd iterations of the winning candidate's final run on all rows.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when X had string column names (a DataFrame).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [9.0, 9.0], [9.1, 9.0], [9.0, 9.1]])
    >>> model = StableKMeans(n_clusters=2, n_runs=4, random_state=1).fit(X)
    >>> bool(model.labels_[0] == model.labels_[1] == model.labels_[2] != model.labels_[3])
    True
    >>> model.predict([[0.2, 0.2], [8.0, 8.0]]).tolist() == [model.labels_[0], model.labels_[3]]
    True
    """

    def __init__(self, n_clusters: int = 3, n_runs: int = 20, subsample: float = 0.8, bootstrap: bool = False,
                 n_init: int = 10, random_state: int | None = None, n_jobs: int | None = None,
                 max_iter: int = 300):
        self.n_clusters = n_clusters
        self.n_runs = n_runs
        self.subsample = subsample
        self.bootstrap = bootstrap
        self.n_init = n_init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.max_iter = max_iter

    def _check_params(self, n_samples: int) -> None:
        """Raise ValueError on a parameter that cannot work for n_samples rows."""

        def is_int(v) -> bool:
            return isinstance(v, numbers.Integral) and not isinstance(v, bool)

        if not is_int(self.n_clusters) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be an integer >= 1, got {self.n_clusters!r}")
        if self.n_clusters > n_samples:
            raise ValueError(f"n_clusters={self.n_clusters} is more than the {n_samples} rows")
        if not is_int(self.n_runs) or self.n_runs < 1:
            raise ValueError(f"n_runs must be an integer >= 1, got {self.n_runs!r}")
        if (not isinstance(self.subsample, numbers.Real) or isinstance(self.subsample, bool)
                or not 0 < self.subsample <= 1):
            raise ValueError(f"subsample must be a share in (0, 1], got {self.subsample!r}")
        if not isinstance(self.bootstrap, (bool, np.bool_)):
            raise ValueError(f"bootstrap must be True or False, got {self.bootstrap!r}")
        if not is_int(self.n_init) or self.n_init < 1:
            raise ValueError(f"n_init must be an integer >= 1, got {self.n_init!r}")
        if not is_int(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if self.random_state is not None and (not is_int(self.random_state) or self.random_state < 0):
            raise ValueError(f"random_state must be None or an integer >= 0, got {self.random_state!r}")
        if self.n_jobs is not None and (not is_int(self.n_jobs) or self.n_jobs == 0):
            raise ValueError(f"n_jobs must be None or a non-zero integer, got {self.n_jobs!r}")

    def fit(self, X, y=None) -> StableKMeans:
        """Fit the reference, the runs, and the consensus.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows (float64 or float32, kept as given).
        y : Ignored

        Returns
        -------
        self : StableKMeans
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")  # check_array + n_features_in_
        n = X.shape[0]
        self._check_params(n)
        k, R = int(self.n_clusters), int(self.n_runs)
        seeds = np.random.SeedSequence(self.random_state).spawn(R + 2)  # the reference, the runs, the refinement rows

        # 1.-2. the reference fit (task 0, the longest: it goes first) and the runs, each on one thread,
        # n_jobs of them side by side; every run's labels and sampled rows go into one column, and its
        # centres, refined on the refinement rows, become a candidate for the reference
        ref_seed = int(seeds[0].generate_state(1)[0] >> 1)
        m = max(k, int(round(self.subsample * n)))
        aligned = np.empty((n, R), dtype=_label_dtype(k), order="F")  # Fortran order: a run is contiguous
        in_sample = np.empty((n, R), dtype=bool, order="F")
        n_jobs = min(effective_n_jobs(1 if self.n_jobs is None else self.n_jobs), R + 1)
        X_runs, offset = _runs_copy(X)
        X_refine, X64_refine = X_runs, X  # every candidate is refined and scored on the same rows
        refine_rows = max(REFINE_ROWS, 200 * k)
        if n > refine_rows:
            rows = np.sort(np.random.default_rng(seeds[R + 1]).choice(n, size=refine_rows, replace=False))
            X_refine, X64_refine = X_runs[rows], X[rows]
        run_centers = np.empty((R, k, X.shape[1]))
        candidates = np.empty((R + 1, k, X.shape[1]))
        candidate_inertia = np.empty(R + 1)
        tasks = [delayed(_reference_candidate)(X, X_refine, X64_refine, offset, k, self.n_init, self.max_iter,
                                               ref_seed)]
        tasks += [delayed(_candidate_run)(X_runs, X_refine, X64_refine, offset, k, m, bool(self.bootstrap),
                                          self.max_iter, seeds[r + 1]) for r in range(R)]
        with _controller().limit(limits=1, user_api="blas"):  # process-wide: no BLAS threads inside task threads
            results = Parallel(n_jobs=n_jobs, backend=_BACKEND, return_as="generator")(tasks)
            candidates[0], candidate_inertia[0] = next(results)
            for r, (labels, sampled, centers, refined, inertia) in enumerate(results):
                aligned[:, r] = labels
                in_sample[:, r] = sampled
                run_centers[r] = centers + offset
                candidates[r + 1], candidate_inertia[r + 1] = refined, inertia
        del X_runs, X_refine, X64_refine

        # 3. the reference: the candidate of least inertia (the first of equals), run to convergence on all
        # rows; its partition is the consensus, its clusters numbered in the order of their first row
        winner = int(np.argmin(candidate_inertia))
        final = _polish(X, candidates[winner], self.max_iter)
        rename = _first_row_order(final.labels_, k)
        consensus = rename[final.labels_].astype(np.int32)
        reference_centers = np.empty((k, X.shape[1]))
        reference_centers[rename] = final.cluster_centers_
        ref_labels = consensus.astype(_label_dtype(k))

        # 4. align each run to the consensus, in place (labels and centers); a row's confidence is the share
        # of runs whose aligned label is its consensus label
        agree = np.zeros(n, dtype=np.int16 if R <= np.iinfo(np.int16).max else np.int32)
        for r in range(R):
            rename = _rename(ref_labels, aligned[:, r], k)
            aligned[:, r] = rename[aligned[:, r]]
            run_centers[r, rename] = run_centers[r].copy()
            agree += aligned[:, r] == ref_labels
        confidence = agree / R
        del agree, ref_labels

        # 5. clusterboot stability and ARI of each run to the consensus: one (k, k, 2) table per run,
        # (consensus label, run label, row in the run's sample)
        sizes = np.bincount(consensus, minlength=k)
        jaccard = np.full((R, k), np.nan)
        aris = np.empty(R)
        code = consensus.astype(np.int32 if 2 * k * k <= np.iinfo(np.int32).max else np.int64) * (2 * k)
        for r in range(R):
            cell = aligned[:, r].astype(code.dtype)
            cell *= 2
            cell += code
            cell += in_sample[:, r]
            tables = np.bincount(cell, minlength=2 * k * k).reshape(k, k, 2)
            aris[r] = _ari_from_contingency(tables.sum(axis=2))
            table = tables[:, :, 1].astype(np.float64)  # the run's sampled rows only
            union = table.sum(axis=1)[:, None] + table.sum(axis=0)[None, :] - table
            with np.errstate(divide="ignore", invalid="ignore"):
                best = np.where(union > 0, table / union, 0.0).max(axis=1)
            present = table.sum(axis=1) > 0
            jaccard[r, present] = best[present]
        del code, cell
        empty = sizes == 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column: cluster never sampled
            stability = np.nanmean(jaccard, axis=0)
        stability = np.where(np.isnan(stability) | empty, 0.0, stability)
        if empty.any():
            warnings.warn(f"consensus clusters {np.flatnonzero(empty).tolist()} got no rows (of k={k}); their "
                          "stability is 0 and their center is the reference's", UserWarning, stacklevel=2)

        # 6. centers of the consensus clusters, in the input space
        centers = np.empty((k, X.shape[1]), dtype=np.float64)
        for j in range(X.shape[1]):
            centers[:, j] = np.bincount(consensus, weights=X[:, j], minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            centers /= sizes[:, None]
        centers[empty] = reference_centers[empty]

        self.labels_ = consensus
        self.confidence_ = confidence
        self.cluster_stability_ = stability
        self.jaccard_ = jaccard
        self.n_dissolved_ = (jaccard <= 0.5).sum(axis=0)
        self.n_recovered_ = (jaccard >= 0.75).sum(axis=0)
        self.runs_ari_ = float(aris.mean())
        self.cluster_centers_ = centers.astype(X.dtype)
        self.reference_centers_ = reference_centers
        self.run_centers_ = run_centers
        self.candidate_inertia_ = candidate_inertia
        self.reference_candidate_ = winner
        self.inertia_ = _inertia(X, self.cluster_centers_, consensus)
        self.n_iter_ = int(final.n_iter_)
        return self

    def predict(self, X) -> np.ndarray:
        """Nearest consensus center of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)  # same number of features as fit
        return pairwise_distances_argmin(X, self.cluster_centers_.astype(X.dtype)).astype(np.int32)


def _inertia(X: np.ndarray, centers: np.ndarray, labels: np.ndarray, chunk: int = 65536) -> float:
    """Sum of squared distances of rows to their center, in chunks (no N x d temporary)."""
    total = 0.0
    for start in range(0, X.shape[0], chunk):
        diff = X[start:start + chunk] - centers[labels[start:start + chunk]]
        total += float(np.einsum("ij,ij->", diff, diff, dtype=np.float64))
    return total
