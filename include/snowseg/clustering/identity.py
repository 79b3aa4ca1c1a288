"""Keep segment ids stable across model runs: "segment 2" means the same customers next week.

A new run's clusters come out of k-means in an arbitrary order. :func:`carry_ids` matches them to the
previous published run's segments by their centres in original units (Hungarian assignment on the
distances, each feature divided by its spread so no unit dominates) and gives a matched cluster the
old segment's id. A cluster whose nearest old segment is further than `max_shift` (in spreads, root
mean square over the features) is a new segment and gets an id never used by the previous run, so a
reader never mistakes it for an old one.

Examples
--------
>>> import numpy as np
>>> prev = {0: {"TOTAL": 100.0, "RATING": 5.0}, 1: {"TOTAL": 900.0, "RATING": 7.0}}
>>> new = np.array([[880.0, 7.1], [110.0, 5.2], [400.0, 9.9]])
>>> ids, matches = carry_ids(new, ["TOTAL", "RATING"], prev, spread={"TOTAL": 250.0, "RATING": 1.7})
>>> ids
[1, 0, 2]
>>> [(m["new"], m["previous"]) for m in matches]
[(0, 1), (1, 0), (2, None)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment


def carry_ids(
    centers: np.ndarray,
    features: Sequence[str],
    previous: Mapping[int, Mapping[str, float]] | None,
    *,
    spread: Mapping[str, float],
    max_shift: float = 1.0,
) -> tuple[list[int], list[dict]]:
    """Segment ids for the new clusters, carried over from the previous run where they match.

    Parameters
    ----------
    centers : ndarray of shape (k, n_features)
        The new clusters' centres in original units, in `features` order.
    features : sequence of str
        Feature names of the columns of `centers`.
    previous : mapping of segment id to {feature: centre value}, or None
        The previous published run's centres (``SEGMENT_PROFILES.CENTER``); None or empty on a first run.
    spread : mapping of feature to a positive scale (e.g. the fitted standard deviation)
        Distances are computed on ``(new - old) / spread`` over the features both runs have.
    max_shift : float
        The largest root-mean-square shift, in spreads, at which a new cluster is still the old segment.

    Returns
    -------
    (ids, matches)
        ``ids[i]`` is the segment id of new cluster ``i``; ``matches`` has one dict per new cluster
        (``new``, ``id``, ``previous`` (id or None), ``shift``), recorded with the model run.
    """
    centers = np.asarray(centers, dtype=float)
    k = centers.shape[0]
    if not previous:
        return list(range(k)), [{"new": i, "id": i, "previous": None, "shift": None} for i in range(k)]
    old_ids = sorted(previous)
    common = [f for f in features if all(f in previous[s] for s in old_ids)]
    if not common:  # nothing comparable (another feature set): all new ids
        start = max(old_ids) + 1
        fresh = list(range(start, start + k))
        return fresh, [{"new": i, "id": fresh[i], "previous": None, "shift": None} for i in range(k)]
    cols = [list(features).index(f) for f in common]
    scale = np.array([float(spread.get(f) or 1.0) or 1.0 for f in common])
    new = centers[:, cols] / scale
    old = np.array([[float(previous[s][f]) for f in common] for s in old_ids]) / scale
    shift = np.sqrt(((new[:, None, :] - old[None, :, :]) ** 2).mean(axis=2))  # (k_new, k_old)
    rows, cols_ = linear_sum_assignment(shift)
    ids: list[int | None] = [None] * k
    matched: dict[int, tuple[int, float]] = {}
    for i, j in zip(rows, cols_, strict=True):
        if shift[i, j] <= max_shift:
            ids[i] = old_ids[j]
            matched[i] = (old_ids[j], float(shift[i, j]))
    next_id = max(old_ids) + 1
    final: list[int] = []
    for i in range(k):
        got = ids[i]
        if got is None:
            got, next_id = next_id, next_id + 1
        final.append(int(got))
    matches = []
    for i in range(k):
        prev_id, d = matched.get(i, (None, float(shift[i].min())))
        matches.append({"new": i, "id": final[i], "previous": prev_id, "shift": round(d, 4)})
    return final, matches
