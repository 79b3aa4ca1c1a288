"""The segmentation job: features -> transform -> choose k -> stability ensemble -> profiles -> report -> publish.

Each stage is a function of :mod:`snowseg.segmentation.stages` and one task of the
``segment_customers`` DAG; they hand over through the run's working folder
(:mod:`snowseg.segmentation.workspace`). :func:`run_segmentation` runs them one after the other.

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
5. Segment ids are carried over from the dataset's previous published run where a new segment matches an old
   one (:mod:`snowseg.clustering.identity`); profiles and business names
   (:mod:`snowseg.clustering.profiles`).
Between refits (the contract's ``refit`` policy, :mod:`snowseg.clustering.drift`) steps 3 and 4 are skipped: the
rows are assigned to the last refit's centroids, in the warehouse at publish. Publishing records each customer's
previous segment, the migration matrix, the moved share, the drift and the refit decision with its reason.

6. **Publish** atomically (:mod:`snowseg.writeback`): assignments computed in Python, or, on the scale
   path, by one query in the warehouse (:mod:`snowseg.clustering.sql_assign`).

Callers (the ``segment_customers`` DAG, the benchmark, tests) pass a connection; nothing here knows
about Airflow.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from snowseg.clustering.choose_k import NoStableK, NoStructure
from snowseg.config import DatasetContract
from snowseg.segmentation import stages
from snowseg.segmentation.params import SegmentationParams, SegmentationResult
from snowseg.segmentation.workspace import Workspace
from snowseg.warehouse import Names

__all__ = ["NoStableK", "NoStructure", "SegmentationParams", "SegmentationResult", "run_segmentation", "stages"]


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
    force_refit: bool = False,
    max_drift: float | None = None,
) -> SegmentationResult:
    """Run every stage on the dataset's published rows and publish the result (in a private working folder).

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
    with tempfile.TemporaryDirectory(prefix="snowseg-run-") as tmp:
        ws = Workspace(Path(tmp))
        stages.features(conn, contract, names, params, ws, report_dir=report_dir)
        if stages.refit_decision(conn, contract, names, ws, force=force_refit, max_drift=max_drift)["kind"] == "refit":
            stages.k_scores(contract, ws)
            stages.ensemble(ws)
        else:  # the contract's refit policy: assign to the last refit's centroids
            stages.assign(ws)
        stages.profiles(conn, contract, names, ws)
        stages.report(contract, ws, links=links)
        return stages.publish(conn, contract, names, ws, dag_id=dag_id, run_id=run_id)
