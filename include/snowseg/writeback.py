"""Publish a model run to Snowflake: assignments (with history), profiles and the run, atomically.

The assignments go up as one gzip CSV (PUT to an internal stage, COPY into a staging table), then
one transaction closes the open assignments, inserts the new ones from staging (each with the segment its
entity had, PREVIOUS_SEGMENT_ID), counts the migration matrix, and writes the profiles and the model run
(with the matrix, the moved share and the refit decision), so readers of ``CURRENT_SEGMENTS`` see the
previous model or the new one, never a mix. A run is identified by a fingerprint of what determines its result
(contract, feature set, parameters, data snapshot): publishing the same fingerprint again -- a
retried task, a re-run of the same Airflow run, a second ``make demo`` on unchanged data -- writes
nothing and returns the run that is already there.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from snowseg import warehouse as wh
from snowseg.clustering.drift import migration_from_counts
from snowseg.clustering.profiles import SegmentProfile
from snowseg.objects import WRITEBACK_FORMAT, WRITEBACK_STAGE
from snowseg.warehouse import Names, quote_literal

log = logging.getLogger(__name__)

@dataclass
class ModelRun:
    """What MODEL_RUNS records about one run."""

    fingerprint: str
    contract: str
    feature_set_version: str
    features: list[str]
    k: int
    k_reason: str
    n_init: int
    random_state: int
    scores_by_k: list[dict]
    snapshot: dict
    started_at: datetime
    timings: dict[str, float] = field(default_factory=dict)
    dag_id: str | None = None
    run_id: str | None = None
    feature_level: str = "invoice"
    n_runs: int | None = None
    subsample: float | None = None
    scaling: str | None = None
    structured: bool | None = None
    k_choice: dict | None = None
    dropped_features: list = field(default_factory=list)
    transform: dict | None = None
    centers: list | None = None  # per segment id, the centre in the transformed space (SQL re-assignment)
    segment_matches: list = field(default_factory=list)
    fit_rows: int | None = None
    assigned_in: str = "python"
    follows: str | None = None  # the run that was current when this one was planned (see run_id_for)
    # the refit policy (snowseg.clustering.drift): "refit" or "assign", why, the run whose model this one uses
    # (None: itself), the model's key, drift from the last refit, per segment its shift since the previous run
    run_kind: str = "refit"
    refit_reason: str | None = None
    refit_run_id: str | None = None
    refit_key: str | None = None
    drift: float | None = None
    drift_by_segment: dict | None = None
    centroid_shift: list = field(default_factory=list)
    migration: dict | None = None  # set by publish(), inside its transaction

    @property
    def model_run_id(self) -> str:
        """See :func:`run_id_for`."""
        return run_id_for(self.fingerprint, self.follows)


def run_id_for(fingerprint: str, follows: str | None) -> str:
    """A model run's id: ``mr_`` + 16 hex digits of its fingerprint, or of the fingerprint and the run it
    follows when another run is current (k=3, then k=2, then k=3 again is a third run, not the first).

    Examples
    --------
    >>> run_id_for("ab" * 32, None)
    'mr_abababababababab'
    >>> run_id_for("ab" * 32, "mr_0") != run_id_for("ab" * 32, None)
    True
    """
    if follows is None:
        return f"mr_{fingerprint[:16]}"
    return "mr_" + hashlib.sha256(f"{fingerprint}|{follows}".encode()).hexdigest()[:16]


def current_run(cur: Any, names: Names, dataset: str) -> tuple[str, str] | None:
    """(MODEL_RUN_ID, FINGERPRINT) of the run the dataset's current assignments come from, or None."""
    rows = wh.run(cur, "segments/select_current_run.sql", {"dataset": dataset}, database=names.database,
                  schema=names.analytics)
    return (rows[0][0], rows[0][1]) if rows else None


def plan_run(cur: Any, names: Names, dataset: str, fingerprint: str) -> tuple[str | None, bool]:
    """What a run of the dataset with this fingerprint would be: (the run it follows, already current?).

    Re-running the same data and params while their run is current publishes nothing; the same
    fingerprint after another run was published is published again, as a new run.
    """
    current = current_run(cur, names, dataset)
    if current is None:
        return None, False
    if current[1] == fingerprint:
        # its own id, whichever run it followed
        rows = wh.run(cur, "segments/select_model_run_follows.sql", {"model_run_id": current[0]},
                      database=names.database, schema=names.analytics)
        return (rows[0][0] if rows else None), True
    return current[0], False


@dataclass
class Assignments:
    """Assignments computed in Python: one value per entity."""

    entity_ids: Any
    labels: Any
    confidence: Any
    distance: Any


@dataclass
class WarehouseAssignments:
    """Assignments computed in the warehouse (the scale path): a query selecting ENTITY_ID, SEGMENT_ID,
    SEGMENT_NAME, CONFIDENCE, DISTANCE, with its bound parameters."""

    sql: str
    params: dict = field(default_factory=dict)


def fingerprint(**parts: Any) -> str:
    """A stable hash of the inputs that determine a model run's result.

    Examples
    --------
    >>> fingerprint(k=3, data="abc") == fingerprint(data="abc", k=3)
    True
    """
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class LastRefit:
    """The refit whose model the dataset's current run uses (see ``segments/select_last_refit.sql``)."""

    model_run_id: str
    published_at: datetime
    refit_key: str | None
    transform: dict
    centers: list  # per segment id: {"segment_id", "center" (transformed space), "runs"}
    k: int
    k_reason: str
    k_choice: dict
    segments: dict[int, dict]  # per segment id: {"name", "center" (original units), "stability"}


def last_refit(cur: Any, names: Names, dataset: str) -> LastRefit | None:
    """The dataset's last refit (None before its first run)."""
    target = dict(database=names.database, schema=names.analytics)
    rows = wh.run(cur, "segments/select_last_refit.sql", {"dataset": dataset}, **target)
    if not rows:
        return None
    run_id, published_at, key, transform, centers, k, k_reason, k_choice = rows[0]
    if not json.loads(transform or "null") or not json.loads(centers or "null"):  # no model to assign with
        return None
    segs = wh.run(cur, "segments/select_run_centers.sql", {"model_run_id": run_id}, **target)
    return LastRefit(
        model_run_id=run_id, published_at=published_at, refit_key=key, transform=json.loads(transform),
        centers=json.loads(centers), k=int(k), k_reason=k_reason or "", k_choice=json.loads(k_choice or "{}"),
        segments={int(sid): {"name": name, "center": json.loads(center or "{}"), "stability": stability}
                  for sid, name, center, stability in segs})


def previous_centers(cur: Any, names: Names, dataset: str) -> dict[int, dict[str, float]]:
    """The dataset's latest published run's segment centres in original units (empty before its first run)."""
    rows = wh.run(cur, "segments/select_previous_centers.sql", {"dataset": dataset}, database=names.database,
                  schema=names.analytics)
    return {int(sid): json.loads(center) for sid, center in rows if center}


def publish(
    conn: Any,
    names: Names,
    run: ModelRun,
    assignments: Assignments | WarehouseAssignments,
    profiles: list[SegmentProfile],
) -> tuple[str, bool]:
    """Write assignments, profiles and the model run in one transaction.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
    names : Names
    run : ModelRun
    assignments : Assignments (computed in Python: uploaded as a gzip CSV, COPY into staging) or
        WarehouseAssignments (a query: INSERT ... SELECT into staging, rows never leave the warehouse)
    profiles : list of SegmentProfile

    Returns
    -------
    (model_run_id, published) : tuple of str and bool
        ``published`` is False when the current run already has this fingerprint (nothing written).
    """
    target = dict(database=names.database, schema=names.analytics)
    key = {"model_run_id": run.model_run_id}
    with conn.cursor() as cur:
        current = current_run(cur, names, run.contract)
        if current is not None and current[1] == run.fingerprint:
            log.info("model run %s is current (same data and parameters); nothing to write", current[0])
            return current[0], False
        run.follows = current[0] if current else None
        if isinstance(assignments, WarehouseAssignments):
            n_rows = _stage_query(cur, names, run, assignments)
            _sizes_from_stage(cur, names, run, profiles)
        else:
            n_rows = _stage_assignments(cur, names, run, assignments.entity_ids, assignments.labels,
                                        assignments.confidence, assignments.distance, profiles)
        with wh.transaction(cur) as tx:
            now_current = current_run(cur, names, run.contract)
            if now_current is not None and now_current[1] == run.fingerprint:  # a concurrent run won the race
                tx.rollback()
                return now_current[0], False
            now = datetime.now(UTC).replace(tzinfo=None)
            dataset = {"dataset": run.contract, "valid_from": now}
            wh.run(cur, "segments/close_open_assignments.sql", dataset, **target)
            wh.run(cur, "segments/insert_segment_assignments_from_stage.sql", {**key, **dataset}, **target)
            run.migration = migration = migration_from_counts(
                wh.run(cur, "segments/select_migration_counts.sql", {**key, **dataset}, **target))
            cur.executemany(
                wh.render("segments/insert_segment_profile.sql", **target),
                [
                    {
                        "model_run_id": run.model_run_id, "segment_id": p.segment_id, "segment_name": p.name,
                        "size": p.size, "share": p.share, "mean_amount": p.mean_amount,
                        "centroid": json.dumps(p.centroid), "top_categories": json.dumps(p.categories),
                        "stability": p.stability, "stability_band": p.stability_band,
                        "mean_confidence": p.mean_confidence, "over_index": json.dumps(p.over_index),
                        "center": json.dumps(p.center),
                        "rules": json.dumps(p.rules, ensure_ascii=False), "rule_accuracy": p.rule_accuracy,
                        "rule_recall": p.rule_recall, "rules_fidelity": p.rules_fidelity,
                    }
                    for p in profiles
                ],
            )
            wh.run(
                cur, "segments/insert_model_run.sql",
                {
                    "model_run_id": run.model_run_id, "fingerprint": run.fingerprint, "contract": run.contract,
                    "feature_set_version": run.feature_set_version, "features": json.dumps(run.features),
                    "k": run.k, "k_reason": run.k_reason, "n_init": run.n_init, "random_state": run.random_state,
                    "scores_by_k": json.dumps(run.scores_by_k), "row_count": run.snapshot["row_count"],
                    "max_loaded_at": run.snapshot["max_loaded_at"], "batches": run.snapshot["batches"],
                    "timings": json.dumps(run.timings), "dag_id": run.dag_id, "run_id": run.run_id,
                    "started_at": run.started_at, "published_at": now, "feature_level": run.feature_level,
                    "n_runs": run.n_runs, "subsample": run.subsample, "scaling": run.scaling,
                    "structured": run.structured, "k_choice": json.dumps(run.k_choice),
                    "dropped_features": json.dumps(run.dropped_features), "transform": json.dumps(run.transform),
                    "centers": json.dumps(run.centers), "segment_matches": json.dumps(run.segment_matches),
                    "fit_rows": run.fit_rows, "assigned_in": run.assigned_in, "follows": run.follows,
                    "run_kind": run.run_kind, "refit_reason": run.refit_reason, "refit_run_id": run.refit_run_id,
                    "refit_key": run.refit_key, "drift": run.drift,
                    "drift_by_segment": json.dumps(run.drift_by_segment),
                    "migration": json.dumps(run.migration), "moved_share": migration["moved_share"],
                    "centroid_shift": json.dumps(run.centroid_shift),
                },
                **target,
            )
        wh.run(cur, "segments/delete_staged_assignments.sql", key, **target)
        wh.run(cur, "loading/remove_staged_files.sql", stage_path=_writeback_path(names, run))
    log.info("published model run %s: %d assignments, %d segments", run.model_run_id, n_rows, len(profiles))
    return run.model_run_id, True


def _writeback_path(names: Names, run: ModelRun) -> str:
    return wh.stage_path(names.database, names.analytics, WRITEBACK_STAGE, run.model_run_id)


def _stage_query(cur: Any, names: Names, run: ModelRun, assignments: WarehouseAssignments) -> int:
    """Stage the assignments that a query computes in the warehouse (outside the publishing transaction)."""
    target = dict(database=names.database, schema=names.analytics)
    wh.run(cur, "segments/delete_staged_assignments.sql", {"model_run_id": run.model_run_id}, **target)
    sql = wh.render("segments/insert_assignments_stage_from_query.sql", assignment=assignments.sql, **target)
    cur.execute(sql, {**assignments.params, "model_run_id": run.model_run_id})
    return int(cur.rowcount or 0)


def _sizes_from_stage(cur: Any, names: Names, run: ModelRun, profiles: list[SegmentProfile]) -> None:
    """On the scale path the profiles were computed on the fit sample: their size, share and mean
    confidence are set from every assigned row (the means stay the sample's estimates)."""
    rows = wh.run(cur, "segments/select_staged_segment_sizes.sql", {"model_run_id": run.model_run_id},
                  database=names.database, schema=names.analytics)
    sizes = {int(sid): (int(n), conf) for sid, n, conf in rows}
    total = sum(n for n, _ in sizes.values()) or 1
    for p in profiles:
        n, conf = sizes.get(p.segment_id, (0, None))
        p.size, p.share = n, n / total
        p.mean_confidence = None if conf is None else round(float(conf), 4)


def _stage_assignments(cur, names, run, entity_ids, labels, confidence, distance, profiles) -> int:
    """Write the assignments as one gzip CSV, PUT it and COPY it into the staging table (outside the
    publishing transaction, so the transaction itself is a few set-based statements).

    Python's csv module encloses a value in '"' only when it must and never escapes: the file format
    SNOWSEG_WRITEBACK_CSV says so (migration database/V011: no escape character, only '' is NULL), so an
    entity id with a backslash, or reading \\N, arrives as written."""

    by_id = {p.segment_id: p.name for p in profiles}
    target = dict(database=names.database, schema=names.analytics)
    stage = _writeback_path(names, run)
    with tempfile.TemporaryDirectory(prefix="snowseg-writeback-") as tmp:
        path = Path(tmp) / f"assignments_{run.model_run_id}.csv.gz"
        n = 0
        with gzip.open(path, "wt", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["ENTITY_ID", "SEGMENT_ID", "SEGMENT_NAME", "CONFIDENCE", "DISTANCE"])
            for e, s, c, d in zip(entity_ids, labels, confidence, distance, strict=True):
                w.writerow([str(e), int(s), by_id[int(s)], _csv_num(c), _csv_num(d)])
                n += 1
        wh.run(cur, "segments/delete_staged_assignments.sql", {"model_run_id": run.model_run_id}, **target)
        wh.run(cur, "loading/put_file.sql", file_url=wh.put_file_url(path), stage_path=stage, parallel="4")
    result = wh.run(
        cur, "segments/copy_into_assignments_stage.sql", model_run_id=quote_literal(run.model_run_id),
        stage_path=stage, file_format=quote_literal(names.analytics_qualified(WRITEBACK_FORMAT)),
        **target,
    )
    loaded = sum(int(r[3]) for r in result if len(r) > 3)
    if loaded != n:
        raise RuntimeError(f"writeback staging loaded {loaded} of {n} assignments for {run.model_run_id}: {result!r}")
    return n


def _csv_num(x: Any) -> str:
    """A float as CSV text; NaN as an empty field (NULL)."""
    v = _num(x)
    return "" if v is None else repr(v)


def _num(x: Any) -> float | None:
    """A plain float for the connector (None for NaN)."""
    x = float(x)
    return None if np.isnan(x) else x
