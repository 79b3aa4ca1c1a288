"""Segment profiles and business names, from the feature frame in original units.

Examples
--------
>>> import pandas as pd
>>> from snowseg.config import load_contract
>>> c = load_contract()
>>> X = pd.DataFrame({"TOTAL": [10.0, 12.0, 500.0], "CUSTOMER_TYPE__MEMBER": [1, 0, 1],
...                   "CUSTOMER_TYPE__NORMAL": [0, 1, 0]})
>>> profs = profile_segments(X, [0, 0, 1], c)
>>> [(p.segment_id, p.name, p.size, p.mean_amount) for p in profs]
[(0, 'Low spend · Normal', 2, 11.0), (1, 'High spend · Member', 1, 500.0)]
>>> profs[1].over_index[0]
{'column': 'CUSTOMER_TYPE', 'value': 'Member', 'share': 1.0, 'overall': 0.6667, 'index': 1.5}
"""

from __future__ import annotations

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


def spend_names(mean_amounts: list[float]) -> list[str]:
    """Names by rank of mean spend: Low/High, Low/Mid/High, else 'Spend tier i of k' (1 = lowest).

    Examples
    --------
    >>> spend_names([50.0, 10.0, 30.0])
    ['High spend', 'Low spend', 'Mid spend']
    """
    k = len(mean_amounts)
    ladder = {1: ["All customers"], 2: ["Low spend", "High spend"], 3: ["Low spend", "Mid spend", "High spend"]}
    ranks = np.argsort(np.argsort(mean_amounts, kind="stable"), kind="stable")
    names = ladder.get(k) or [f"Spend tier {i + 1} of {k}" for i in range(k)]
    return [names[r] for r in ranks]


OVER_INDEX_MIN = 1.15  # a value is over-represented when its share in the segment is 15 % above overall
OVER_INDEX_SHARE_MIN = 0.2  # ... and at least a fifth of the segment has it (a name reads for many rows)


def _amount_column(X: pd.DataFrame, contract: DatasetContract) -> str | None:
    """The feature that measures spend: the amount column, or customer-level MONETARY."""
    amount = contract.column_for_role("amount")
    for c in ([amount.column] if amount is not None else []) + ["MONETARY", "AVG_BASKET"]:
        if c in X.columns:
            return c
    return None


def name_segments(profiles: list[SegmentProfile], max_values: int = 2) -> list[str]:
    """Business names: the spend tier, then the category values the segment over-indexes on.

    The rule: ``<tier>`` from the rank of mean spend (:func:`spend_names`), then up to `max_values`
    over-represented values (index = share in the segment / share overall >= 1.15, share >= 20 %),
    highest index first, joined by `` · `` ("High spend · Member · Food and beverages"). If two names
    collide, the colliding segments take further values; if they still collide, their id is appended.

    Examples
    --------
    >>> a = SegmentProfile(0, "", 10, 0.5, 20.0, over_index=[{"value": "Member", "index": 1.4}])
    >>> b = SegmentProfile(1, "", 10, 0.5, 90.0, over_index=[{"value": "Cash", "index": 1.3}])
    >>> name_segments([a, b])
    ['Low spend · Member', 'High spend · Cash']
    """
    tiers = spend_names([p.mean_amount or 0.0 for p in profiles])
    depth = {p.segment_id: min(max_values, len(p.over_index)) for p in profiles}

    def name(p: SegmentProfile, tier: str) -> str:
        return " · ".join([tier, *(o["value"] for o in p.over_index[: depth[p.segment_id]])])

    names = [name(p, t) for p, t in zip(profiles, tiers)]
    for _ in range(max(len(p.over_index) for p in profiles) if profiles else 0):
        dup = {n for n in names if names.count(n) > 1}
        if not dup:
            break
        for i, p in enumerate(profiles):
            if names[i] in dup and depth[p.segment_id] < len(p.over_index):
                depth[p.segment_id] += 1
                names[i] = name(p, tiers[i])
    dup = {n for n in names if names.count(n) > 1}
    return [f"{n} (segment {p.segment_id})" if n in dup else n for n, p in zip(names, profiles)]


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
    """
    from snowseg.clustering.ensemble import stability_band

    labels = np.asarray(labels)
    amount_col = _amount_column(X, contract)
    numeric = [c for c in contract.features.numeric if c in X.columns]
    if not numeric:  # customer level: the RFM and AVG_ columns
        numeric = [c for c in X.columns if "__" not in c]
    shares = {c: _category_shares(X, contract, c) for c in contract.features.categorical}
    overall = {c: df.mean() for c, df in shares.items() if df is not None}
    ids = sorted(int(s) for s in np.unique(labels))
    conf = None if confidence is None else np.asarray(confidence, dtype=float)
    profiles = []
    for sid in ids:
        mask = labels == sid
        cats = {c: {k: round(float(v), 4) for k, v in df[mask].mean().items()} for c, df in shares.items() if df is not None}
        over = []
        for c, mix in cats.items():
            for value, share in mix.items():
                base = float(overall[c][value])
                if base > 0 and share >= OVER_INDEX_SHARE_MIN and share / base >= OVER_INDEX_MIN:
                    over.append({"column": c, "value": value, "share": share, "overall": round(base, 4),
                                 "index": round(share / base, 4)})
        over.sort(key=lambda o: (-o["index"], o["column"], o["value"]))
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
            )
        )
    for p, name in zip(profiles, name_segments(profiles)):
        p.name = name
    return profiles
