"""Segment profiles and business names, from the feature frame in original units.

A segment is named by what separates it from the rest: the features whose segment mean lies at least
:data:`SEPARATES` (half) a standard deviation from the overall mean (see :func:`name_segments` for the
rule, and docs/segmentation.md).

Examples
--------
>>> import pandas as pd
>>> from snowseg.config import load_contract
>>> c = load_contract()
>>> X = pd.DataFrame({"TOTAL": [10.0, 12.0, 500.0], "CUSTOMER_TYPE__MEMBER": [1, 0, 1],
...                   "CUSTOMER_TYPE__NORMAL": [0, 1, 0]})
>>> profs = profile_segments(X, [0, 0, 1], c)
>>> [(p.segment_id, p.name, p.size, p.mean_amount) for p in profs]
[(0, 'Low spend', 2, 11.0), (1, 'High spend · Member', 1, 500.0)]
>>> profs[1].over_index[0]
{'column': 'CUSTOMER_TYPE', 'value': 'Member', 'share': 1.0, 'overall': 0.6667, 'index': 1.5}
>>> profs[1].numeric_index[0]["column"], profs[1].numeric_index[0]["direction"], profs[1].effects
('TOTAL', 'high', {'TOTAL': 1.4132})
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from snowseg.config import DatasetContract
from snowseg.features import _slug


@dataclass
class SegmentProfile:
    """One segment: size, centroid in original units, category mix and a business name."""

    segment_id: int
    name: str
    size: int
    share: float
    mean_amount: float | None
    centroid: dict[str, float] = field(default_factory=dict)
    categories: dict[str, dict[str, float]] = field(default_factory=dict)
    over_index: list[dict] = field(default_factory=list)  # category values over-represented, highest index first
    stability: float | None = None  # mean Jaccard over the ensemble's runs (clusterboot)
    stability_band: str | None = None
    mean_confidence: float | None = None
    center: dict[str, float] = field(default_factory=dict)  # every feature's mean, original units (ids across runs)
    # numeric feature -> (mean - overall) / sd, on the clustering scale
    effects: dict[str, float] = field(default_factory=dict)
    # numeric features with |effect| >= SEPARATES, strongest first
    numeric_index: list[dict] = field(default_factory=list)
    # readable rules of the segment (snowseg.clustering.rules.Rule as dicts), most customers first
    rules: list[dict] = field(default_factory=list)
    rule_accuracy: float | None = None  # share of the customers the rules cover that are in the segment
    rule_recall: float | None = None  # share of the segment the rules cover
    rules_fidelity: float | None = None  # the rules' tree: its accuracy over the run's rows (the same in every segment)


def _category_shares(X: pd.DataFrame, contract: DatasetContract, column: str) -> pd.DataFrame | None:
    """Per-row 0/1 indicators of a categorical's values, from one-hot or label-coded features."""
    values = contract.column(column).values
    onehot = [f"{column}__{_slug(v)}" for v in values]
    if all(c in X.columns for c in onehot):
        return X[onehot].set_axis(list(values), axis=1)
    if column in X.columns:  # label encoding: code i is values[i]
        codes = X[column].to_numpy()
        return pd.DataFrame({v: (codes == i).astype(float) for i, v in enumerate(values)}, index=X.index)
    return None


OVER_INDEX_MIN = 1.15  # a value is over-represented when its share in the segment is 15 % above overall
OVER_INDEX_SHARE_MIN = 0.2  # ... and at least a fifth of the segment has it (a name reads for many rows)
SEPARATES = 0.5  # a feature names a segment when its mean is this many standard deviations from the overall mean
RFM = ("RECENCY_DAYS", "FREQUENCY", "MONETARY")  # the customer-level columns the RFM words describe
_FIXED_LABELS = {"RECENCY_DAYS": "recency", "FREQUENCY": "frequency", "MONETARY": "spend", "AVG_BASKET": "basket",
                 "TENURE_DAYS": "tenure"}


def _amount_column(X: pd.DataFrame, contract: DatasetContract) -> str | None:
    """The feature that measures spend: the amount column, or customer-level MONETARY."""
    amount = contract.column_for_role("amount")
    for c in ([amount.column] if amount is not None else []) + ["MONETARY", "AVG_BASKET"]:
        if c in X.columns:
            return c
    return None


def _numeric_columns(X: pd.DataFrame, contract: DatasetContract) -> list[str]:
    """The numeric features: the contract's, else (customer level) every column that is not a category."""
    numeric = [c for c in contract.features.numeric if c in X.columns]
    if not numeric:  # customer level: the RFM and AVG_ columns
        numeric = [c for c in X.columns if "__" not in c and c not in contract.features.categorical]
    return numeric


def feature_labels(columns, contract: DatasetContract, amount_column: str | None = None) -> dict[str, str]:
    """Short lower-case labels of numeric features for names: the fewest trailing words that stay unique.

    The words come from the contract's CSV header for the column (units in parentheses dropped), or
    from the column name itself (``_`` as spaces); ``AVG_<col>`` is labelled as ``<col>``. The amount
    column is "spend"; RECENCY_DAYS, FREQUENCY, MONETARY, AVG_BASKET and TENURE_DAYS have fixed labels.
    Each label is the shortest run of trailing words that no other feature's words end with.

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> feature_labels(["UNIT_PRICE", "QUANTITY", "TOTAL", "ANNUAL_INCOME", "SPENDING_SCORE", "NET_PRICE"],
    ...                load_contract(), amount_column="TOTAL")
    {'UNIT_PRICE': 'unit price', 'QUANTITY': 'quantity', 'TOTAL': 'spend', 'ANNUAL_INCOME': 'income', \
'SPENDING_SCORE': 'score', 'NET_PRICE': 'net price'}
    """
    known = {c.column: c.name for c in contract.columns}
    fixed, words = {}, {}
    for c in columns:
        if c == amount_column:
            fixed[c] = "spend"
        elif c in _FIXED_LABELS:
            fixed[c] = _FIXED_LABELS[c]
        else:
            base = c[4:] if c.startswith("AVG_") and len(c) > 4 else c
            text = re.sub(r"\(.*?\)", " ", known.get(base, base.replace("_", " ")))
            words[c] = re.findall(r"[a-z0-9%]+", text.lower()) or [c.lower()]
    labels = dict(fixed)
    for c, w in words.items():
        others = [o for d, o in words.items() if d != c]
        n = next((n for n in range(1, len(w) + 1) if not any(o[-n:] == w[-n:] for o in others)), len(w))
        labels[c] = " ".join(w[-n:])
    return {c: labels[c] for c in columns}


def _category_effect(o: dict) -> float:
    """A category value's over-representation in standard deviations of its 0/1 indicator."""
    base = o["overall"]
    return (o["share"] - base) / math.sqrt(base * (1 - base)) if 0 < base < 1 else 0.0


def _rfm_phrase(p: SegmentProfile) -> str:
    """Recency, frequency and monetary words: 'Active repeat buyers', 'Lapsed one-time buyers', 'Big spenders'."""
    e = p.effects
    recency = e.get("RECENCY_DAYS", 0.0)
    frequency = e.get("FREQUENCY", 0.0)
    monetary = e.get("MONETARY", 0.0)
    words = []
    if recency <= -SEPARATES:
        words.append("active")
    elif recency >= SEPARATES:
        words.append("lapsed")
    if frequency >= SEPARATES:
        words.append("repeat")
    elif frequency <= -SEPARATES:
        freq = next((o for o in p.numeric_index if o["column"] == "FREQUENCY"), {})
        words.append("one-time" if freq.get("median", 2.0) <= 1 else "occasional")
    if monetary >= SEPARATES:
        words.append("big spenders")
    elif monetary <= -SEPARATES:
        words.append("small spenders")
    else:
        words.append("buyers")
    phrase = " ".join(words)
    return "Typical buyers" if phrase == "buyers" else phrase[0].upper() + phrase[1:]


def _spend_phrase(effect: float) -> str:
    """'High spend', 'Mid spend' (within half a standard deviation of the overall mean) or 'Low spend'."""
    return "High spend" if effect >= SEPARATES else "Low spend" if effect <= -SEPARATES else "Mid spend"


def name_segments(profiles: list[SegmentProfile], max_values: int = 2, amount_column: str | None = None) -> list[str]:
    """Business names from what separates each segment: a head phrase, then its strongest other features.

    The rule. A numeric feature *separates* a segment when the segment's mean, on the clustering's
    scale (``log1p`` for skewed money columns, then standardised: :attr:`SegmentProfile.effects`), is
    at least ``SEPARATES`` = 0.5 standard deviations above ("high") or below ("low") the overall mean.
    A category value separates it when it is over-represented (:attr:`SegmentProfile.over_index`:
    share >= 1.15 x overall and >= 20 %) by at least 0.5 standard deviations of its 0/1 indicator.

    * **Head.** Customer level (RECENCY_DAYS, FREQUENCY or MONETARY among the features): recency
      "Active" / "Lapsed", frequency "repeat" / "one-time" (half the segment bought once) or
      "occasional", monetary "big spenders" / "small spenders", else "buyers" ("Active repeat buyers",
      "Lapsed one-time buyers", "Active big spenders"; "Typical buyers" when none separates). Otherwise,
      with an amount column: "High spend" / "Low spend", or "Mid spend" within half a standard
      deviation. Without an amount column there is no head, and never a spend word.
    * **Then** up to `max_values` other separating features, strongest first (numeric
      ``|effect|``, category values by their effect): "high income", "low score", "Member". The first
      word of the name is capitalised ("High income · low score"); nothing separates: "Close to average".

    Names are unique within the run: colliding segments take further separating features; if they
    still collide, their id is appended.

    Parameters
    ----------
    profiles : list of SegmentProfile
        With ``effects``, ``numeric_index`` and ``over_index`` filled (:func:`profile_segments`).
    max_values : int
        Features after the head.
    amount_column : str, optional
        The feature that measures spend (the contract's amount column), for the spend head.

    Examples
    --------
    >>> hi = {"column": "ANNUAL_INCOME", "label": "income", "direction": "high", "effect": 1.2}
    >>> lo = {"column": "SPENDING_SCORE", "label": "score", "direction": "low", "effect": -1.1}
    >>> a = SegmentProfile(0, "", 10, 0.5, None, numeric_index=[hi, lo])
    >>> b = SegmentProfile(1, "", 10, 0.5, None, over_index=[{"value": "Female", "share": 0.9, "overall": 0.5}])
    >>> name_segments([a, b])
    ['High income · low score', 'Female']
    >>> c = SegmentProfile(2, "", 10, 0.5, 90.0, effects={"TOTAL": 0.9},
    ...                    over_index=[{"value": "Member", "share": 0.8, "overall": 0.5}])
    >>> name_segments([c], amount_column="TOTAL")
    ['High spend · Member']
    """
    rfm = any(c in p.effects for p in profiles for c in RFM)
    used = set(RFM) if rfm else {amount_column}

    def head(p: SegmentProfile) -> str | None:
        if rfm:
            return _rfm_phrase(p)
        if amount_column is not None and amount_column in p.effects:
            return _spend_phrase(p.effects[amount_column])
        return None

    def terms(p: SegmentProfile) -> list[str]:
        found = [(abs(o["effect"]), f"{o['direction']} {o['label']}") for o in p.numeric_index
                 if o["column"] not in used and abs(o["effect"]) >= SEPARATES]
        found += [(_category_effect(o), str(o["value"])) for o in p.over_index if _category_effect(o) >= SEPARATES]
        return [t for _, t in sorted(found, key=lambda x: -x[0])]

    heads = [head(p) for p in profiles]
    extra = [terms(p) for p in profiles]
    depth = [min(max_values, len(t)) for t in extra]

    def name(i: int) -> str:
        head_i = heads[i]
        parts = ([head_i] if head_i else []) + extra[i][: depth[i]]
        if not parts:
            return "Close to average"
        text = " · ".join(parts)
        return text[0].upper() + text[1:]

    names = [name(i) for i in range(len(profiles))]
    for _ in range(max((len(t) for t in extra), default=0)):
        dup = {n for n in names if names.count(n) > 1}
        if not dup:
            break
        for i in range(len(profiles)):
            if names[i] in dup and depth[i] < len(extra[i]):
                depth[i] += 1
                names[i] = name(i)
    dup = {n for n in names if names.count(n) > 1}
    return [f"{n} (segment {p.segment_id})" if n in dup else n for n, p in zip(names, profiles, strict=True)]


def profile_segments(X: pd.DataFrame, labels, contract: DatasetContract, *, stability=None,
                     confidence=None) -> list[SegmentProfile]:
    """Profile each segment of a labelled feature frame (features in original units).

    Parameters
    ----------
    X : DataFrame
        Feature frame as returned by :func:`snowseg.features.read_features`.
    labels : array-like of int
        Segment id per row.
    contract : DatasetContract
        Gives the amount column and the categoricals to describe.
    stability : mapping of segment id to Jaccard, optional
        From the stability ensemble (``cluster_stability_``).
    confidence : array-like of float, optional
        Per-row confidence; each profile gets its segment's mean.

    Returns
    -------
    list of SegmentProfile, ordered by segment id, names unique within the run (:func:`name_segments`).
    Each numeric feature's ``effects`` entry is the segment's mean minus the overall mean in overall
    standard deviations, on the clustering's scale (the :class:`~snowseg.clustering.transform.FeatureTransformer`
    of the numeric columns: ``log1p`` on skewed money columns, standardised).
    """
    from snowseg.clustering.ensemble import stability_band
    from snowseg.clustering.transform import FeatureTransformer

    labels = np.asarray(labels)
    amount_col = _amount_column(X, contract)
    numeric = _numeric_columns(X, contract)
    Zn = FeatureTransformer(columns=numeric).fit(X).transform(X) if numeric else np.zeros((len(X), 0))
    label_of = feature_labels(numeric, contract, amount_col)
    overall_mean = X[numeric].mean()
    shares = {c: _category_shares(X, contract, c) for c in contract.features.categorical}
    overall = {c: df.mean() for c, df in shares.items() if df is not None}
    ids = sorted(int(s) for s in np.unique(labels))
    conf = None if confidence is None else np.asarray(confidence, dtype=float)
    profiles = []
    for sid in ids:
        mask = labels == sid
        cats = {c: {k: round(float(v), 4) for k, v in df[mask].mean().items()}
                for c, df in shares.items() if df is not None}
        over = []
        for c, mix in cats.items():
            for value, share in mix.items():
                base = float(overall[c][value])
                if base > 0 and share >= OVER_INDEX_SHARE_MIN and share / base >= OVER_INDEX_MIN:
                    over.append({"column": c, "value": value, "share": share, "overall": round(base, 4),
                                 "index": round(share / base, 4)})
        over.sort(key=lambda o: (-o["index"], o["column"], o["value"]))
        effects = {c: round(float(v), 4) for c, v in zip(numeric, Zn[mask].mean(axis=0), strict=True)}
        numeric_index = [
            {"column": c, "label": label_of[c], "direction": "high" if e > 0 else "low", "effect": e,
             "mean": round(float(X.loc[mask, c].mean()), 4), "overall": round(float(overall_mean[c]), 4),
             "median": round(float(X.loc[mask, c].median()), 4)}
            for c, e in sorted(effects.items(), key=lambda ce: -abs(ce[1])) if abs(e) >= SEPARATES
        ]
        jac = None if stability is None else stability.get(sid)
        profiles.append(
            SegmentProfile(
                segment_id=sid,
                name="",
                size=int(mask.sum()),
                share=float(mask.mean()),
                mean_amount=round(float(X.loc[mask, amount_col].mean()), 4) if amount_col else None,
                centroid={c: round(float(X.loc[mask, c].mean()), 4) for c in numeric},
                categories=cats,
                over_index=over,
                stability=None if jac is None else round(float(jac), 4),
                stability_band=None if jac is None else stability_band(float(jac)),
                mean_confidence=None if conf is None else round(float(conf[mask].mean()), 4),
                center={c: float(v) for c, v in X.loc[mask].mean().items()},
                effects=effects,
                numeric_index=numeric_index,
            )
        )
    for p, name in zip(profiles, name_segments(profiles, amount_column=amount_col), strict=True):
        p.name = name
    return profiles
