"""Rules people can read: a shallow decision tree that approximates a run's segments.

:class:`SegmentRules` fits a small :class:`~sklearn.tree.DecisionTreeClassifier` (depth 2, or 3 when
that is a point more accurate; leaves of at
least 2 % of the rows, balanced class weights, a fixed ``random_state``) on the **original, unscaled**
features to the run's consensus segments, and reads its leaves back as rules in the features' own
units: "Recency ≤ 60 days and Purchases ≥ 4". A segment's rules are the leaves whose majority is that
segment (alternatives: a customer matching any of them), sibling leaves of the same segment merged
into their parent and conditions on one feature folded into one (the tightest bounds; the values a
category may still take).

Thresholds are shown at a readable precision (:func:`threshold_step`: about a tenth of the feature's
standard deviation, rounded to 1, 2 or 5 times a power of ten; whole numbers for integer features),
as ``≤`` and ``≥`` the grid points either side of the tree's split when the data lie on that grid
(whole days, counts), which select the rows the split does, else at the grid point nearest the split
(``< r`` and ``≥ r``). Each rule's figures are measured on the run's rows **as shown** (rounded): the customers it
covers, the share of them in its segment (*precision*) and the share of the segment it covers
(*recall*). *Fidelity* is the tree's accuracy on the run's rows; under :data:`MIN_FIDELITY` a
:class:`LowFidelityWarning` says so (the rules are then tendencies, not definitions).

Examples
--------
>>> import numpy as np, pandas as pd
>>> X = pd.DataFrame({"RECENCY_DAYS": [5, 10, 20, 80, 90, 100.0], "FREQUENCY": [6, 1, 4, 5, 2, 1.0]})
>>> model = SegmentRules(min_samples_leaf=1).fit(X, [0, 0, 0, 1, 1, 1])
>>> [(r.segment_id, r.text, r.precision, r.recall) for s in model.rules_ for r in s.rules]
[(0, 'Recency < 50 days', 1.0, 1.0), (1, 'Recency ≥ 50 days', 1.0, 1.0)]
>>> model.fidelity_
1.0
"""

from __future__ import annotations

import math
import numbers
import re
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from snowseg.clustering.profiles import SegmentProfile
from snowseg.config import DatasetContract
from snowseg.features import _slug

__all__ = ["MIN_FIDELITY", "Condition", "Feature", "LowFidelityWarning", "Rule", "SegmentRuleSet", "SegmentRules",
           "attach_rules", "describe_features", "format_condition", "segment_rules", "simplify", "threshold_step"]

MIN_FIDELITY = 0.8  # below this tree accuracy the rules are tendencies: a LowFidelityWarning says so
MAX_DEPTH = 3  # at most three conditions per rule: what a person reads at a glance
DEPTH_TOLERANCE = 0.01  # a deeper tree is used only when it is this much more accurate (seed file: depth 2)
MIN_LEAF_SHARE = 0.02  # a leaf (so a rule) covers at least 2 % of the rows: no rules for a handful of customers

_FIXED = {  # customer-level columns the feature query computes (snowseg.features.customer_feature_sql)
    "RECENCY_DAYS": ("Recency", "days"),
    "TENURE_DAYS": ("Tenure", "days"),
    "FREQUENCY": ("Purchases", ""),
    "MONETARY": ("Spend", "money"),
    "AVG_BASKET": ("Average basket", "money"),
}


class LowFidelityWarning(UserWarning):
    """The tree reproduces the segments for fewer rows than :data:`MIN_FIDELITY`: read its rules as tendencies.

    Attributes: ``fidelity`` (the tree's accuracy on the rows) and ``min_fidelity`` (the threshold).
    """

    def __init__(self, fidelity: float, min_fidelity: float) -> None:
        self.fidelity = fidelity
        self.min_fidelity = min_fidelity
        super().__init__(f"the rules match the segments for {fidelity:.0%} of rows (under {min_fidelity:.0%}): "
                         "read them as tendencies, not definitions of the segments")


@dataclass(frozen=True)
class Feature:
    """How one feature column reads in a rule.

    ``kind``: ``numeric`` (a number, in ``unit``: ``days``, ``money``, ``%`` or a free word), ``onehot``
    (a 0/1 indicator of ``category`` = ``value``), ``share`` (the share of a customer's rows with
    ``category`` = ``value``, shown in %) or ``code`` (a label-coded category: code i is ``values[i]``).
    ``values`` lists every value of the category (``onehot`` and ``code``).
    """

    column: str
    label: str
    kind: str = "numeric"
    unit: str = ""
    category: str | None = None
    value: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """One readable condition: numeric ``low <= x <= high`` (either may be None) or a category in ``allowed``.

    ``high_strict`` marks an upper bound shown as ``<`` (a split rounded to the nearest grid point).
    """

    feature: Feature
    low: float | None = None
    high: float | None = None
    allowed: tuple[str, ...] | None = None
    high_strict: bool = False

    @property
    def column(self) -> str:
        return self.feature.category if self.allowed is not None and self.feature.category else self.feature.column

    def mask(self, X: pd.DataFrame) -> np.ndarray:
        """Rows of `X` (original units) that meet the condition as shown (rounded thresholds)."""
        f = self.feature
        if self.allowed is not None:
            if f.kind == "code":
                codes = [i for i, v in enumerate(f.values) if v in self.allowed]
                return np.isin(X[f.column].to_numpy(), codes)
            block = [c for c in X.columns if c.startswith(f"{f.category}__")]
            keep = [c for c in block if _value_of(c, f) in self.allowed]
            m = X[keep].to_numpy().sum(axis=1) > 0.5 if keep else np.zeros(len(X), dtype=bool)
            # a value whose column the run dropped as redundant (GENDER__MALE beside GENDER__FEMALE) is the rows
            # with none of the block's columns set
            absent = set(f.values) - {_value_of(c, f) for c in block}
            if absent and absent <= set(self.allowed):
                m |= X[block].to_numpy().sum(axis=1) < 0.5
            return m
        x = X[f.column].to_numpy(dtype=float)
        scale = 0.01 if f.kind == "share" else 1.0  # shares are shown (and bounded) in %
        m = np.ones(len(X), dtype=bool)
        if self.low is not None:
            m &= x >= self.low * scale - 1e-9
        if self.high is not None:
            m &= (x < self.high * scale) if self.high_strict else (x <= self.high * scale + 1e-9)
        return m

    def to_dict(self) -> dict:
        """The condition as JSON: column, ``op`` (``<=``, ``<``, ``>=``, ``between`` with ``high_op``, ``in``) and
        value(s)."""
        out: dict = {"column": self.column, "text": format_condition(self)}
        if self.allowed is not None:
            return {**out, "op": "in", "values": list(self.allowed)}
        lo_op, hi_op = ">=", ("<" if self.high_strict else "<=")
        if self.low is not None and self.high is not None:
            return {**out, "op": "between", "low": self.low, "high": self.high, "high_op": hi_op}
        if self.low is not None:
            return {**out, "op": lo_op, "value": self.low}
        return {**out, "op": hi_op, "value": self.high}


@dataclass
class Rule:
    """One rule of a segment: its conditions, the customers it covers and how well it picks the segment."""

    segment_id: int
    text: str
    conditions: list[dict]
    covers: int
    correct: int
    precision: float | None  # correct / covers
    recall: float  # correct / the segment's size


@dataclass
class SegmentRuleSet:
    """A segment's rules (alternatives) and the figures of all of them together."""

    segment_id: int
    size: int
    rules: list[Rule] = field(default_factory=list)
    covers: int = 0
    precision: float | None = None  # share of the customers any rule covers that are in the segment
    recall: float = 0.0  # share of the segment that some rule covers

    def to_dict(self) -> dict:
        return asdict(self)


def _value_of(column: str, f: Feature) -> str:
    """The category value a one-hot column stands for (from the feature's values, else the column's suffix)."""
    suffix = column.split("__", 1)[1]
    return next((v for v in f.values if _slug(v) == suffix), suffix.replace("_", " ").capitalize())


def _nice(x: float) -> float:
    """The largest of 1, 2, 5 times a power of ten that is at most `x`."""
    p = 10.0 ** math.floor(math.log10(x))
    return next(m * p for m in (5, 2, 1) if m * p <= x * (1 + 1e-12))


def threshold_step(values, *, share: bool = False) -> float:
    """The precision a threshold is shown at: about a tenth of the standard deviation (1, 2 or 5 times a
    power of ten); at least 1 for integer features; in percentage points for shares.

    Examples
    --------
    >>> threshold_step([100.0, 300.0, 500.0, 900.0])
    20.0
    >>> threshold_step([1, 2, 3, 10]), threshold_step([4.1, 6.5, 9.9]), threshold_step([0.1, 0.5, 0.9], share=True)
    (1.0, 0.2, 2.0)
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if share:
        v = v * 100
    sd = float(v.std()) if len(v) else 0.0
    step = _nice(sd / 10) if sd > 0 else 1.0
    integral = len(v) > 0 and bool(np.all(v == np.round(v)))
    return max(step, 1.0) if integral else step


def _on_step(values, step: float, share: bool) -> bool:
    """Whether every value lies on the step's grid (then the grid points either side of a split select what it does)."""
    v = np.asarray(values, dtype=float) * (100 if share else 1)
    v = v[np.isfinite(v)] / step
    return bool(np.allclose(v, np.round(v), atol=1e-6))


def _fmt_number(x: float, unit: str, step: float) -> str:
    """A threshold at its step's decimals, thousands separated; its unit after it."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    text = f"{x:,.{decimals}f}"
    if unit == "%":
        return f"{text} %"
    return f"{text} {unit}" if unit and unit != "money" else text


def format_condition(c: Condition, step: float | None = None) -> str:
    """The condition as people read it.

    Examples
    --------
    >>> rec = Feature("RECENCY_DAYS", "Recency", unit="days")
    >>> format_condition(Condition(rec, high=60)), format_condition(Condition(rec, low=10, high=60))
    ('Recency ≤ 60 days', 'Recency 10 to 60 days')
    >>> pay = Feature("PAYMENT__CASH", "Payment", "onehot", category="PAYMENT", value="Cash",
    ...               values=("Cash", "Credit card", "Ewallet"))
    >>> format_condition(Condition(pay, allowed=("Cash",)))
    'Payment is Cash'
    >>> format_condition(Condition(pay, allowed=("Credit card", "Ewallet")))
    'Payment is not Cash'
    """
    f = c.feature
    if c.allowed is not None:
        allowed = [v for v in f.values if v in c.allowed] or list(c.allowed)
        excluded = [v for v in f.values if v not in c.allowed]
        if len(allowed) == 1 or not excluded:
            return f"{f.label} is {' or '.join(allowed)}"
        if len(excluded) == 1:
            return f"{f.label} is not {excluded[0]}"
        if len(allowed) <= len(excluded):
            return f"{f.label} is {', '.join(allowed[:-1])} or {allowed[-1]}"
        return f"{f.label} is neither {', '.join(excluded[:-1])} nor {excluded[-1]}"
    unit = "%" if f.kind == "share" else f.unit
    s = step or _step_of(c)

    def num(x: float) -> str:
        return _fmt_number(x, unit, s)

    if c.low is not None and c.high is not None:
        lo = _fmt_number(c.low, "", s) if unit not in ("%", "money") else num(c.low)
        if c.high_strict:
            return f"{f.label} ≥ {lo} and < {num(c.high)}"
        return f"{f.label} {lo} to {num(c.high)}"
    if c.low is not None:
        return f"{f.label} ≥ {num(c.low)}"
    return f"{f.label} {'<' if c.high_strict else '≤'} {num(c.high or 0.0)}"


def _step_of(c: Condition) -> float:
    """A step that shows the condition's bounds at their own decimals (when no step is given)."""
    decimals = 0
    for b in (c.low, c.high):
        if b is not None:
            decimals = max(decimals, len(f"{b:.6f}".rstrip("0").split(".")[1]))
    return 10.0 ** -decimals


def simplify(path: list[tuple[Feature, str, float]], steps: dict[str, float],
             exact: set[str] | frozenset[str] = frozenset()) -> list[Condition]:
    """Fold a tree path's splits (feature, ``"<="`` or ``">"``, threshold) into one condition per feature.

    Numeric splits keep the tightest bounds, shown on the feature's step: for a feature whose values all
    lie on the step's grid (`exact`: counts, days, whole money) as ``≤ floor(t)`` and ``≥`` the next grid point,
    which select the same rows as the split; otherwise at the grid point nearest the split, ``< r`` and
    ``≥ r``. One-hot and code splits become the values the category may still take. Conditions keep the
    order in which their feature first appears.

    Examples
    --------
    >>> rec, freq = Feature("RECENCY_DAYS", "Recency", unit="days"), Feature("FREQUENCY", "Purchases")
    >>> path = [(rec, "<=", 90.5), (freq, ">", 3.5), (rec, "<=", 60.5)]
    >>> steps = {"RECENCY_DAYS": 1.0, "FREQUENCY": 1.0}
    >>> [format_condition(c) for c in simplify(path, steps, exact={"RECENCY_DAYS", "FREQUENCY"})]
    ['Recency ≤ 60 days', 'Purchases ≥ 4']
    >>> total = Feature("TOTAL", "Total", unit="money")
    >>> [format_condition(c) for c in simplify([(total, ">", 114.3), (total, "<=", 587.2)], {"TOTAL": 20.0})]
    ['Total ≥ 120 and < 580']
    """
    bounds: dict[str, list] = {}  # column -> [feature, low, high] in the tree's thresholds
    allowed: dict[str, list] = {}  # category -> [feature, set of values]
    order: list[str] = []
    for f, op, t in path:
        if f.kind in ("onehot", "code"):
            key = f.category or f.column
            if key not in allowed:
                allowed[key] = [f, set(f.values)]
                order.append(key)
            if f.kind == "onehot":
                keep = {f.value} if op == ">" else set(f.values) - {f.value}
            else:
                keep = {v for i, v in enumerate(f.values) if (i <= t if op == "<=" else i > t)}
            allowed[key][1] &= keep
            continue
        if f.column not in bounds:
            bounds[f.column] = [f, None, None]
            order.append(f.column)
        b = bounds[f.column]
        if op == "<=":
            b[2] = t if b[2] is None else min(b[2], t)
        else:
            b[1] = t if b[1] is None else max(b[1], t)
    out = []
    for key in order:
        if key in allowed:
            f, values = allowed[key]
            out.append(Condition(f, allowed=tuple(v for v in f.values if v in values)))
            continue
        f, lo, hi = bounds[key]
        scale = 100.0 if f.kind == "share" else 1.0
        step = steps.get(f.column, 1.0)
        on_grid = f.column in exact

        # on the grid, x > t is x >= the next grid point above t (t lies between two values, or on one)
        low = None if lo is None else _grid(lo * scale, step, _next_up if on_grid else _half_up)
        high = None if hi is None else _grid(hi * scale, step, math.floor if on_grid else _half_up)
        out.append(Condition(f, low=low, high=high, high_strict=high is not None and not on_grid))
    return out


def _grid(t: float, step: float, rounding) -> float:
    """`t` rounded to a point of the step's grid by `rounding` (floor, next up, half up)."""
    return _on_grid(rounding(round(t / step, 9)) * step, step)


def _next_up(x: float) -> int:
    """The next whole number above `x` (3 -> 4, 3.5 -> 4)."""
    return math.floor(x) + 1


def _half_up(x: float) -> int:
    """`x` rounded half up (not to even: 2.5 -> 3)."""
    return math.floor(x + 0.5)


def _on_grid(x: float, step: float) -> float:
    """`x` without float noise at the step's decimals (0.30000000000000004 -> 0.3)."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    return round(x, decimals) if decimals else float(round(x))


def _header_label(header: str) -> tuple[str, str]:
    """A CSV header as a label and unit: 'Annual Income (k$)' -> ('Annual Income', 'k$'); a range in
    parentheses is dropped ('Spending Score (1-100)' -> 'Spending Score')."""
    m = re.match(r"^(.*?)\s*\(([^)]*)\)\s*$", header)
    if not m:
        return header, ""
    unit = m.group(2).strip()
    return m.group(1).strip(), "" if re.search(r"\d", unit) else unit


def describe_features(columns, contract: DatasetContract | None = None) -> dict[str, Feature]:
    """How each feature column reads in a rule, from the contract's CSV headers, roles and category values.

    Customer-level columns: RECENCY_DAYS *Recency* (days), FREQUENCY *Purchases*, MONETARY *Spend*,
    AVG_BASKET *Average basket*, TENURE_DAYS *Tenure* (days), ``AVG_<col>`` *Average <header>*;
    ``<CATEGORY>__<VALUE>``: one-hot indicators (``Payment is Cash``) at invoice and customer-table level,
    shares of the customer's rows at customer level (``Payment Cash share ≥ 40 %``). The amount and unit
    price columns are money.

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> d = describe_features(["ANNUAL_INCOME_K", "SPENDING_SCORE", "GENDER__FEMALE"], load_contract("customers"))
    >>> [(f.label, f.kind, f.unit) for f in d.values()]
    [('Annual Income', 'numeric', 'k$'), ('Spending Score', 'numeric', ''), ('Gender', 'onehot', '')]
    >>> d = describe_features(["RECENCY_DAYS", "AVG_UNIT_PRICE", "PAYMENT__CASH"],
    ...                       load_contract("supermarket_customers"))
    >>> [(f.label, f.kind, f.unit) for f in d.values()]
    [('Recency', 'numeric', 'days'), ('Average unit price', 'numeric', 'money'), ('Payment Cash share', 'share', '')]
    """
    specs = {c.column: c for c in contract.columns} if contract is not None else {}
    money = {c.column for c in (contract.column_for_role("amount"), contract.column_for_role("unit_price"))
             if c is not None} if contract is not None else set()
    shares = contract is not None and contract.features.level == "customer"
    out = {}
    for col in columns:
        if col in _FIXED:
            label, unit = _FIXED[col]
            out[col] = Feature(col, label, unit=unit)
        elif "__" in col:
            cat, suffix = col.split("__", 1)
            spec = specs.get(cat)
            values = tuple(spec.values or ()) if spec is not None else ()
            value = next((v for v in values if _slug(v) == suffix), suffix.replace("_", " ").capitalize())
            label = spec.name if spec is not None else cat.replace("_", " ").capitalize()
            if shares:
                out[col] = Feature(col, f"{label} {value} share", "share", category=cat, value=value)
            else:
                out[col] = Feature(col, label, "onehot", category=cat, value=value, values=values or (value,))
        elif col in specs and specs[col].values:  # a label-coded categorical
            out[col] = Feature(col, specs[col].name, "code", category=col, values=tuple(specs[col].values))
        else:
            base = col[4:] if col.startswith("AVG_") and col[4:] in specs else col
            spec = specs.get(base)
            label, unit = _header_label(spec.name) if spec is not None else (col.replace("_", " ").capitalize(), "")
            if base != col:
                label = f"Average {label[0].lower()}{label[1:]}"
            out[col] = Feature(col, label, unit="money" if base in money else unit)
    for col, f in out.items():  # one-hot columns of one category share its values (seen in the frame)
        if f.kind == "onehot" and len(f.values) < 2:
            seen = tuple(g.value for g in out.values() if g.category == f.category and g.value)
            out[col] = Feature(col, f.label, "onehot", category=f.category, value=f.value, values=seen)
    return out


class SegmentRules(BaseEstimator):
    """A shallow decision tree over the original features, read as rules per segment.

    Parameters
    ----------
    max_depth : int, default=3
        At most this many conditions per rule. Shallower trees (from depth 2) are fitted too, and the
        shallowest whose accuracy is within :data:`DEPTH_TOLERANCE` of this depth's is used.
    min_samples_leaf : float or int, default=0.02
        A share of the rows (float in (0, 0.5]) or a count: the smallest group a rule may describe.
    class_weight : {"balanced"} or None, default="balanced"
        "balanced" gives small segments leaves (rules) of their own; None fits for accuracy alone.
    min_fidelity : float, default=0.8
        Under this accuracy of the tree, :meth:`fit` warns (:class:`LowFidelityWarning`).
    features : dict of str to Feature, optional
        How the columns read (:func:`describe_features`); by default from the column names.
    random_state : int, default=0
        The tree's random state (ties between equally good splits): same data, same rules.

    Attributes
    ----------
    tree_ : DecisionTreeClassifier
    depth_ : int
        The depth used (see ``max_depth``).
    classes_ : ndarray
        The segment ids, in the order of their first row (the tree's class i is ``classes_[i]``).
    rules_ : list of SegmentRuleSet
        Per segment (ordered by id), its rules: covers, precision and recall measured as shown.
    fidelity_ : float
        The tree's accuracy on the rows it was fitted on.
    steps_ : dict of str to float
        The precision each numeric threshold is shown at.
    exact_ : set of str
        The numeric features whose values lie on their step's grid (shown at the grid points either side of a split).
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"GENDER__FEMALE": [1, 1, 1, 0, 0, 0.0], "GENDER__MALE": [0, 0, 0, 1, 1, 1.0],
    ...                   "AGE": [20, 30, 40, 25, 35, 45.0]})
    >>> model = SegmentRules(min_samples_leaf=1).fit(X, [3, 3, 3, 5, 5, 5])
    >>> [(s.segment_id, [r.text for r in s.rules]) for s in model.rules_]
    [(3, ['Gender is Female']), (5, ['Gender is Male'])]
    >>> model.predict(X.iloc[:2]).tolist()
    [3, 3]
    """

    def __init__(self, max_depth: int = MAX_DEPTH, min_samples_leaf: float | int = MIN_LEAF_SHARE,
                 class_weight: str | None = "balanced", min_fidelity: float = MIN_FIDELITY,
                 features: dict[str, Feature] | None = None, random_state: int = 0) -> None:
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.class_weight = class_weight
        self.min_fidelity = min_fidelity
        self.features = features
        self.random_state = random_state

    def _check_params(self) -> None:
        """Raise ValueError naming the parameter, its value and what is allowed."""
        def is_int(v) -> bool:
            return isinstance(v, numbers.Integral) and not isinstance(v, bool)

        if not is_int(self.max_depth) or not 1 <= self.max_depth <= 5:
            raise ValueError(f"max_depth must be an integer in 1..5 (rules people read), got {self.max_depth!r}")
        leaf = self.min_samples_leaf
        if not (is_int(leaf) and leaf >= 1) and not (isinstance(leaf, float) and 0 < leaf <= 0.5):
            raise ValueError(f"min_samples_leaf must be an integer >= 1 or a share in (0, 0.5], got {leaf!r}")
        if self.class_weight not in ("balanced", None):
            raise ValueError(f"class_weight must be 'balanced' or None, got {self.class_weight!r}")
        if not isinstance(self.min_fidelity, numbers.Real) or not 0 <= self.min_fidelity <= 1:
            raise ValueError(f"min_fidelity must be a share in [0, 1], got {self.min_fidelity!r}")
        if not is_int(self.random_state) or self.random_state < 0:
            raise ValueError(f"random_state must be an integer >= 0, got {self.random_state!r}")

    def fit(self, X: pd.DataFrame, y) -> SegmentRules:
        """Fit the tree to the segments and read its rules.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            The features in original units (named columns: the rules name them).
        y : array-like of int
            The segment of each row.

        Returns
        -------
        self : SegmentRules

        Raises
        ------
        ValueError
            On a bad parameter, when `X` is not a DataFrame, or when `y` and `X` differ in length.

        Warns
        -----
        LowFidelityWarning
            When the tree's accuracy is under ``min_fidelity``.
        """
        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise ValueError(f"X must be a DataFrame with the feature names, got {type(X).__name__}")
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"y has {len(y)} labels for {len(X)} rows of X")
        features = self.features or describe_features(X.columns)
        missing = [c for c in X.columns if c not in features]
        if missing:
            features = {**describe_features(missing), **features}
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        values = X.to_numpy(dtype=float)
        # the tree sees segments numbered by their first row, not by their ids: the impurity sums run over the
        # classes in order, and near-ties between splits must not turn on how a run happened to number them
        ids, first = np.unique(y, return_index=True)
        self.classes_ = ids[np.argsort(first, kind="stable")]
        code = np.searchsorted(ids, y)
        yc = np.argsort(np.argsort(first, kind="stable"))[code]
        trees = {d: DecisionTreeClassifier(max_depth=d, min_samples_leaf=self.min_samples_leaf,
                                           class_weight=self.class_weight, random_state=self.random_state
                                           ).fit(values, yc) for d in range(min(2, self.max_depth), self.max_depth + 1)}
        accuracy = {d: round(float((t.predict(values) == yc).mean()), 4) for d, t in trees.items()}
        # the shallowest tree within DEPTH_TOLERANCE of the deepest: a third condition must earn its place
        self.depth_ = min(d for d, a in accuracy.items() if a >= accuracy[self.max_depth] - DEPTH_TOLERANCE)
        self.tree_ = trees[self.depth_]
        self.fidelity_ = accuracy[self.depth_]
        self.steps_ = {c: threshold_step(X[c], share=features[c].kind == "share") for c in X.columns
                       if features[c].kind in ("numeric", "share")}
        self.exact_ = {c for c, step in self.steps_.items() if _on_step(X[c], step, features[c].kind == "share")}
        columns = [features[c] for c in X.columns]
        leaves = _leaves(self.tree_, 0, [], columns)
        self.rules_ = []
        for sid in ids:
            in_seg = y == sid
            found = []
            for path, cls in leaves:
                if self.classes_[cls] != sid:
                    continue
                conditions = simplify(path, self.steps_, self.exact_)
                m = np.ones(len(X), dtype=bool)
                for c in conditions:
                    m &= c.mask(X)
                found.append((m, conditions))
            rules = [_rule(int(sid), conds, m, in_seg) for m, conds in found]
            rules.sort(key=lambda r: (-r.correct, r.text))
            union = np.zeros(len(X), dtype=bool)
            for m, _ in found:
                union |= m
            hit = int((union & in_seg).sum())
            self.rules_.append(SegmentRuleSet(
                segment_id=int(sid), size=int(in_seg.sum()), rules=rules, covers=int(union.sum()),
                precision=round(hit / int(union.sum()), 4) if union.any() else None,
                recall=round(hit / max(1, int(in_seg.sum())), 4)))
        if self.fidelity_ < self.min_fidelity:
            warnings.warn(LowFidelityWarning(self.fidelity_, self.min_fidelity), stacklevel=2)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The tree's segment for each row of `X` (same columns as in :meth:`fit`)."""
        check_is_fitted(self, "tree_")
        if list(X.columns) != list(self.feature_names_in_):
            raise ValueError(f"X has columns {list(X.columns)}; the rules were fitted on "
                             f"{list(self.feature_names_in_)}")
        return self.classes_[self.tree_.predict(X.to_numpy(dtype=float))]


def _leaves(tree: DecisionTreeClassifier, node: int, path: list, columns: list[Feature]) -> list[tuple[list, int]]:
    """(path, segment) per leaf; sibling leaves of one segment merged into their parent."""
    t = tree.tree_
    left, right = int(t.children_left[node]), int(t.children_right[node])
    if left == right:  # a leaf
        return [(path, tree.classes_[int(np.argmax(t.value[node][0]))])]
    f, thr = columns[int(t.feature[node])], float(t.threshold[node])
    below = _leaves(tree, left, [*path, (f, "<=", thr)], columns)
    above = _leaves(tree, right, [*path, (f, ">", thr)], columns)
    if len(below) == 1 and len(above) == 1 and below[0][1] == above[0][1]:
        return [(path, below[0][1])]
    return below + above


def _rule(segment_id: int, conditions: list[Condition], m: np.ndarray, in_seg: np.ndarray) -> Rule:
    """A rule's text and figures, measured as shown."""
    covers, correct = int(m.sum()), int((m & in_seg).sum())
    return Rule(segment_id=segment_id, text=" and ".join(format_condition(c) for c in conditions) or "every row",
                conditions=[c.to_dict() for c in conditions], covers=covers, correct=correct,
                precision=round(correct / covers, 4) if covers else None,
                recall=round(correct / max(1, int(in_seg.sum())), 4))


def segment_rules(X: pd.DataFrame, labels, contract: DatasetContract | None = None, *,
                  random_state: int = 0) -> tuple[list[SegmentRuleSet], float, list[str]]:
    """A run's rules: per segment its rule set, the tree's fidelity, and the warnings to show.

    Parameters
    ----------
    X : DataFrame
        The run's feature frame in original units.
    labels : array-like of int
        Each row's segment (the consensus, ids as published).
    contract : DatasetContract, optional
        For the features' labels, units and category values (:func:`describe_features`).
    random_state : int
        The run's random state.

    Returns
    -------
    (rule_sets, fidelity, warnings) : list of SegmentRuleSet, float, list of str

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"TOTAL": [10.0, 20, 30, 600, 700, 800]})
    >>> sets, fidelity, warns = segment_rules(X, [0, 0, 0, 1, 1, 1])
    >>> [r.text for s in sets for r in s.rules], fidelity, warns
    (['Total < 320', 'Total ≥ 320'], 1.0, [])
    """
    model = SegmentRules(features=describe_features(X.columns, contract), random_state=random_state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LowFidelityWarning)
        model.fit(X, labels)
    said = [str(w.message) for w in caught if issubclass(w.category, LowFidelityWarning)]
    for w in caught:
        if not issubclass(w.category, LowFidelityWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    no_rule = [s.segment_id for s in model.rules_ if not s.rules]
    if no_rule:
        said.append(f"segments {no_rule} have no rule of their own: the depth-{model.max_depth} tree gives them "
                    "no leaf (they overlap the others in these features)")
    return model.rules_, model.fidelity_, said


def attach_rules(profiles: list[SegmentProfile], X: pd.DataFrame, labels, contract: DatasetContract | None = None, *,
                 random_state: int = 0) -> list[str]:
    """Fit the run's rules (:func:`segment_rules`) and keep them on its profiles; return the warnings to show.

    Each profile gets ``rules`` (dicts of :class:`Rule`), ``rule_accuracy`` and ``rule_recall`` (its rules
    together) and the run's ``rules_fidelity``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"TOTAL": [10.0, 20, 30, 600, 700, 800]})
    >>> profs = [SegmentProfile(0, "Low spend", 3, 0.5, 20.0), SegmentProfile(1, "High spend", 3, 0.5, 700.0)]
    >>> attach_rules(profs, X, [0, 0, 0, 1, 1, 1])
    []
    >>> [(p.rules[0]["text"], p.rule_accuracy, p.rules_fidelity) for p in profs]
    [('Total < 320', 1.0, 1.0), ('Total ≥ 320', 1.0, 1.0)]
    """
    sets, fidelity, said = segment_rules(X, labels, contract, random_state=random_state)
    by_id = {s.segment_id: s for s in sets}
    for p in profiles:
        found = by_id.get(p.segment_id)
        p.rules = [asdict(r) for r in found.rules] if found else []
        p.rule_accuracy = found.precision if found else None
        p.rule_recall = found.recall if found else None
        p.rules_fidelity = fidelity
    return [f"Rules: {s}" for s in said]
