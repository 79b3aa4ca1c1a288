"""Nearest-centroid assignment in the warehouse, for feature tables too large to fetch.

The model is fitted in Python on a sample; every row is then assigned in Snowflake by one query that
applies the fitted :class:`~snowseg.clustering.transform.FeatureTransformer` (its
:meth:`~snowseg.clustering.transform.FeatureTransformer.sql_expressions`), computes the squared
Euclidean distance to each centroid and takes the argmin -- rows never leave the warehouse.

The query (``include/sql/segments/select_nearest_centroid.sql``) is a CTE chain
``source -> transformed -> distances (D0, D1, ...) -> assigned -> final``. The argmin is a CASE chain
(``when D0 <= D1 and D0 <= D2 then 0 when D1 <= D2 then 1 else 2``): ``least(...)`` gives the smallest
value but not its index, and the chain gives the lower index on ties, as ``numpy.argmin`` does; the
distance takes the same chain, so index and distance can never disagree. Only ``cast(... as float)``,
``ln``, ``sqrt``, arithmetic and CASE are used, which mean the same in Snowflake and in the twin
(where FLOAT is DuckDB's DOUBLE; plain DuckDB's FLOAT would be 4-byte).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from snowseg.clustering.transform import FeatureTransformer
>>> t = FeatureTransformer(log_columns=[]).fit(pd.DataFrame({"A": [0.0, 2.0]}))
>>> sql = assignment_sql("select ID, A from T", ["ID"], t, np.array([[-1.0], [1.0]]))
>>> print(sql[sql.index("distances as"):sql.index("final as")].strip())
distances as (
    select
        ID,
        (A - (-1.0)) * (A - (-1.0)) as D0,
        (A - 1.0) * (A - 1.0) as D1
    from transformed
),
<BLANKLINE>
assigned as (
    select
        ID,
        case when D0 is null then null when D0 <= D1 then 0 else 1 end as SEGMENT_ID,
        sqrt(case when D0 <= D1 then D0 else D1 end) as DISTANCE
    from distances
),
"""

from __future__ import annotations

import re

import numpy as np

from snowseg import warehouse as wh
from snowseg.clustering.transform import FeatureTransformer, sql_number
from snowseg.warehouse import quote_ident

TEMPLATE = "segments/select_nearest_centroid.sql"
_INDENT = " " * 8


def assignment_sql(source_sql: str, key_columns: list[str], transformer: FeatureTransformer,
                   centers: np.ndarray) -> str:
    """A Snowflake query assigning every row of `source_sql` to its nearest center.

    Parameters
    ----------
    source_sql : str
        A query returning the key columns and the raw feature columns (named as
        ``transformer.feature_names_in_``), e.g. :func:`snowseg.features.feature_sql`'s. Its bound
        parameters (``%(name)s``) stay in place: execute the result with the same params.
    key_columns : list of str
        The row key, passed through (plain identifiers).
    transformer : FeatureTransformer
        Fitted; its SQL expressions transform the raw features.
    centers : ndarray of shape (k, n_features)
        Centroids in the transformed space (e.g. ``KMeans.cluster_centers_``).

    Returns
    -------
    str
        A query returning the key columns, ``SEGMENT_ID`` (0-based index of the nearest center, the
        lower index on a tie, NULL when a feature is NULL) and ``DISTANCE`` (Euclidean, transformed
        space).

    Raises
    ------
    ValueError
        If `centers` has the wrong shape or non-finite values, a key is not a plain identifier, is
        repeated, is a feature, or is one of the output names (``SEGMENT_ID``, ``DISTANCE``, ``D<j>``),
        or `source_sql` is empty or ends in ``;``.
    """
    features = [quote_ident(str(c)) for c in transformer.feature_names_in_]
    centers = np.asarray(centers, dtype=float)
    if centers.ndim != 2 or centers.shape[0] < 1 or centers.shape[1] != len(features):
        raise ValueError(f"centers must have shape (k >= 1, {len(features)}) for features {features}, "
                         f"got {centers.shape}")
    if not np.isfinite(centers).all():
        raise ValueError("centers has NaN or infinite values")
    k = centers.shape[0]
    keys = _keys(key_columns, features, k)
    source_sql = source_sql.strip()
    if not source_sql or source_sql.endswith(";"):
        raise ValueError("source_sql must be one query without a trailing ';'")

    transformed = [f"{expr} as {name}" for expr, name in zip(transformer.sql_expressions(), features, strict=True)]
    squared = [_squared_distance(features, center, f"D{j}") for j, center in enumerate(centers)]
    key_list = ",\n".join(_INDENT + key for key in keys)
    return wh.render(
        TEMPLATE,
        source_sql=source_sql,
        keys=key_list,
        features=",\n".join(_INDENT + t for t in transformed),
        squared_distances=",\n".join(_INDENT + s for s in squared),
        segment_id=argmin_case(k),
        nearest_distance=argmin_case(k, value=True),
    )


def argmin_case(k: int, *, value: bool = False) -> str:
    """The CASE chain over D0..D(k-1) giving the first index with the smallest value (or that value).

    Reaching ``when`` j means every earlier D was strictly above some later one, so none of them is the
    minimum; Dj is the first minimum if it is ``<=`` all later ones. All D are NULL together (each sums
    every feature), which the index form returns as NULL explicitly -- the chain alone would say k-1.

    Examples
    --------
    >>> argmin_case(3)
    'case when D0 is null then null when D0 <= D1 and D0 <= D2 then 0 when D1 <= D2 then 1 else 2 end'
    >>> argmin_case(3, value=True)
    'case when D0 <= D1 and D0 <= D2 then D0 when D1 <= D2 then D1 else D2 end'
    >>> argmin_case(1), argmin_case(1, value=True)
    ('case when D0 is null then null else 0 end', 'D0')
    """
    return _argmin([f"D{j}" for j in range(k)], value=value)


def _keys(key_columns: list[str], features: list[str], k: int) -> list[str]:
    """Validated, upper-cased key columns that clash with no feature or output column."""
    if isinstance(key_columns, str) or not key_columns:
        raise ValueError(f"key_columns must be a non-empty list of column names, got {key_columns!r}")
    keys = [quote_ident(c) for c in key_columns]
    if len(set(keys)) != len(keys):
        raise ValueError(f"key_columns {keys} repeat a column")
    clash = [c for c in keys if c in features or c in {"SEGMENT_ID", "DISTANCE"} or re.fullmatch(r"D\d+", c)]
    if clash:
        raise ValueError(f"key_columns {clash} clash with a feature or an output column "
                         f"(SEGMENT_ID, DISTANCE, D0..D{k - 1})")
    return keys


def _squared_distance(features: list[str], center, alias: str) -> str:
    """``(F1 - c1) * (F1 - c1) + ... as <alias>``: a row's squared Euclidean distance to one centre."""
    return (f"\n{_INDENT}    + ".join(f"({n} - {sql_number(c)}) * ({n} - {sql_number(c)})"
                                      for n, c in zip(features, center, strict=True)) + f" as {alias}")


def _vote_score(features: list[str], center, alias: str) -> str:
    """``||c||^2 + F1 * (-2 c1) + ... as <alias>``: a row's squared distance to a run's centre less the row's own
    ``||x||^2``, the same for every centre of the run, so the run's nearest centre (its vote) is the same, for half
    the arithmetic of :func:`_squared_distance` (on 1e6 rows x 20 runs x k centres, the bulk of the query). Float
    rounding may move a row within ~1e-12 of a boundary, as the ensemble's own float32 runs may
    (``StableKMeans.confidence_``).

    >>> _vote_score(["A", "B"], [1.0, -0.5], "S")
    '1.25 + A * (-2.0) + B * 1.0 as S'
    """
    c = np.asarray(center, dtype=float)
    terms = [sql_number(float(c @ c))]
    terms += [f"{n} * {sql_number(-2.0 * float(v))}" for n, v in zip(features, c, strict=True)]
    return " + ".join(terms) + f" as {alias}"


def _argmin(cols: list[str], *, value: bool = False) -> str:
    """:func:`argmin_case` over arbitrary column names (the first index with the smallest value)."""
    k = len(cols)
    if k == 1:
        return cols[0] if value else f"case when {cols[0]} is null then null else 0 end"
    whens = [] if value else [f"when {cols[0]} is null then null"]
    for j in range(k - 1):
        cond = " and ".join(f"{cols[j]} <= {cols[m]}" for m in range(j + 1, k))
        whens.append(f"when {cond} then {cols[j] if value else j}")
    return f"case {' '.join(whens)} else {cols[-1] if value else k - 1} end"


def warehouse_assignment_sql(source_sql: str, transformer: FeatureTransformer, model, ids: list[int],
                             names: dict[int, str]) -> str:
    """The scale path's query: every row of `source_sql` (ENTITY_ID + raw features) gets the segment of
    its nearest consensus centre, its distance, and a confidence computed as the ensemble does it.

    ``CONFIDENCE`` is the share of the ensemble's runs whose own nearest centre (``run_centers_``,
    aligned to the consensus labels) is the row's segment -- the definition of
    ``StableKMeans.confidence_``, computed in the warehouse from the R x k stored centres.

    Parameters
    ----------
    source_sql : str
        The feature query (its bound parameters stay in place).
    transformer : FeatureTransformer
        Fitted on the sample.
    model : StableKMeans
        Fitted on the sample; ``cluster_centers_`` and ``run_centers_`` (R, k, n_features).
    ids : list of int
        Segment id of each cluster index (carried over from the previous run).
    names : dict of segment id to name

    Returns
    -------
    str
        A query selecting ``ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE``.
    """
    features = [quote_ident(str(c)) for c in transformer.feature_names_in_]
    centers = np.asarray(model.cluster_centers_, dtype=float)
    runs = np.asarray(getattr(model, "run_centers_", np.empty((0, *centers.shape))), dtype=float)
    k = centers.shape[0]
    if runs.ndim != 3 or runs.shape[1:] != centers.shape:
        raise ValueError(f"run_centers_ must have shape (R, {k}, {len(features)}), got {runs.shape}")
    if len(ids) != k or set(ids) - set(names):
        raise ValueError(f"ids {ids} must give a named segment id for each of the {k} clusters")

    transformed = [f"{expr} as {name}" for expr, name in zip(transformer.sql_expressions(), features, strict=True)]
    dists = [_squared_distance(features, c, f"D{j}") for j, c in enumerate(centers)]
    for r, run in enumerate(runs):
        dists += [_vote_score(features, c, f"R{r}_D{j}") for j, c in enumerate(run)]
    votes = [f"{_argmin([f'R{r}_D{j}' for j in range(k)])} as V{r}" for r in range(len(runs))]
    agree = " + ".join(f"iff(V{r} = IDX, 1, 0)" for r in range(len(runs))) or "0"
    seg_case = "case IDX " + " ".join(f"when {j} then {int(ids[j])}" for j in range(k)) + " end"
    name_case = "case IDX " + " ".join(f"when {j} then {wh.quote_literal(names[ids[j]])}" for j in range(k)) + " end"
    return wh.render(
        "segments/select_warehouse_assignments.sql", source_sql=source_sql.strip(),
        features=",\n".join(_INDENT + t for t in transformed), distances=",\n".join(_INDENT + d for d in dists),
        idx=_argmin([f"D{j}" for j in range(k)]), distance=_argmin([f"D{j}" for j in range(k)], value=True),
        votes="".join(f",\n{_INDENT}" + v for v in votes), segment_id=seg_case, segment_name=name_case,
        confidence=f"({agree}) / {float(max(len(runs), 1))!r}" if len(runs) else "cast(null as float)",
    )
