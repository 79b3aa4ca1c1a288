"""The feature transform a model run stores: log1p on skewed money columns, centring/scaling, one-hot block weights.

Fitted in Python on the feature table (or a sample of it), then either applied in Python
(:meth:`FeatureTransformer.transform`) or written out as one Snowflake expression per feature
(:meth:`FeatureTransformer.sql_expressions`) so that every row can be transformed -- and assigned to
its nearest centroid, see :mod:`snowseg.clustering.sql_assign` -- without leaving the warehouse.
:meth:`~FeatureTransformer.to_dict` / :meth:`~FeatureTransformer.from_dict` round-trip it through JSON
exactly (floats are written as Python floats, whose ``repr`` is exact).

The steps, per feature column:

1. ``log1p`` if the column is in ``log_columns_`` (``"auto"``: numeric, not one-hot, every value
   ``>= 0`` and sample skewness above ``skew_threshold``);
2. ``(value - center_) / scale_`` -- mean and standard deviation (``scaling="standard"``) or median
   and inter-quartile range (``"robust"``); a zero scale falls back to the standard deviation, then 1;
3. ``* weights_`` -- 1 for a numeric column; ``sqrt(category_weight / width)`` for each column of a
   one-hot block of that width, so that every categorical block has total variance
   ``category_weight`` (default :data:`CATEGORY_WEIGHT` = 0.5) where a numeric column has 1.

Why a categorical block weighs half a numeric column
----------------------------------------------------
k-means minimises within-segment variance. Splitting the rows by a binary column removes *all* of that
block's variance, while the best two-way split of a standardised, bell-shaped numeric column removes
only 2/pi ~ 64 % of its variance. With blocks at total variance 1 (``1 / sqrt(width)``, version 1 of
this transform) a single 50/50 binary column therefore outbids any one numeric column, and k-means
cuts segments along it. Measured on the seed file's invoice-level matrix (k-means, 50 restarts), the
share of segments made pure (>= 90 % one value) by GENDER or CUSTOMER_TYPE:

=====  ==================  ==================  ==================
k      block variance 1    0.75                0.5 (the default)
=====  ==================  ==================  ==================
3      2 of 3 (GENDER)     none                none
4      3 of 4              none                none
5      4 of 5 (both)       none                none
=====  ==================  ==================  ==================

At 1, k=3 gave "high spend" plus two low-spend segments that differ only in gender (mean totals
188 and 189). Below 2/pi no perfect binary split beats a numeric one; 0.5 keeps a margin while a
categorical still counts (a segment can still over-index on a value that goes with its numbers).
On generated customer-level data (RFM; gender and membership fixed per customer) no weight from 0.25
to 1 made a segment pure: there, the RFM columns separate the customers. See docs/segmentation.md and
``bench/bench_block_weights.py``.

Examples
--------
>>> import pandas as pd
>>> X = pd.DataFrame({"TOTAL": [0.0, 0.0, 0.0, 0.0, 0.0, 1000.0], "RATING": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
>>> t = FeatureTransformer().fit(X)
>>> t.log_columns_
['TOTAL']
>>> t.sql_expressions()[1]
'(cast(RATING as float) - 3.5) / 1.707825127659933'
>>> bool(abs(t.inverse_transform(t.transform(X)) - X.to_numpy()).max() < 1e-9)
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from snowseg.warehouse import quote_ident

SCALINGS = ("standard", "robust")
DICT_KIND = "snowseg.FeatureTransformer"
DICT_VERSION = 2  # 2: category_weight (version 1 weighted every block to total variance 1)
CATEGORY_WEIGHT = 0.5  # a one-hot block's total variance, where a standardised numeric column has 1


class FeatureTransformer(TransformerMixin, BaseEstimator):
    """log1p on skewed non-negative columns, standard or robust scaling, one-hot blocks weighted to half a column.

    Parameters
    ----------
    log_columns : "auto" or sequence of str
        Columns that get ``log1p`` before scaling. ``"auto"``: every numeric column that is in no
        one-hot block, has all values ``>= 0`` and a sample skewness (pandas' bias-adjusted
        ``Series.skew``) above `skew_threshold`. A list names them explicitly (each must be ``>= 0``).
    skew_threshold : float
        The skewness above which ``"auto"`` logs a column.
    scaling : {"standard", "robust"}
        ``standard``: centre on the mean, divide by the (population) standard deviation.
        ``robust``: centre on the median, divide by the inter-quartile range. A zero scale falls back
        to the standard deviation, then to 1 (a constant column is only centred).
    groups : sequence of sequences of str or int
        One-hot blocks, as column names or as positions among the feature columns (the form
        :func:`snowseg.features.onehot_groups` returns). Their columns are never logged and each
        column of a block of width w is weighted ``sqrt(category_weight / w)``.
    category_weight : float
        The total variance of each one-hot block after weighting, where a standardised numeric column
        has 1 (default 0.5, see the module docstring for the measurement behind it; 1 weighs every
        categorical as one numeric column).
    columns : sequence of str, optional
        The feature columns, in order; default every column of the frame given to `fit`. Other
        columns of later frames are ignored.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The feature columns, in the order of the transformed array.
    n_features_in_ : int
    groups_ : list of list of str
        The one-hot blocks by column name.
    log_columns_ : list of str
        The columns that get ``log1p``, in feature order.
    center_, scale_, weights_ : ndarray of shape (n_features,)
        ``z = (x' - center_) / scale_ * weights_`` with ``x'`` the (logged) value.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"TOTAL": [1.0, 3.0], "G__A": [1, 0], "G__B": [0, 1]})
    >>> t = FeatureTransformer(log_columns=[], groups=[["G__A", "G__B"]]).fit(X)
    >>> t.transform(X).round(4).tolist()
    [[-1.0, 0.5, -0.5], [1.0, -0.5, 0.5]]
    >>> float(t.transform(X)[:, 1:].var(axis=0).sum())  # the block's total variance: category_weight
    0.5
    """

    def __init__(self, log_columns="auto", skew_threshold=1.0, scaling="standard", groups=(), columns=None,
                 category_weight=CATEGORY_WEIGHT):
        self.log_columns = log_columns
        self.skew_threshold = skew_threshold
        self.scaling = scaling
        self.groups = groups
        self.columns = columns
        self.category_weight = category_weight

    # ----------------------------------------------------------------------------------------- fitting
    def fit(self, X: pd.DataFrame, y=None) -> FeatureTransformer:
        """Choose the logged columns, then fit the centres, scales and block weights on `X`.

        Parameters
        ----------
        X : pandas.DataFrame
            The feature table: numeric columns, no missing values.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        TypeError
            If `X` is not a DataFrame.
        ValueError
            On an unknown `scaling`, a bad `skew_threshold`, `groups` or `log_columns`, a column of
            `columns` missing from `X`, a non-numeric column, NaN/inf, or a logged column with a
            negative value.
        """
        self._validate_params()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"FeatureTransformer.fit needs a pandas DataFrame (its column names become the SQL features), "
                f"got {type(X).__name__}"
            )
        labels = list(X.columns if self.columns is None else self.columns)
        if not all(isinstance(c, str) for c in labels):
            raise ValueError(f"feature column names must be strings (they become SQL identifiers), got {labels}")
        names = list(labels)
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate feature columns: {sorted({c for c in names if names.count(c) > 1})}")
        if not names:
            raise ValueError("FeatureTransformer needs at least one feature column")
        values = _numeric(X, names, "fit")
        if len(values) == 0:
            raise ValueError("FeatureTransformer.fit got a frame with no rows")

        groups = self._resolve_groups(names)
        onehot = {c for g in groups for c in g}
        if isinstance(self.log_columns, str):  # only "auto" passes _validate_params
            frame = pd.DataFrame(values, columns=names)
            logged = [
                c for c in names
                if c not in onehot and frame[c].min() >= 0 and _skew(frame[c]) > self.skew_threshold
            ]
        else:
            wanted = [str(c) for c in self.log_columns]
            unknown = [c for c in wanted if c not in names]
            if unknown:
                raise ValueError(f"log_columns {unknown} are not feature columns; features: {names}")
            logged = [c for c in names if c in wanted]
            negative = [c for c in logged if values[:, names.index(c)].min() < 0]
            if negative:
                raise ValueError(f"log_columns {negative} have negative values; log1p needs values >= 0")

        is_logged = np.array([c in logged for c in names])
        L = np.where(is_logged, np.log1p(np.where(is_logged, values, 0.0)), values)
        constant = np.ptp(L, axis=0) == 0
        std = np.where(constant, 1.0, L.std(axis=0))
        if self.scaling == "standard":
            center, scale = L.mean(axis=0), std
        else:
            q25, center, q75 = np.percentile(L, [25, 50, 75], axis=0)
            iqr = q75 - q25
            scale = np.where(iqr > 0, iqr, std)
        center = np.where(constant, L[0], center)  # exactly the constant, so it maps to 0
        weights = np.ones(len(names))
        for g in groups:
            weights[[names.index(c) for c in g]] = math.sqrt(float(self.category_weight) / len(g))

        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self.groups_ = groups
        self.log_columns_ = logged
        self.center_ = center.astype(float)
        self.scale_ = scale.astype(float)
        self.weights_ = weights
        return self

    def _validate_params(self) -> None:
        """The constraints on the constructor's parameters (checked in fit, as sklearn does)."""
        if self.scaling not in SCALINGS:
            raise ValueError(f"scaling={self.scaling!r} is not supported; use one of {list(SCALINGS)}")
        if isinstance(self.log_columns, str):
            if self.log_columns != "auto":
                raise ValueError(f"log_columns={self.log_columns!r}: use 'auto' or a list of column names")
        elif not _is_list(self.log_columns):
            raise ValueError(f"log_columns={self.log_columns!r}: use 'auto' or a list of column names")
        if isinstance(self.skew_threshold, bool) or not isinstance(self.skew_threshold, numbers.Real) or not (
            math.isfinite(self.skew_threshold)
        ):
            raise ValueError(f"skew_threshold={self.skew_threshold!r}: use a finite number")
        if self.columns is not None and not _is_list(self.columns):
            raise ValueError(f"columns={self.columns!r}: use None or a list of column names")
        w = self.category_weight
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not (math.isfinite(w) and float(w) > 0):
            raise ValueError(f"category_weight={w!r}: use a finite number > 0 (a block's total variance; "
                             f"a numeric column has 1)")

    def _resolve_groups(self, names: list[str]) -> list[list[str]]:
        """The one-hot blocks as lists of column names, validated."""
        resolved, seen = [], set()
        for group in self.groups:
            if not _is_list(group) or len(group) == 0:
                raise ValueError(f"groups entry {group!r}: use a non-empty list of column names or positions")
            cols = []
            for c in group:
                if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                    if not 0 <= c < len(names):
                        raise ValueError(f"groups refers to column position {c}, but there are {len(names)} features")
                    cols.append(names[int(c)])
                elif str(c) in names:
                    cols.append(str(c))
                else:
                    raise ValueError(f"groups refers to column {c!r}, which is not a feature column; features: {names}")
            twice = [c for c in cols if c in seen or cols.count(c) > 1]
            if twice:
                raise ValueError(f"groups: columns {sorted(set(twice))} are in more than one block")
            seen.update(cols)
            resolved.append(cols)
        return resolved

    # ------------------------------------------------------------------------------------- transforming
    def transform(self, X) -> np.ndarray:
        """The transformed features as a float array of shape (n_rows, n_features).

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            A frame holding every feature column (by name; others are ignored), or an array whose
            columns are the features in ``feature_names_in_`` order.

        Raises
        ------
        ValueError
            If a feature column is missing, not numeric, has NaN/inf, or a logged column is negative.
        """
        check_is_fitted(self, "weights_")
        values = self._values(X, "transform")
        neg = [c for c in self.log_columns_ if values[:, self._index(c)].min(initial=0.0) < 0]
        if neg:
            raise ValueError(f"columns {neg} were log1p-transformed at fit and must be >= 0, but have negative values")
        is_logged = self._is_logged()
        L = np.where(is_logged, np.log1p(np.where(is_logged, values, 0.0)), values)
        return (L - self.center_) / self.scale_ * self.weights_

    def inverse_transform(self, Z) -> np.ndarray:
        """Back to original units (e.g. k-means centroids): undo the weights, the scaling and log1p.

        Returns
        -------
        ndarray of shape (n_rows, n_features)
            In ``feature_names_in_`` order; wrap it with
            ``pandas.DataFrame(..., columns=t.feature_names_in_)`` to label it.
        """
        check_is_fitted(self, "weights_")
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or Z.shape[1] != self.n_features_in_:
            raise ValueError(f"inverse_transform needs shape (n, {self.n_features_in_}), got {Z.shape}")
        L = Z / self.weights_ * self.scale_ + self.center_
        is_logged = self._is_logged()
        return np.where(is_logged, np.expm1(np.where(is_logged, L, 0.0)), L)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The output names: the feature names, unchanged."""
        check_is_fitted(self, "weights_")
        return self.feature_names_in_.copy()

    def _index(self, column: str) -> int:
        """The position of a feature column."""
        return list(self.feature_names_in_).index(column)

    def _is_logged(self) -> np.ndarray:
        """Per feature: does it get log1p."""
        return np.array([c in self.log_columns_ for c in self.feature_names_in_], dtype=bool)

    def _values(self, X, where: str) -> np.ndarray:
        """The feature columns of X as a float array, in feature order."""
        names = list(self.feature_names_in_)
        if isinstance(X, pd.DataFrame):
            return _numeric(X, names, where)
        arr = np.asarray(X)
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise ValueError(f"{where} needs a DataFrame with columns {names} or an array of shape (n, {len(names)}), "
                             f"got shape {arr.shape}")
        return _numeric(pd.DataFrame(arr, columns=names), names, where)

    # --------------------------------------------------------------------------------------- exporting
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description: parameters and fitted values (plain floats, exact through ``json``).

        Examples
        --------
        >>> import json, pandas as pd
        >>> t = FeatureTransformer().fit(pd.DataFrame({"A": [1.0, 2.0, 4.0]}))
        >>> u = FeatureTransformer.from_dict(json.loads(json.dumps(t.to_dict())))
        >>> bool((u.transform(pd.DataFrame({"A": [3.0]})) == t.transform(pd.DataFrame({"A": [3.0]}))).all())
        True
        """
        check_is_fitted(self, "weights_")
        return {
            "kind": DICT_KIND,
            "version": DICT_VERSION,
            "params": {
                "log_columns": (self.log_columns if isinstance(self.log_columns, str)
                                else [str(c) for c in self.log_columns]),
                "skew_threshold": float(self.skew_threshold),
                "scaling": str(self.scaling),
                "groups": [[str(c) for c in g] for g in self.groups_],
                "columns": None if self.columns is None else [str(c) for c in self.columns],
                "category_weight": float(self.category_weight),
            },
            "features": [str(c) for c in self.feature_names_in_],
            "log_columns": list(self.log_columns_),
            "center": [float(v) for v in self.center_],
            "scale": [float(v) for v in self.scale_],
            "weights": [float(v) for v in self.weights_],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureTransformer:
        """Rebuild a fitted transformer from :meth:`to_dict`'s output.

        Raises
        ------
        ValueError
            If `d` is not a FeatureTransformer description of a known version, or its lists disagree.
        """
        if not isinstance(d, Mapping) or d.get("kind") != DICT_KIND:
            raise ValueError(f"not a FeatureTransformer description (kind should be {DICT_KIND!r})")
        if d.get("version") not in (1, DICT_VERSION):
            raise ValueError(f"FeatureTransformer description version {d.get('version')!r}; this code reads 1 and "
                             f"{DICT_VERSION}")
        t = cls(**{"category_weight": 1.0, **d["params"]})  # version 1 weighted every block to total variance 1
        t._validate_params()
        names = [str(c) for c in d["features"]]
        arrays = {k: np.asarray(d[k], dtype=float) for k in ("center", "scale", "weights")}
        bad = [k for k, a in arrays.items() if a.shape != (len(names),) or not np.isfinite(a).all()]
        if bad or any(a <= 0 for a in arrays["scale"]) or any(a <= 0 for a in arrays["weights"]):
            raise ValueError(f"FeatureTransformer description: {bad or ['scale/weights']} must be "
                             f"{len(names)} finite numbers (scale and weights > 0)")
        unknown = [c for c in d["log_columns"] if c not in names]
        if unknown:
            raise ValueError(f"FeatureTransformer description: log_columns {unknown} are not features {names}")
        t.feature_names_in_ = np.asarray(names, dtype=object)
        t.n_features_in_ = len(names)
        t.groups_ = t._resolve_groups(names)
        t.log_columns_ = [c for c in names if c in d["log_columns"]]
        t.center_, t.scale_, t.weights_ = arrays["center"], arrays["scale"], arrays["weights"]
        return t

    def sql_expressions(self, column_sql: Mapping[str, str] | None = None) -> list[str]:
        """One Snowflake expression per feature computing its transformed value from the raw column.

        Parameters
        ----------
        column_sql : mapping of str to str, optional
            SQL for a feature's raw value, by feature name (default: the column itself, through
            :func:`snowseg.warehouse.quote_ident`). The caller vouches for these fragments.

        Returns
        -------
        list of str
            In ``feature_names_in_`` order, e.g. ``(ln(1 + cast(TOTAL as float)) - 5.1) / 0.8``;
            numbers at full precision (``repr``), the raw value cast to float so that no fixed-point
            arithmetic rounds it, and ``* weight`` only where the weight is not 1.

        Raises
        ------
        ValueError
            If `column_sql` names an unknown feature, or a feature name is not a plain identifier.

        Examples
        --------
        >>> import pandas as pd
        >>> t = FeatureTransformer(log_columns=["A"]).fit(pd.DataFrame({"A": [0.0, np.e - 1]}))
        >>> t.sql_expressions({"A": "s.AMOUNT"})
        ['(ln(1 + cast(s.AMOUNT as float)) - 0.5) / 0.5']
        """
        check_is_fitted(self, "weights_")
        names = list(self.feature_names_in_)
        column_sql = dict(column_sql or {})
        unknown = sorted(set(column_sql) - set(names))
        if unknown:
            raise ValueError(f"column_sql names {unknown}, which are not features; features: {names}")
        logged = set(self.log_columns_)
        out = []
        for name, c, s, w in zip(names, self.center_, self.scale_, self.weights_, strict=True):
            x = f"cast({column_sql.get(name) or quote_ident(name)} as float)"
            if name in logged:
                x = f"ln(1 + {x})"
            expr = f"({x} - {sql_number(c)}) / {sql_number(s)}"
            if w != 1.0:
                expr += f" * {sql_number(w)}"
            out.append(expr)
        return out


def sql_number(value: float) -> str:
    """A float as an exact SQL literal (``repr``), parenthesised when negative so ``x - (-1.5)`` stays ``-`` ``-``.

    Examples
    --------
    >>> sql_number(0.1), sql_number(-2.0), sql_number(1e-07), sql_number(-0.0)
    ('0.1', '(-2.0)', '1e-07', '0.0')
    """
    v = float(value) + 0.0  # -0.0 -> 0.0
    if not math.isfinite(v):
        raise ValueError(f"cannot write {v!r} as a SQL number")
    return f"({v!r})" if v < 0 else repr(v)


def _is_list(value: Any) -> bool:
    """A list-like of names or positions (list, tuple, array, Index), not a string."""
    return isinstance(value, (Sequence, np.ndarray, pd.Index)) and not isinstance(value, str)


def _skew(s: pd.Series) -> float:
    """Sample skewness (pandas' bias-adjusted G1); NaN for a constant or too-short column."""
    if s.nunique() <= 1:
        return float("nan")
    skew: Any = s.skew()  # a scalar; pandas' stubs type it as any cell value
    return float(skew)


def _numeric(X: pd.DataFrame, names: list[str], where: str) -> np.ndarray:
    """The named columns of X as a finite float array; errors name the columns."""
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise ValueError(f"{where}: X has no columns {missing}; it needs {names}")
    frame = X[names]
    bad = [c for c in names if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_complex_dtype(frame[c])]
    if bad:
        kinds = {c: str(frame[c].dtype) for c in bad}
        raise ValueError(f"{where}: columns {kinds} are not numeric; encode categoricals first (one-hot or label)")
    values = frame.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        cols = [c for i, c in enumerate(names) if not np.isfinite(values[:, i]).all()]
        raise ValueError(f"{where}: columns {cols} have missing or infinite values")
    return values
