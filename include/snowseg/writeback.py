"""Publish a model run to Snowflake: assignments (with history), profiles and the run, atomically.

Everything is written in one transaction, so readers of ``CURRENT_SEGMENTS`` see the previous model
or the new one, never a mix. A run is identified by a fingerprint of what determines its result
(contract, feature set, parameters, data snapshot): publishing the same fingerprint again -- a
retried task, a re-run of the same Airflow run, a second ``make demo`` on unchanged data -- writes
nothing and returns the run that is already there.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from snowseg import warehouse as wh
from snowseg.clustering.profiles import SegmentProfile
from snowseg.warehouse import Names

log = logging.getLogger(__name__)

_ANALYTICS_DDL = (
    "segments/create_table_segment_assignments.sql",
    "segments/create_view_current_segments.sql",
    "segments/create_table_segment_profiles.sql",
    "segments/create_table_model_runs.sql",
)
INSERT_CHUNK = 5_000


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
    by_id = {p.segment_id: p.name for p in profiles}
    with conn.cursor() as cur:
        ensure_analytics_objects(cur, names)
        cur.execute("begin")
        try:
            existing = find_published(cur, names, run.fingerprint)
            if existing:
                cur.execute("rollback")
                log.info("model run %s is already published (same data and parameters); nothing to write", existing)
                return existing, False
            now = datetime.now(UTC).replace(tzinfo=None)
            target = dict(database=names.database, schema=names.analytics)
            wh.run(cur, "segments/close_open_assignments.sql", {"valid_from": now}, **target)
            rows = [
                {
                    "entity_id": str(e), "segment_id": int(s), "segment_name": by_id[int(s)],
                    "confidence": _num(c), "distance": _num(d), "model_run_id": run.model_run_id, "valid_from": now,
                }
                for e, s, c, d in zip(entity_ids, labels, confidence, distance)
            ]
            insert = wh.render("segments/insert_segment_assignment.sql", **target)
            for i in range(0, len(rows), INSERT_CHUNK):
                cur.executemany(insert, rows[i : i + INSERT_CHUNK])
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
    log.info("published model run %s: %d assignments, %d segments", run.model_run_id, len(rows), len(profiles))
    return run.model_run_id, True


def _num(x: Any) -> float | None:
    """A plain float for the connector (None for NaN)."""
    x = float(x)
    return None if np.isnan(x) else x
