"""Publish a model run to Snowflake: assignments (with history), profiles and the run, atomically.

The assignments go up as one gzip CSV (PUT to an internal stage, COPY into a staging table), then
one transaction closes the open assignments, inserts the new ones from staging, and writes the
profiles and the model run, so readers of ``CURRENT_SEGMENTS`` see the previous model or the new one,
never a mix. A run is identified by a fingerprint of what determines its result
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
from snowseg.clustering.profiles import SegmentProfile
from snowseg.warehouse import Names, quote_literal

log = logging.getLogger(__name__)

_ANALYTICS_DDL = (
    "segments/create_table_segment_assignments.sql",
    "segments/create_view_current_segments.sql",
    "segments/create_table_segment_profiles.sql",
    "segments/create_table_model_runs.sql",
    "segments/create_table_assignments_stage.sql",
    "segments/create_stage_writeback.sql",
    "segments/create_file_format_writeback.sql",
)


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

    @property
    def model_run_id(self) -> str:
        """``mr_`` + the first 16 hex digits of the fingerprint."""
        return f"mr_{self.fingerprint[:16]}"


def fingerprint(**parts: Any) -> str:
    """A stable hash of the inputs that determine a model run's result.

    Examples
    --------
    >>> fingerprint(k=3, data="abc") == fingerprint(data="abc", k=3)
    True
    """
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def ensure_analytics_objects(cur: Any, names: Names) -> None:
    """ANALYTICS schema, SEGMENT_ASSIGNMENTS, CURRENT_SEGMENTS view, SEGMENT_PROFILES and MODEL_RUNS."""
    wh.run(cur, "setup/create_database.sql", database=names.database)
    wh.run(cur, "setup/create_schema.sql", database=names.database, schema=names.analytics)
    for name in _ANALYTICS_DDL:
        wh.run(cur, name, database=names.database, schema=names.analytics)


def find_published(cur: Any, names: Names, fp: str) -> str | None:
    """The MODEL_RUN_ID already published with this fingerprint, if any."""
    rows = wh.run(cur, "segments/select_model_run.sql", {"fingerprint": fp}, database=names.database, schema=names.analytics)
    return rows[0][0] if rows else None


def publish(
    conn: Any,
    names: Names,
    run: ModelRun,
    entity_ids,
    labels,
    confidence,
    distance,
    profiles: list[SegmentProfile],
) -> tuple[str, bool]:
    """Write assignments, profiles and the model run in one transaction.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
    names : Names
    run : ModelRun
    entity_ids, labels, confidence, distance : array-like, one value per entity
    profiles : list of SegmentProfile

    Returns
    -------
    (model_run_id, published) : tuple of str and bool
        ``published`` is False when the same fingerprint was already published (nothing written).
    """
    target = dict(database=names.database, schema=names.analytics)
    key = {"model_run_id": run.model_run_id}
    with conn.cursor() as cur:
        ensure_analytics_objects(cur, names)
        existing = find_published(cur, names, run.fingerprint)
        if existing:
            log.info("model run %s is already published (same data and parameters); nothing to write", existing)
            return existing, False
        n_rows = _stage_assignments(cur, names, run, entity_ids, labels, confidence, distance, profiles)
        cur.execute("begin")
        try:
            if find_published(cur, names, run.fingerprint):  # a concurrent run won the race
                cur.execute("rollback")
                return run.model_run_id, False
            now = datetime.now(UTC).replace(tzinfo=None)
            wh.run(cur, "segments/close_open_assignments.sql", {"valid_from": now}, **target)
            wh.run(cur, "segments/insert_segment_assignments_from_stage.sql", {**key, "valid_from": now}, **target)
            cur.executemany(
                wh.render("segments/insert_segment_profile.sql", **target),
                [
                    {
                        "model_run_id": run.model_run_id, "segment_id": p.segment_id, "segment_name": p.name,
                        "size": p.size, "share": p.share, "mean_amount": p.mean_amount,
                        "centroid": json.dumps(p.centroid), "top_categories": json.dumps(p.categories),
                        "stability": None,  # filled by the stability ensemble
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
                    "started_at": run.started_at, "published_at": now,
                },
                **target,
            )
            cur.execute("commit")
        except Exception:
            cur.execute("rollback")
            raise
        wh.run(cur, "segments/delete_staged_assignments.sql", key, **target)
        wh.run(cur, "loading/remove_staged_files.sql", stage_path=_writeback_path(names, run))
    log.info("published model run %s: %d assignments, %d segments", run.model_run_id, n_rows, len(profiles))
    return run.model_run_id, True


def _writeback_path(names: Names, run: ModelRun) -> str:
    return wh.stage_path(names.database, names.analytics, "SNOWSEG_WRITEBACK", run.model_run_id)


def _stage_assignments(cur, names, run, entity_ids, labels, confidence, distance, profiles) -> int:
    """Write the assignments as one gzip CSV, PUT it and COPY it into the staging table (outside the
    publishing transaction, so the transaction itself is a few set-based statements)."""
    by_id = {p.segment_id: p.name for p in profiles}
    target = dict(database=names.database, schema=names.analytics)
    stage = _writeback_path(names, run)
    with tempfile.TemporaryDirectory(prefix="snowseg-writeback-") as tmp:
        path = Path(tmp) / f"assignments_{run.model_run_id}.csv.gz"
        n = 0
        with gzip.open(path, "wt", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["ENTITY_ID", "SEGMENT_ID", "SEGMENT_NAME", "CONFIDENCE", "DISTANCE"])
            for e, s, c, d in zip(entity_ids, labels, confidence, distance):
                w.writerow([str(e), int(s), by_id[int(s)], _csv_num(c), _csv_num(d)])
                n += 1
        wh.run(cur, "segments/delete_staged_assignments.sql", {"model_run_id": run.model_run_id}, **target)
        wh.run(cur, "loading/put_file.sql", file_url=quote_literal(path.as_uri()), stage_path=stage, parallel="4")
    result = wh.run(
        cur, "segments/copy_into_assignments_stage.sql", model_run_id=quote_literal(run.model_run_id),
        stage_path=stage, file_format=quote_literal(f"{names.database}.{names.analytics}.SNOWSEG_WRITEBACK_CSV"),
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
