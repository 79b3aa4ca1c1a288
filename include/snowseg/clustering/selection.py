"""The k-means++ model (with optional block-weighted scaling) that choose_k fits for each k.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0], [0.5], [10.0], [10.5]])
>>> km = make_model(2, n_init=4, random_state=0, scale=False).fit(X).named_steps["kmeans"]
>>> round(km.inertia_, 3)
0.25
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
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


def make_model(k: int, *, n_init: int = 10, random_state: int = 0, scale: bool = True, groups=()) -> Pipeline:
    """BlockStandardScaler + KMeans(k-means++) with an explicit `n_init` (sklearn's 'auto' means one run)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if n_init < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init!r}")
    steps = [("scale", BlockStandardScaler(groups=groups))] if scale else []
    steps.append(("kmeans", KMeans(n_clusters=int(k), init="k-means++", n_init=n_init, random_state=random_state)))
    return Pipeline(steps)
