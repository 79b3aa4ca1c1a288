"""The segmentation job: features -> transform -> choose k -> stability ensemble -> profiles -> report -> publish.

1. **Features** in the warehouse (:mod:`snowseg.features`, invoice or customer level), from the
   published rows only. Above ``max_fit_rows`` feature rows the model is fitted on a deterministic
   hash sample of the entities and every row is assigned in the warehouse afterwards (step 6).
2. Redundant features are dropped (``|r| >= correlation_max``, :func:`snowseg.features.drop_correlated`),
   then :class:`~snowseg.clustering.transform.FeatureTransformer` logs skewed money columns and scales
   (standard or robust; each one-hot block weighted to half a numeric column's variance).
3. **k**: :func:`~snowseg.clustering.choose_k.choose_k` scores k_min..k_max (inertia and its knee,
   silhouette, stability of subsample fits) on at most ``k_sample_rows`` rows. ``k = 0`` takes its
   choice; a fixed ``k`` (the seed's 3 by default) is used as given, and the scores still explain it.
   With ``k = 0`` and no k to choose (:func:`~snowseg.clustering.choose_k.decide_k`) the run fails after
   writing its report, publishing nothing: :class:`NoStructure` (segments would be invented) or
   :class:`NoStableK` (no k's segments are stable under resampling). With a fixed k it publishes, with a
   warning when the data show no cluster structure.
4. :class:`~snowseg.clustering.ensemble.StableKMeans`: the least-inertia partition of its reference fit and
   ``n_runs`` subsample fits (the same whatever ``random_state`` where the data have one best answer), with a
   confidence per row and a stability per segment from the subsample fits.
5. Segment ids are carried over from the previous published run where a new segment matches an old
   one (:mod:`snowseg.clustering.identity`); profiles and business names
   (:mod:`snowseg.clustering.profiles`).
6. **Publish** atomically (:mod:`snowseg.writeback`): assignments computed in Python, or, on the scale
   path, by one query in the warehouse (:mod:`snowseg.clustering.sql_assign`).

Callers (the ``segment_customers`` DAG, the benchmark, tests) pass a connection; nothing here knows
about Airflow.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from snowseg import features as feats
from snowseg import report, writeback
from snowseg import warehouse as wh
from snowseg.clustering.choose_k import NoStableK, NoStructure  # noqa: F401  (raised by run_segmentation)
from snowseg.clustering.profiles import SegmentProfile, profile_segments
from snowseg.config import DatasetContract
from snowseg.warehouse import Names

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentationParams:
    """Parameters of one run (the DAG's params)."""

    k: int = 3  # 0: choose k by the rule of snowseg.clustering.choose_k
    k_min: int = 2
    k_max: int = 10
    n_init: int = 10
    random_state: int = 42
    encoding: str | None = None  # None: the contract's
    n_runs: int = 20
    subsample: float = 0.8
    scaling: str = "standard"
    max_fit_rows: int = 200_000
    k_sample_rows: int = 20_000
    correlation_max: float = 0.95

    def __post_init__(self) -> None:
        if not 1 <= self.k_min <= self.k_max:
            raise ValueError(f"k range {self.k_min}..{self.k_max} is empty; need 1 <= k_min <= k_max")
        if self.k < 0:
            raise ValueError(f"k must be >= 1, or 0 to choose it; got {self.k}")
        if self.n_runs < 1:
            raise ValueError(f"n_runs must be >= 1, got {self.n_runs}")
        if not 0 < self.subsample <= 1:
            raise ValueError(f"subsample must be in (0, 1], got {self.subsample}")
        if self.scaling not in ("standard", "robust"):
            raise ValueError(f"scaling {self.scaling!r}: use 'standard' or 'robust'")
        if self.max_fit_rows < 100 or self.k_sample_rows < 100:
            raise ValueError("max_fit_rows and k_sample_rows must be at least 100")


@dataclass
class SegmentationResult:
    """What a run produced and where it went."""

    model_run_id: str
    published: bool
    k: int
    rows: int
    profiles: list[SegmentProfile]
    report_path: str
    elbow_png: str
    timings: dict[str, float]
    k_reason: str = ""
    structured: bool = True
    assigned_in: str = "python"
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A small JSON-safe summary (for XCom and logs)."""
        return {
            "model_run_id": self.model_run_id, "published": self.published, "k": self.k, "rows": self.rows,
            "report_path": self.report_path, "elbow_png": self.elbow_png, "timings": self.timings,
            "k_reason": self.k_reason, "structured": self.structured, "assigned_in": self.assigned_in,
            "warnings": self.warnings,
            "segments": [{"id": p.segment_id, "name": p.name, "size": p.size, "share": p.share,
                          "stability": p.stability, "band": p.stability_band,
                          "mean_confidence": p.mean_confidence} for p in self.profiles],
        }


def _count_rows(cur: Any, sql: str, params: dict) -> int:
    cur.execute(f"select count(*) from ({sql}) as f", params)
    return int(cur.fetchone()[0])


def _read_sample(cur: Any, sql: str, params: dict, n: int, target: int):
    """About `target` of the `n` feature rows, chosen by a hash of the entity id: deterministic (the same
    entities every run on the same data) and computed in the warehouse."""
    permille = max(1, math.ceil(1_000_000 * target / n))
    sample = (f"select * from ({sql}) as f where mod(abs(hash(f.ENTITY_ID)), 1000000) < {permille}")
    df = wh.fetch_df(cur, sample, params)
    return df.set_index("ENTITY_ID").astype(float)


def run_segmentation(
    conn: Any,
    contract: DatasetContract,
    names: Names,
    params: SegmentationParams,
    *,
    report_dir: Path | None = None,
    dag_id: str | None = None,
    run_id: str | None = None,
    links: dict[str, str] | None = None,
) -> SegmentationResult:
    """Run the whole segmentation on the published rows and publish it.

    Returns
    -------
    SegmentationResult
        ``published`` is False when the same data and parameters were already published.

    Raises
    ------
    NoStructure, NoStableK
        With ``k = 0``, when the data show no cluster structure, or no k is stable (after the report is
        written; ``report_path`` names it).
    ValueError
        When there are no published rows yet.
    """
    from snowseg.clustering.choose_k import KNotChosen, choose_k, decide_k
    from snowseg.clustering.ensemble import ALGORITHM_VERSION as ENSEMBLE_VERSION
    from snowseg.clustering.ensemble import StableKMeans
    from snowseg.clustering.identity import carry_ids
    from snowseg.clustering.transform import FeatureTransformer

    timings: dict[str, float] = {}
    started = datetime.now(UTC).replace(tzinfo=None)
    warnings_: list[str] = []

    t = time.perf_counter()
    with conn.cursor() as cur:
        snapshot = feats.data_snapshot(cur, contract, database=names.database, schema=names.raw)
        sql, sql_params = feats.feature_sql(contract, database=names.database, schema=names.raw,
                                            encoding=params.encoding)
        n_total = _count_rows(cur, sql, sql_params)
        if n_total == 0:
            feats.read_features(cur, contract, database=names.database, schema=names.raw,
                                encoding=params.encoding)  # raises the "load a file first" error
        in_warehouse = n_total > params.max_fit_rows
        if in_warehouse:
            X = _read_sample(cur, sql, sql_params, n_total, params.max_fit_rows)
        else:
            X = feats.read_features(cur, contract, database=names.database, schema=names.raw,
                                    encoding=params.encoding)
        previous = writeback.previous_centers(cur, names)
    timings["features_s"] = round(time.perf_counter() - t, 3)
    log.info("features: %d of %d rows x %d columns %s", len(X), n_total, X.shape[1], list(X.columns))

    t = time.perf_counter()
    X, dropped = feats.drop_correlated(X, params.correlation_max)
    if dropped:
        log.info("dropped redundant features: %s", dropped)
    transformer = FeatureTransformer(scaling=params.scaling, groups=feats.onehot_groups(X.columns)).fit(X)
    Z = transformer.transform(X)
    timings["transform_s"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    rng = np.random.default_rng(params.random_state)
    Zk = Z if len(Z) <= params.k_sample_rows else Z[np.sort(rng.choice(len(Z), params.k_sample_rows, replace=False))]
    k_values = [k for k in range(max(2, params.k_min), params.k_max + 1) if k <= len(Zk)]
    choice = choose_k(Zk, k_values=k_values or [min(2, len(Zk))], n_init=params.n_init,
                      random_state=params.random_state, n_jobs=-1)
    refused: KNotChosen | None = None
    try:
        k, k_reason = decide_k(params.k, choice)
    except KNotChosen as e:  # the report still shows the candidate k's segments; nothing is published
        refused, k, k_reason = e, e.candidate or 2, f"not chosen: {e.reason}"
    if not choice.structured:
        warnings_.append("The data show no clear cluster structure: these segments are a partition of the "
                         f"rows, not groups that stand apart ({choice.reason})")
    if k > len(Z):
        raise ValueError(f"k = {k} is more than the {len(Z)} rows to segment")
    timings["choose_k_s"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    model = StableKMeans(n_clusters=k, n_runs=params.n_runs, subsample=params.subsample, n_init=params.n_init,
                         random_state=params.random_state, n_jobs=-1).fit(Z)
    timings["ensemble_s"] = round(time.perf_counter() - t, 3)

    # segment ids: carried over from the previous run where a cluster matches an old segment
    cluster_centers_orig = np.array([X.to_numpy()[model.labels_ == c].mean(axis=0) if (model.labels_ == c).any()
                                     else transformer.inverse_transform(model.cluster_centers_[c:c + 1])[0]
                                     for c in range(k)])
    spread = dict(zip(X.columns, X.std(ddof=0).replace(0, 1.0).to_numpy().tolist()))
    ids, matches = carry_ids(cluster_centers_orig, list(X.columns), previous, spread=spread)
    id_of = np.array(ids)
    labels = id_of[model.labels_]
    stability = {ids[c]: float(model.cluster_stability_[c]) for c in range(k)}
    profiles = profile_segments(X, labels, contract, stability=stability, confidence=model.confidence_)
    distance = np.linalg.norm(Z - model.cluster_centers_[model.labels_], axis=1)
    for p in profiles:
        if p.stability is not None and p.stability <= 0.5:
            warnings_.append(f"Segment {p.segment_id} ({p.name}) dissolves under resampling "
                             f"(stability {p.stability:.2f}): do not act on it alone")

    fp = writeback.fingerprint(
        contract=[contract.name, contract.version], feature_set=feats.FEATURE_SET_VERSION, columns=list(X.columns),
        k=params.k, k_range=[params.k_min, params.k_max], n_init=params.n_init, random_state=params.random_state,
        encoding=params.encoding or contract.features.encoding, data=snapshot["digest"], n_runs=params.n_runs,
        subsample=params.subsample, scaling=params.scaling, max_fit_rows=params.max_fit_rows,
        k_sample_rows=params.k_sample_rows, correlation_max=params.correlation_max,
        ensemble=ENSEMBLE_VERSION,
    )
    with conn.cursor() as cur:
        follows, _current = writeback.plan_run(cur, names, fp)  # the id (and the report's folder) depend on it
    order = np.argsort(ids)  # centres by segment id, for MODEL_RUNS
    run = writeback.ModelRun(
        fingerprint=fp, contract=contract.name, feature_set_version=feats.FEATURE_SET_VERSION,
        features=list(X.columns), k=k, k_reason=k_reason, n_init=params.n_init, random_state=params.random_state,
        scores_by_k=[{"k": s.k, "inertia": round(s.inertia, 4), "silhouette": s.silhouette, "stability": s.stability}
                     for s in choice.scores],
        snapshot=snapshot, started_at=started, timings=timings, dag_id=dag_id, run_id=run_id,
        feature_level=contract.features.level, n_runs=params.n_runs, subsample=params.subsample,
        scaling=params.scaling, structured=choice.structured, k_choice=choice.to_dict(), dropped_features=dropped,
        transform=transformer.to_dict(),
        centers=[{"segment_id": ids[c], "center": model.cluster_centers_[c].tolist(),
                  "runs": model.run_centers_[:, c, :].tolist()} for c in order],
        segment_matches=matches, fit_rows=len(X), assigned_in="warehouse" if in_warehouse else "python",
        follows=follows,
    )

    t = time.perf_counter()
    run_dir = (report_dir or report.report_root()) / run.model_run_id
    by_id = {p.segment_id: p.name for p in profiles}
    images = {
        "k: inertia (knee and chosen k), silhouette, stability": report.k_scores_plot(
            choice.scores, k, choice.knee, run_dir / "elbow.png", stability_min=0.75, silhouette_min=0.25).name,
        "Segment profiles": report.profile_heatmap(X, labels, by_id, run_dir / "profiles.png").name,
        "Confidence per row": report.confidence_histogram(model.confidence_, labels, by_id,
                                                          run_dir / "confidence.png").name,
        "PCA projection": report.pca_plot(Z, labels, by_id, run_dir / "pca.png",
                                          random_state=params.random_state).name,
    }
    amount = contract.column_for_role("amount")
    details = {
        "feature level": contract.features.level, "features": ", ".join(X.columns),
        "dropped as redundant": ", ".join(f"{d['column']} (r={d['r']} with {d['twin']})" if d["twin"]
                                          else f"{d['column']} (constant)" for d in dropped) or "none",
        "log-transformed": ", ".join(transformer.log_columns_) or "none", "scaling": params.scaling,
        "ensemble": f"{params.n_runs} runs on {params.subsample:.0%} subsamples; ARI of runs with the "
                    f"consensus {model.runs_ari_:.3f}",
        "fitted on": f"{len(X)} of {n_total} rows" + (" (every row assigned in the warehouse; sizes count every "
                                                       "row, means are the sample's)" if in_warehouse else ""),
        "segment ids": ", ".join(f"{m['id']}←{m['previous']}" if m["previous"] is not None
                                 else f"{m['id']} new" for m in matches),
    }

    def write_report():
        return report.write_report(
            run_dir, model_run_id=run.model_run_id, k=k, k_reason=k_reason, snapshot=snapshot, profiles=profiles,
            images=images, amount_label=amount.name if amount else "amount", links=links, scores=choice.scores,
            warnings=warnings_, details=details)

    index = write_report()
    timings["report_s"] = round(time.perf_counter() - t, 3)
    if refused is not None:
        refused.report_path = str(index)
        raise refused

    t = time.perf_counter()
    if in_warehouse:
        from snowseg.clustering.sql_assign import warehouse_assignment_sql

        assignments: Any = writeback.WarehouseAssignments(
            warehouse_assignment_sql(sql, transformer, model, ids, by_id), dict(sql_params))
    else:
        assignments = writeback.Assignments(X.index.to_numpy(), labels, model.confidence_, distance)
    model_run_id, published = writeback.publish(conn, names, run, assignments, profiles)
    timings["writeback_s"] = round(time.perf_counter() - t, 3)
    if in_warehouse and published:
        write_report()  # sizes and confidence now count every row the warehouse assigned
    log.info("report: %s", index)
    return SegmentationResult(
        model_run_id=model_run_id, published=published, k=k, rows=n_total, profiles=profiles,
        report_path=str(index), elbow_png=str(run_dir / "elbow.png"), timings=timings, k_reason=k_reason,
        structured=choice.structured, assigned_in=run.assigned_in, warnings=warnings_,
    )
