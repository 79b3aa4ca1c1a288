"""Segment migrations, centroid drift and the refit decision (issue 16).

Three measures, each computed the same way wherever it is shown (MODEL_RUNS, the run report, the loads
monitor):

- **Migration matrix** (:func:`migration_matrix`): per pair (previous segment → segment) the customers
  who made that move between the dataset's previous published run and this one. ``from = None`` is a
  customer new in this run; ``to = None`` a customer of the previous run absent from this one (left).
  The counts add up to the customers of either run; ``share`` is a count over that total, ``row_share``
  over its ``from`` segment's customers. The **moved share** is the share of the customers present in both
  runs whose segment changed.
- **Centroid shift** (:func:`centroid_shift`): per segment, its mean in original units now minus its mean
  in a reference run (the previous run, or the last refit), per feature; and one scaled number, the root
  mean square over the features of that difference in standard deviations of this run's data -- the
  measure :mod:`snowseg.clustering.identity` matches segments by.
- **Drift** (:func:`drift`), measured *before* deciding on a refit: the customers of this run are assigned
  to the last refit's centroids (its stored transform and centres), and each segment's mean is compared
  with its mean at that refit. Drift is the largest scaled centroid shift over the segments. On the refit's
  own data it is 0; it grows as customers change or arrive unlike the ones the centroids were fitted on,
  and it accumulates over assign-only runs, since it is always measured from the last refit.

:func:`decide_refit` applies the contract's :class:`~snowseg.config.RefitPolicy`.

Examples
--------
>>> m = migration_matrix([("a", 0), ("b", 0), ("c", 1)], [("a", 0), ("b", 1), ("d", 1)])
>>> [(c["from"], c["to"], c["count"]) for c in m["cells"]]
[(0, 0, 1), (0, 1, 1), (1, None, 1), (None, 1, 1)]
>>> m["moved"], m["stayed"], m["new"], m["left"], m["total"], m["moved_share"]
(1, 1, 1, 1, 4, 0.5)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

#: The run kinds MODEL_RUNS.RUN_KIND records.
REFIT, ASSIGN = "refit", "assign"


def migration_from_counts(pairs: Iterable[tuple[int | None, int | None, int]]) -> dict:
    """The migration matrix from (previous segment, segment, customers) counts (SQL's ``group by``).

    ``None`` as previous segment: new customers; ``None`` as segment: customers that left.

    Examples
    --------
    >>> m = migration_from_counts([(0, 0, 6), (0, 1, 2), (None, 1, 1), (1, None, 1)])
    >>> m["total"], m["moved_share"], m["new"], m["left"]
    (10, 0.25, 1, 1)
    >>> [(c["from"], c["to"], c["share"], c["row_share"]) for c in m["cells"]]
    [(0, 0, 0.6, 0.75), (0, 1, 0.2, 0.25), (1, None, 0.1, 1.0), (None, 1, 0.1, 1.0)]
    """
    counts: Counter = Counter()
    for f, t, n in pairs:
        counts[(None if f is None else int(f), None if t is None else int(t))] += int(n)
    counts = Counter({key: n for key, n in counts.items() if n and key != (None, None)})
    total = sum(counts.values())
    rows: Counter = Counter()
    for (f, _), n in counts.items():
        rows[f] += n
    order = sorted(counts, key=lambda ft: (ft[0] is None, ft[0] or 0, ft[1] is None, ft[1] or 0))
    cells = [{"from": f, "to": t, "count": counts[(f, t)], "share": round(counts[(f, t)] / total, 6),
              "row_share": round(counts[(f, t)] / rows[f], 6)} for f, t in order]
    both = sum(n for (f, t), n in counts.items() if f is not None and t is not None)
    moved = sum(n for (f, t), n in counts.items() if f is not None and t is not None and f != t)
    return {
        "cells": cells, "total": total, "moved": moved, "stayed": both - moved,
        "new": sum(n for (f, _), n in counts.items() if f is None),
        "left": sum(n for (_, t), n in counts.items() if t is None),
        "moved_share": round(moved / both, 6) if both else None,
    }


def migration_matrix(previous: Iterable[tuple[Any, int]], current: Iterable[tuple[Any, int]]) -> dict:
    """The migration matrix of two assignments, each (entity id, segment id) pairs (a reference for the SQL)."""
    prev, cur = dict(previous), dict(current)
    pairs = [(prev.get(e), s, 1) for e, s in cur.items()] + [(s, None, 1) for e, s in prev.items() if e not in cur]
    return migration_from_counts(pairs)


def centroid_shift(now: Mapping[str, float], before: Mapping[str, float], spread: Mapping[str, float]) -> dict:
    """One segment's shift from `before` to `now` (means in original units per feature).

    Returns ``{"delta": {feature: now - before}, "scaled": rms}``, ``rms`` the root mean square over the
    features both have of ``delta / spread`` (a spread of 0 or missing counts as 1).

    Examples
    --------
    >>> centroid_shift({"A": 13.0, "B": 1.0}, {"A": 10.0, "B": 1.0}, {"A": 3.0, "B": 2.0})
    {'delta': {'A': 3.0, 'B': 0.0}, 'scaled': 0.707107}
    """
    common = [f for f in now if f in before]
    delta = {f: round(float(now[f]) - float(before[f]), 6) for f in common}
    if not common:
        return {"delta": {}, "scaled": None}
    z = np.array([delta[f] / (float(spread.get(f) or 1.0) or 1.0) for f in common])
    return {"delta": delta, "scaled": round(float(np.sqrt((z ** 2).mean())), 6)}


def segment_means(X: Any, labels: Sequence[int]) -> dict[int, dict[str, float]]:
    """Per segment id, every column's mean over its rows (original units), as SEGMENT_PROFILES.CENTER holds."""
    y = np.asarray(labels)
    return {int(s): {c: float(v) for c, v in X.loc[y == s].mean().items()} for s in np.unique(y)}


def spreads(X: Any) -> dict[str, float]:
    """Each column's standard deviation over the rows (ddof 0; 1 for a constant column)."""
    return {c: float(v) for c, v in X.std(ddof=0).replace(0, 1.0).items()}


@dataclass(frozen=True)
class Drift:
    """Drift from the last refit: the largest scaled shift, per segment its shift (None: no customers now)."""

    value: float
    by_segment: dict[int, dict | None]

    @property
    def empty_segments(self) -> list[int]:
        return sorted(s for s, v in self.by_segment.items() if v is None)

    def to_dict(self) -> dict:
        return {"value": self.value, "by_segment": {str(s): v for s, v in self.by_segment.items()}}


def drift(X: Any, labels: Sequence[int], refit_centers: Mapping[int, Mapping[str, float]]) -> Drift:
    """Drift of this run's rows, assigned to the last refit's centroids (`labels`), from that refit.

    Parameters
    ----------
    X : DataFrame
        This run's features in original units.
    labels : sequence of int
        Each row's segment id: its nearest centroid of the last refit.
    refit_centers : mapping of segment id to {feature: mean}
        The last refit's segment means in original units (``SEGMENT_PROFILES.CENTER``).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"A": [0.0, 0.0, 10.0, 10.0]})  # standard deviation 5
    >>> d = drift(X, [0, 0, 1, 1], {0: {"A": 1.0}, 1: {"A": 9.0}})
    >>> d.value, d.by_segment[1]["delta"], d.by_segment[1]["scaled"]
    (0.2, {'A': 1.0}, 0.2)
    >>> drift(X, [0, 0, 0, 0], {0: {"A": 6.0}, 1: {"A": 9.0}}).empty_segments
    [1]
    """
    means, spread = segment_means(X, labels), spreads(X)
    by_segment: dict[int, dict | None] = {
        int(s): (centroid_shift(means[s], c, spread) if s in means else None) for s, c in refit_centers.items()}
    scaled = [v["scaled"] for v in by_segment.values() if v is not None and v["scaled"] is not None]
    return Drift(value=round(max(scaled), 6) if scaled else 0.0, by_segment=by_segment)


@dataclass(frozen=True)
class RefitDecision:
    """Whether this run refits (k scores + ensemble) or assigns to the last refit's centroids, and why."""

    kind: str  # REFIT or ASSIGN
    reason: str
    drift: float | None = None
    days_since_refit: int | None = None

    @property
    def refit(self) -> bool:
        return self.kind == REFIT

    def to_dict(self) -> dict:
        return {"kind": self.kind, "reason": self.reason, "drift": self.drift,
                "days_since_refit": self.days_since_refit}


def decide_refit(*, every_days: int, max_drift: float, now: datetime, last_refit_at: datetime | None,
                 same_model: bool, drift_value: float | None, empty_segments: Sequence[int] = (),
                 forced: bool = False) -> RefitDecision:
    """The refit decision, first rule that applies wins.

    1. forced by the run's params; 2. no refit yet ("first run"); 3. the model's parameters or features
    changed since the last refit; 4. schedule: the last refit is ``every_days`` or more calendar days old;
    5. a segment of the last refit has no customers now; 6. drift above ``max_drift``. Otherwise assign only.

    Examples
    --------
    >>> from datetime import datetime as dt
    >>> kw = dict(every_days=7, max_drift=0.25, now=dt(2026, 1, 9), same_model=True)
    >>> decide_refit(last_refit_at=None, drift_value=None, **kw).reason
    'first run'
    >>> decide_refit(last_refit_at=dt(2026, 1, 1, 23), drift_value=0.01, **kw).reason
    'schedule: last refit 8 days ago (every 7 days)'
    >>> decide_refit(last_refit_at=dt(2026, 1, 5), drift_value=0.31, **kw).reason
    'drift 0.31 > 0.25'
    >>> d = decide_refit(last_refit_at=dt(2026, 1, 5), drift_value=0.04, **kw)
    >>> d.kind, d.reason
    ('assign', 'assign only: drift 0.04 ≤ 0.25, last refit 4 days ago')
    """
    if forced:
        return RefitDecision(REFIT, "forced by the run's params", drift_value)
    if last_refit_at is None:
        return RefitDecision(REFIT, "first run", drift_value)
    days = (now.date() - last_refit_at.date()).days
    ago = f"{days} day{'' if days == 1 else 's'} ago"
    if not same_model:
        return RefitDecision(REFIT, "parameters or features changed since the last refit", drift_value, days)
    if days >= every_days:
        return RefitDecision(REFIT, f"schedule: last refit {ago} (every {every_days} days)", drift_value,
                             days)
    if empty_segments:
        return RefitDecision(REFIT, f"segment {', '.join(map(str, empty_segments))} has no customers under the "
                                    "current centroids", drift_value, days)
    d = 0.0 if drift_value is None else drift_value
    if d > max_drift:
        return RefitDecision(REFIT, f"drift {d:.2f} > {max_drift:.2f}", d, days)
    return RefitDecision(ASSIGN, f"assign only: drift {d:.2f} ≤ {max_drift:.2f}, last refit {ago}", d, days)
