"""Choose k: the elbow curve of k-means++ inertia over a range of k, as in the seed.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0], [0.5], [10.0], [10.5]])
>>> curve = elbow_curve(X, k_values=[1, 2], n_init=4, random_state=0, scale=False)
>>> [round(c.inertia, 3) for c in curve]
[100.25, 0.25]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class ElbowPoint:
    """One k of the elbow curve."""

    k: int
    inertia: float
    silhouette: float | None


def make_model(k: int, *, n_init: int = 10, random_state: int = 0, scale: bool = True) -> Pipeline:
    """StandardScaler + KMeans(k-means++) with an explicit `n_init` (sklearn's 'auto' means one run)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if n_init < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init!r}")
    steps = [("scale", StandardScaler())] if scale else []
    steps.append(("kmeans", KMeans(n_clusters=int(k), init="k-means++", n_init=n_init, random_state=random_state)))
    return Pipeline(steps)


def elbow_curve(
    X, *, k_values=range(1, 11), n_init: int = 10, random_state: int = 0, scale: bool = True,
    silhouette_sample: int = 2000,
) -> list[ElbowPoint]:
    """Fit k-means++ for each k and record inertia (and silhouette on a sample for k >= 2).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k_values : iterable of int
        Values of k; those above n_samples are dropped with a warning.
    n_init, random_state : int
        Passed to KMeans.
    scale : bool
        Standardise features first (inertia is then in scaled units).
    silhouette_sample : int
        Silhouette is computed on at most this many rows.

    Returns
    -------
    list of ElbowPoint
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    ks = [int(k) for k in k_values]
    too_big = [k for k in ks if k > n]
    if too_big:
        warnings.warn(f"k values {too_big} exceed the {n} rows and are skipped", stacklevel=2)
    points = []
    for k in (k for k in ks if k <= n):
        model = make_model(k, n_init=n_init, random_state=random_state, scale=scale).fit(X)
        labels = model.named_steps["kmeans"].labels_
        sil = None
        if 2 <= k < n and len(set(labels)) > 1:
            Xs = model[:-1].transform(X) if scale else X
            sil = float(silhouette_score(Xs, labels, sample_size=min(silhouette_sample, n), random_state=random_state))
        points.append(ElbowPoint(k=k, inertia=float(model.named_steps["kmeans"].inertia_), silhouette=sil))
    return points


def fit_segments(X, k: int, *, n_init: int = 10, random_state: int = 0):
    """Fit the final model; return (model, labels, distance to own centroid, confidence).

    Confidence here is the distance margin ``1 - d_own / d_second`` (0 on a boundary, 1 at the
    centroid), in scaled units; the stability ensemble replaces it with the share of agreeing runs.
    A fit with fewer distinct clusters than `k` warns.
    """
    X = np.asarray(X, dtype=float)
    model = make_model(k, n_init=n_init, random_state=random_state).fit(X)
    distances = model.transform(X)  # distances to every centroid, scaled space
    labels = model.named_steps["kmeans"].labels_
    found = len(np.unique(labels))
    if found < k:
        warnings.warn(f"k-means found {found} distinct clusters, fewer than k={k}", stacklevel=2)
    ordered = np.sort(distances, axis=1)
    own = ordered[:, 0]
    second = ordered[:, 1] if k > 1 else ordered[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        confidence = np.where(second > 0, 1.0 - own / second, 1.0)
    return model, labels, own, confidence
