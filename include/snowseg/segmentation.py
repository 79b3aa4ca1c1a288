"""The segmentation job: features from the warehouse -> elbow -> k-means -> profiles -> report -> publish.

Callers (the ``segment_customers`` DAG, the benchmark, tests) pass a connection; nothing here
knows about Airflow.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from snowseg import features as feats
from snowseg import report, writeback
from snowseg.clustering import selection
from snowseg.clustering.profiles import SegmentProfile, profile_segments
from snowseg.config import DatasetContract
from snowseg.warehouse import Names

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentationParams:
    """Parameters of one run (the DAG's params)."""

    k: int = 3
    k_min: int = 1
    k_max: int = 10
    n_init: int = 10
    random_state: int = 42
    encoding: str | None = None  # None: the contract's

    def __post_init__(self) -> None:
        if not 1 <= self.k_min <= self.k_max:
            raise ValueError(f"k range {self.k_min}..{self.k_max} is empty; need 1 <= k_min <= k_max")
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")


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

    def to_dict(self) -> dict:
        """A small JSON-safe summary (for XCom and logs)."""
        return {
            "model_run_id": self.model_run_id, "published": self.published, "k": self.k, "rows": self.rows,
            "report_path": self.report_path, "elbow_png": self.elbow_png, "timings": self.timings,
            "segments": [{"id": p.segment_id, "name": p.name, "size": p.size} for p in self.profiles],
        }


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
    """Run the whole segmentation on what the raw table holds now and publish it.

    Returns
    -------
    SegmentationResult
        ``published`` is False when the same data and parameters were already published.
    """
    timings: dict[str, float] = {}
    started = datetime.now(UTC).replace(tzinfo=None)

    t = time.perf_counter()
    with conn.cursor() as cur:
        snapshot = feats.data_snapshot(cur, contract, database=names.database, schema=names.raw)
        X = feats.read_features(cur, contract, database=names.database, schema=names.raw, encoding=params.encoding)
    timings["features_s"] = round(time.perf_counter() - t, 3)
    log.info("features: %d rows x %d columns %s", *X.shape, list(X.columns))

    t = time.perf_counter()
    groups = feats.onehot_groups(X.columns)
    curve = selection.elbow_curve(
        X.to_numpy(), k_values=range(params.k_min, params.k_max + 1), n_init=params.n_init,
        random_state=params.random_state, groups=groups,
    )
    _model, labels, distance, confidence = selection.fit_segments(
        X.to_numpy(), params.k, n_init=params.n_init, random_state=params.random_state, groups=groups
    )
    timings["fit_s"] = round(time.perf_counter() - t, 3)

    profiles = profile_segments(X, labels, contract)
    fp = writeback.fingerprint(
        contract=[contract.name, contract.version], feature_set=feats.FEATURE_SET_VERSION, columns=list(X.columns),
        k=params.k, k_range=[params.k_min, params.k_max], n_init=params.n_init, random_state=params.random_state,
        encoding=params.encoding or contract.features.encoding, data=snapshot["digest"],
    )
    run = writeback.ModelRun(
        fingerprint=fp, contract=contract.name, feature_set_version=feats.FEATURE_SET_VERSION,
        features=list(X.columns), k=params.k, k_reason="fixed by params (the seed's k = 3 by default)",
        n_init=params.n_init, random_state=params.random_state,
        scores_by_k=[{"k": p.k, "inertia": round(p.inertia, 4), "silhouette": p.silhouette} for p in curve],
        snapshot=snapshot, started_at=started, timings=timings, dag_id=dag_id, run_id=run_id,
    )

    run_dir = (report_dir or report.report_root()) / run.model_run_id
    elbow = report.elbow_plot(curve, params.k, run_dir / "elbow.png")
    amount = contract.column_for_role("amount")
    index = report.write_report(
        run_dir, model_run_id=run.model_run_id, k=params.k, k_reason=run.k_reason, snapshot=snapshot,
        profiles=profiles, images={"Elbow curve (inertia by k)": elbow.name},
        amount_label=amount.name if amount else "amount", links=links,
    )

    t = time.perf_counter()
    model_run_id, published = writeback.publish(
        conn, names, run, X.index.to_numpy(), labels, confidence, distance, profiles
    )
    timings["writeback_s"] = round(time.perf_counter() - t, 3)
    log.info("report: %s", index)
    return SegmentationResult(
        model_run_id=model_run_id, published=published, k=params.k, rows=len(X), profiles=profiles,
        report_path=str(index), elbow_png=str(elbow), timings=timings,
    )
