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
[(0, 'Low spend', 2, 11.0), (1, 'High spend', 1, 500.0)]
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


def profile_segments(X: pd.DataFrame, labels, contract: DatasetContract) -> list[SegmentProfile]:
    """Profile each segment of a labelled feature frame (features in original units).

    Parameters
    ----------
    X : DataFrame
        Feature frame as returned by :func:`snowseg.features.read_features`.
    labels : array-like of int
        Segment id per row.
    contract : DatasetContract
        Gives the amount column and the categoricals to describe.

    Returns
    -------
    list of SegmentProfile, ordered by segment id, names unique within the run.
    """
    labels = np.asarray(labels)
    amount = contract.column_for_role("amount")
    amount_col = amount.column if amount is not None and amount.column in X.columns else None
    numeric = [c for c in contract.features.numeric if c in X.columns]
    shares = {c: _category_shares(X, contract, c) for c in contract.features.categorical}
    ids = sorted(int(s) for s in np.unique(labels))
    profiles = []
    for sid in ids:
        mask = labels == sid
        cats = {c: {k: round(float(v), 4) for k, v in df[mask].mean().items()} for c, df in shares.items() if df is not None}
        profiles.append(
            SegmentProfile(
                segment_id=sid,
                name="",
                size=int(mask.sum()),
                share=round(float(mask.mean()), 4),
                mean_amount=round(float(X.loc[mask, amount_col].mean()), 4) if amount_col else None,
                centroid={c: round(float(X.loc[mask, c].mean()), 4) for c in numeric},
                categories=cats,
            )
        )
    for p, name in zip(profiles, spend_names([p.mean_amount or 0.0 for p in profiles])):
        p.name = name
    return profiles
