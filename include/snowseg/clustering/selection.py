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
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted


class BlockStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise every column, then divide each one-hot block by sqrt(its width).

    A categorical with six values becomes six 0/1 columns; standardised as they are, it would weigh
    six times as much as one numeric column in k-means' distances, and clusters would follow the
    categories rather than the spend. Dividing a block of width w by sqrt(w) gives every variable,
    numeric or categorical, the same total variance.

    Parameters
    ----------
    groups : sequence of sequences of int
        Column indices of each one-hot block; columns in no block keep weight 1.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1, 0, 0, 0], [2.0, 0, 1, 0, 0], [0.0, 0, 0, 1, 0], [2.0, 0, 0, 0, 1]])
    >>> Z = BlockStandardScaler(groups=[[1, 2, 3, 4]]).fit_transform(X)
    >>> [round(float(v), 3) for v in Z.var(axis=0)]
    [1.0, 0.25, 0.25, 0.25, 0.25]
    """

    def __init__(self, groups=()):
        self.groups = groups

    def fit(self, X, y=None):
        """Fit the column means and scales, and the block weights."""
        X = check_array(X)
        self.scaler_ = StandardScaler().fit(X)
        weights = np.ones(X.shape[1])
        for group in self.groups:
            idx = list(group)
            if any(i < 0 or i >= X.shape[1] for i in idx):
                raise ValueError(f"groups refers to columns {idx}, but X has {X.shape[1]} columns")
            weights[idx] = 1.0 / np.sqrt(len(idx))
        self.weights_ = weights
        return self

    def transform(self, X):
        """Standardise and weight."""
        check_is_fitted(self, "weights_")
        return self.scaler_.transform(check_array(X)) * self.weights_


@dataclass(frozen=True)
class ElbowPoint:
    """One k of the elbow curve."""

    k: int
    inertia: float
    silhouette: float | None


def make_model(k: int, *, n_init: int = 10, random_state: int = 0, scale: bool = True, groups=()) -> Pipeline:
    """BlockStandardScaler + KMeans(k-means++) with an explicit `n_init` (sklearn's 'auto' means one run)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if n_init < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init!r}")
    steps = [("scale", BlockStandardScaler(groups=groups))] if scale else []
    steps.append(("kmeans", KMeans(n_clusters=int(k), init="k-means++", n_init=n_init, random_state=random_state)))
    return Pipeline(steps)


def elbow_curve(
    X, *, k_values=range(1, 11), n_init: int = 10, random_state: int = 0, scale: bool = True,
    silhouette_sample: int = 2000, groups=(),
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
    groups : sequence of sequences of int
        One-hot blocks, see :class:`BlockStandardScaler`.
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
        model = make_model(k, n_init=n_init, random_state=random_state, scale=scale, groups=groups).fit(X)
        labels = model.named_steps["kmeans"].labels_
        sil = None
        if 2 <= k < n and len(set(labels)) > 1:
            Xs = model[:-1].transform(X) if scale else X
            sil = float(silhouette_score(Xs, labels, sample_size=min(silhouette_sample, n), random_state=random_state))
        points.append(ElbowPoint(k=k, inertia=float(model.named_steps["kmeans"].inertia_), silhouette=sil))
    return points


def fit_segments(X, k: int, *, n_init: int = 10, random_state: int = 0, groups=()):
    """Fit the final model; return (model, labels, distance to own centroid, confidence).

    Confidence here is the distance margin ``1 - d_own / d_second`` (0 on a boundary, 1 at the
    centroid), in scaled units; the stability ensemble replaces it with the share of agreeing runs.
    A fit with fewer distinct clusters than `k` warns.
    """
    X = np.asarray(X, dtype=float)
    model = make_model(k, n_init=n_init, random_state=random_state, groups=groups).fit(X)
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
