"""The stages of a segmentation run, each one Airflow task: features -> k scores -> ensemble -> profiles ->
report -> publish.

Every stage reads its inputs from the run's :class:`~snowseg.segmentation.workspace.Workspace` and writes
its outputs there, and returns a small JSON-safe summary (what the DAG passes on through XCom and
prints). Stages that talk to the warehouse take a connection; none knows about Airflow.

1. :func:`features`: the contract's feature query in the warehouse (published rows only); above
   ``max_fit_rows`` a deterministic hash sample of the entities (every row is assigned in the warehouse
   at publish). Redundant features dropped, the transform fitted. The run's fingerprint and model-run id
   are fixed here (they name the report's folder).
2. :func:`k_scores`: inertia and knee, silhouette, stability for ``k_min..k_max`` on at most
   ``k_sample_rows`` rows; ``k = 0`` takes the rule's choice (:func:`~snowseg.clustering.choose_k.decide_k`)
   and fails, with a report of the scores, when there is none to take (:class:`NoStructure`: no cluster
   structure; :class:`NoStableK`: no stable k); a fixed k is used as given.
3. :func:`ensemble`: :class:`~snowseg.clustering.ensemble.StableKMeans`.
4. :func:`profiles`: segment ids carried over from the dataset's previous run, profiles and names, and
   rules people can read (:mod:`snowseg.clustering.rules`).
5. :func:`report`: the pictures and the HTML run report.
6. :func:`publish`: assignments (Python, or one query in the warehouse on the scale path), profiles
   and the model run, atomically (:mod:`snowseg.writeback`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from snowseg import features as feats
from snowseg import report as reports
from snowseg import warehouse as wh
from snowseg import writeback
from snowseg.clustering.choose_k import KNotChosen, NoStableK, NoStructure
from snowseg.clustering.drift import ASSIGN, REFIT
from snowseg.clustering.profiles import SegmentProfile
from snowseg.config import DatasetContract
from snowseg.errors import ParamsError
from snowseg.segmentation.params import SegmentationParams, SegmentationResult
from snowseg.segmentation.workspace import Workspace
from snowseg.warehouse import Names

log = logging.getLogger(__name__)

__all__ = ["NoStableK", "NoStructure", "assign", "ensemble", "features", "k_scores", "profiles", "publish",
           "refit_decision", "report"]


@contextmanager
def _stopwatch(timings: dict, key: str) -> Iterator[None]:
    """Record the seconds the block took in `timings` under `key` (the one way a stage is timed)."""
    t = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = round(time.perf_counter() - t, 3)


@contextmanager
def _timed(ws: Workspace, key: str) -> Iterator[None]:
    """Time a stage's block and keep it in the run's timings (MODEL_RUNS.TIMINGS), which the stages share through the
    workspace."""
    taken: dict = {}
    with _stopwatch(taken, key):
        yield
    timings = ws.load_json("timings") if (ws.path / "timings.json").is_file() else {}
    ws.save_json("timings", {**timings, **taken})


def _params(meta: dict) -> SegmentationParams:
    return SegmentationParams(**meta["params"])


def _count_rows(cur: Any, sql: str, params: dict) -> int:
    return int(wh.run(cur, "features/count_feature_rows.sql", params, feature_query=sql)[0][0])


def _read_sample(cur: Any, sql: str, params: dict, n: int, target: int) -> pd.DataFrame:
    """About `target` of the `n` feature rows, chosen by a hash of the entity id: deterministic (the same
    entities every run on the same data) and computed in the warehouse."""
    permille = max(1, math.ceil(1_000_000 * target / n))
    # permille is computed here (an int), not a value from outside: it goes into the text, as the query's own binds
    # are all the parameters the statement has
    df = wh.fetch_df(cur, wh.render("features/select_feature_sample.sql", feature_query=sql, permille=str(permille)),
                     params)
    return df.set_index("ENTITY_ID").astype(float)


def _transformed(ws: Workspace) -> tuple[pd.DataFrame, Any, np.ndarray]:
    """The feature frame (original units), its fitted transform and the transformed matrix."""
    from snowseg.clustering.transform import FeatureTransformer

    X = ws.load_frame("features")
    transformer = FeatureTransformer.from_dict(ws.load_json("transform"))
    return X, transformer, transformer.transform(X)


def features(conn: Any, contract: DatasetContract, names: Names, params: SegmentationParams, ws: Workspace, *,
             report_dir: Path | None = None) -> dict:
    """Stage 1: the feature frame, redundant columns dropped, the transform fitted; the run's identity.

    Raises
    ------
    ValueError
        When there are no published rows yet.
    """
    from snowseg.clustering.ensemble import ALGORITHM_VERSION as ENSEMBLE_VERSION
    from snowseg.clustering.transform import FeatureTransformer
    ws.save_json("timings", {})
    started = datetime.now(UTC).replace(tzinfo=None)
    with _timed(ws, "features_s"), conn.cursor() as cur:
        snapshot = feats.data_snapshot(cur, contract, database=names.database, schema=names.raw)
        sql, sql_params = feats.feature_sql(contract, database=names.database, schema=names.raw,
                                            encoding=params.encoding, as_of=params.as_of)
        n_total = _count_rows(cur, sql, sql_params)
        if n_total == 0:
            feats.read_features(cur, contract, database=names.database, schema=names.raw,
                                encoding=params.encoding, as_of=params.as_of)  # raises the "load a file first" error
        in_warehouse = n_total > params.max_fit_rows
        if in_warehouse:
            X = _read_sample(cur, sql, sql_params, n_total, params.max_fit_rows)
        else:
            X = feats.read_features(cur, contract, database=names.database, schema=names.raw,
                                    encoding=params.encoding, as_of=params.as_of)
    log.info("features: %d of %d rows x %d columns %s", len(X), n_total, X.shape[1], list(X.columns))
    with _timed(ws, "transform_s"):
        X, dropped = feats.drop_correlated(X, params.correlation_max)
        if dropped:
            log.info("dropped redundant features: %s", dropped)
        transformer = FeatureTransformer(scaling=params.scaling, groups=feats.onehot_groups(X.columns)).fit(X)
    # what defines the model apart from the data: a refit is due when it differs from the last refit's
    model_parts = dict(
        contract=[contract.name, contract.version], feature_set=feats.FEATURE_SET_VERSION, columns=list(X.columns),
        k=params.k, k_range=[params.k_min, params.k_max], n_init=params.n_init, random_state=params.random_state,
        encoding=params.encoding or contract.features.encoding, n_runs=params.n_runs, subsample=params.subsample,
        scaling=params.scaling, max_fit_rows=params.max_fit_rows, k_sample_rows=params.k_sample_rows,
        correlation_max=params.correlation_max, ensemble=ENSEMBLE_VERSION)
    refit_key = writeback.fingerprint(**model_parts)
    fp = writeback.fingerprint(**model_parts, data=snapshot["digest"],
                               as_of=params.as_of if contract.features.level == "customer" else None)  # only recency
    with conn.cursor() as cur:
        follows, current = writeback.plan_run(cur, names, contract.name, fp)  # the id (and report folder) need it
    model_run_id = writeback.run_id_for(fp, follows)
    with conn.cursor() as cur:
        wh.tag_session(cur, model_run=model_run_id)  # from here on the session's queries name the model run
    ws.save_frame("features", X)
    ws.save_json("transform", transformer.to_dict())
    ws.save_json("meta", {
        "dataset": contract.name, "params": params.to_dict(), "snapshot": snapshot, "rows": n_total,
        "in_warehouse": in_warehouse, "dropped": dropped, "columns": list(X.columns), "fingerprint": fp,
        "follows": follows, "model_run_id": model_run_id, "started_at": started.isoformat(), "refit_key": refit_key,
        "current": current,
        "report_dir": str(((report_dir or reports.report_root()) / model_run_id).resolve()),
    })
    return {"model_run_id": model_run_id, "rows": n_total, "fit_rows": len(X), "features": list(X.columns),
            "dropped": [d["column"] for d in dropped], "assigned_in": "warehouse" if in_warehouse else "python"}


def _refit_plan(ws: Workspace) -> dict | None:
    """The refit decision (``refit.json``), or None when the stages run without one (every stage then refits)."""
    return ws.load_json("refit") if (ws.path / "refit.json").is_file() else None


def _assign_only(ws: Workspace) -> bool:
    plan = _refit_plan(ws)
    return plan is not None and plan["kind"] == ASSIGN


def _nearest(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Each row's nearest centre (first index on a tie, as the warehouse's CASE chain)."""
    return np.argmin(((Z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2), axis=1)


def _refit_model(last: writeback.LastRefit) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The last refit's segment ids, centres (k, f) and run centres (R, k, f), in segment-id order."""
    order = sorted(last.centers, key=lambda c: c["segment_id"])
    ids = [int(c["segment_id"]) for c in order]
    centers = np.array([c["center"] for c in order], dtype=float)
    runs = np.array([c.get("runs") or [] for c in order], dtype=float)  # (k, R, f)
    runs = np.transpose(runs, (1, 0, 2)) if runs.ndim == 3 else np.empty((0, *centers.shape))
    return ids, centers, runs


def refit_decision(conn: Any, contract: DatasetContract, names: Names, ws: Workspace, *, force: bool = False,
                   max_drift: float | None = None, now: datetime | None = None) -> dict:
    """Stage 1b: refit (k scores + ensemble) or assign to the last refit's centroids, by the contract's refit policy.

    Drift is measured first (:func:`snowseg.clustering.drift.drift`: this run's rows assigned to the last refit's
    centroids, each segment's mean compared with its mean at that refit); :func:`~snowseg.clustering.drift.decide_refit`
    decides. Writes ``refit.json`` (the decision, the drift per segment, the last refit's model).
    """
    from snowseg.clustering.drift import RefitDecision, decide_refit, drift
    from snowseg.clustering.transform import FeatureTransformer

    meta = ws.load_json("meta")
    policy = contract.refit
    threshold = policy.max_drift if max_drift is None else float(max_drift)
    X = ws.load_frame("features")
    with _timed(ws, "refit_decision_s"):
        with conn.cursor() as cur:
            wh.tag_session(cur, model_run=meta["model_run_id"])  # the queries name the model run
            last = writeback.last_refit(cur, names, contract.name)
        measured = None
        same_model = False
        if last is not None:
            transformer = FeatureTransformer.from_dict(last.transform)
            same_model = (last.refit_key == meta["refit_key"]
                          and list(transformer.feature_names_in_) == list(X.columns))
            if same_model:
                ids, centers, _ = _refit_model(last)
                labels = np.array(ids)[_nearest(transformer.transform(X), centers)]
                measured = drift(X, labels, {s: v["center"] for s, v in last.segments.items()})
        if meta.get("current"):  # already published (a re-run): take the same path, so its report is redrawn as it was
            with conn.cursor() as cur:
                rows = wh.run(cur, "segments/select_run_refit.sql", {"model_run_id": meta["model_run_id"]},
                              database=names.database, schema=names.analytics)
            kind, reason, was = rows[0][:3] if rows else (None, None, None)
            decision = RefitDecision(kind or REFIT, reason or "refit (published before the refit policy)", was)
            if decision.kind == ASSIGN and last is None:
                decision = RefitDecision(REFIT, decision.reason, was)
        elif last is not None and last.refit_key is None:  # published before migration database/V014
            decision = RefitDecision(REFIT, "the last refit predates the refit policy", None)
        else:
            decision = decide_refit(
                every_days=policy.every_days, max_drift=threshold, now=now or datetime.now(UTC).replace(tzinfo=None),
                last_refit_at=None if last is None else last.published_at, same_model=same_model,
                drift_value=None if measured is None else measured.value,
                empty_segments=[] if measured is None else measured.empty_segments, forced=force)
    ws.save_json("refit", {
        **decision.to_dict(), "max_drift": threshold, "every_days": policy.every_days,
        "drift_by_segment": None if measured is None else measured.to_dict()["by_segment"],
        "last_refit": None if last is None else {
            "model_run_id": last.model_run_id, "published_at": last.published_at.isoformat(),
            "transform": last.transform, "centers": last.centers, "k": last.k, "k_reason": last.k_reason,
            "k_choice": last.k_choice, "segments": {str(s): v for s, v in last.segments.items()}},
    })
    log.info("refit decision: %s (%s)", decision.kind, decision.reason)
    return {**decision.to_dict(), "refit_run_id": None if last is None else last.model_run_id}


def assign(ws: Workspace) -> dict:
    """Stage 2 on an assign-only run (instead of k scores and ensemble): the last refit's transform and centroids
    assign this run's rows (here for the profiles; at publish every row is assigned in the warehouse); the k
    decision, stability and confidence are the refit's (confidence: the share of its runs' centres that agree)."""
    plan = _refit_plan(ws)
    if plan is None or plan["kind"] != ASSIGN or plan["last_refit"] is None:
        raise ValueError("assign runs only after a refit decision to assign (refit_decision)")
    from snowseg.clustering.transform import FeatureTransformer

    last = plan["last_refit"]
    refit = writeback.LastRefit(
        model_run_id=last["model_run_id"], published_at=datetime.fromisoformat(last["published_at"]), refit_key=None,
        transform=last["transform"], centers=last["centers"], k=int(last["k"]), k_reason=last["k_reason"],
        k_choice=last["k_choice"], segments={int(s): v for s, v in last["segments"].items()})
    with _timed(ws, "assign_s"):
        ids, centers, runs = _refit_model(refit)
        transformer = FeatureTransformer.from_dict(refit.transform)
        ws.save_json("transform", refit.transform)  # the refit's transform: its centres live in its space
        Z = transformer.transform(ws.load_frame("features"))
        labels0 = _nearest(Z, centers)
        votes = np.array([_nearest(Z, r) for r in runs]) if len(runs) else labels0[None, :]
        confidence = (votes == labels0[None, :]).mean(axis=0)
        stability = np.array([np.nan if refit.segments.get(s, {}).get("stability") is None
                              else float(refit.segments[s]["stability"]) for s in ids])
    ws.save_arrays("ensemble", labels=labels0, confidence=confidence, cluster_stability=stability,
                   cluster_centers=centers, run_centers=runs if len(runs) else centers[None, :, :],
                   runs_ari=np.array(np.nan), segment_ids=np.array(ids))
    ws.save_json("k", {"k": refit.k, "k_reason": f"{refit.k_reason} (refit {refit.model_run_id})",
                       "choice": refit.k_choice, "warnings": []})
    return {"k": refit.k, "refit_run_id": refit.model_run_id, "rows": int(len(Z)),
            "sizes": {int(s): int((labels0 == i).sum()) for i, s in enumerate(ids)}}


def k_scores(contract: DatasetContract, ws: Workspace) -> dict:
    """Stage 2: scores per k and the k decision.

    Raises
    ------
    NoStructure, NoStableK
        With ``k = 0``, when the data show no cluster structure, or no k is stable (after a report of the
        scores is written; ``report_path`` names it).
    """
    from snowseg.clustering.choose_k import choose_k, decide_k

    meta = ws.load_json("meta")
    params = _params(meta)
    with _timed(ws, "choose_k_s"):
        _, _, Z = _transformed(ws)
        rng = np.random.default_rng(params.random_state)
        Zk = Z if len(Z) <= params.k_sample_rows else Z[np.sort(rng.choice(len(Z), params.k_sample_rows,
                                                                           replace=False))]
        k_values = [k for k in range(max(2, params.k_min), params.k_max + 1) if k <= len(Zk)]
        choice = choose_k(Zk, k_values=k_values or [min(2, len(Zk))], n_init=params.n_init,
                          random_state=params.random_state, n_jobs=-1)
        warnings_: list[str] = []
        refused: KNotChosen | None = None
        try:
            k, k_reason = decide_k(params.k, choice)
        except KNotChosen as e:  # the report shows the scores; nothing is fitted or published
            refused, k, k_reason = e, e.candidate or 2, f"not chosen: {e.reason}"
        if not choice.structured:
            warnings_.append("The data show no clear cluster structure: these segments are a partition of the "
                             f"rows, not groups that stand apart ({choice.reason})")
        if k > len(Z):
            raise ParamsError(f"k = {k} is more than the {len(Z)} rows to segment", param="k")
    ws.save_json("k", {"k": k, "k_reason": k_reason, "choice": choice.to_dict(), "warnings": warnings_})
    if refused is not None:
        refused.report_path = str(_write_report(contract, ws, profiles=[], k_only=True))
        raise refused
    return {"k": k, "k_reason": k_reason, "structured": choice.structured, "warnings": warnings_}


def ensemble(ws: Workspace) -> dict:
    """Stage 3: the stability ensemble at the chosen k."""
    from snowseg.clustering.ensemble import StableKMeans

    params = _params(ws.load_json("meta"))
    k = int(ws.load_json("k")["k"])
    with _timed(ws, "ensemble_s"):
        _, _, Z = _transformed(ws)
        model = StableKMeans(n_clusters=k, n_runs=params.n_runs, subsample=params.subsample, n_init=params.n_init,
                             random_state=params.random_state, n_jobs=-1).fit(Z)
    ws.save_arrays("ensemble", labels=model.labels_, confidence=model.confidence_,
                   cluster_stability=model.cluster_stability_, cluster_centers=model.cluster_centers_,
                   run_centers=model.run_centers_, runs_ari=np.array(model.runs_ari_))
    return {"k": k, "runs_ari": round(model.runs_ari_, 4),
            "stability": [round(float(s), 4) for s in model.cluster_stability_]}


def _profiles_from(ws: Workspace) -> tuple[list[SegmentProfile], dict]:
    saved = ws.load_json("profiles")
    return [SegmentProfile(**p) for p in saved["profiles"]], saved


def profiles(conn: Any, contract: DatasetContract, names: Names, ws: Workspace) -> dict:
    """Stage 4: segment ids (carried over from the dataset's previous run), profiles, names and readable rules."""
    from snowseg.clustering.identity import carry_ids
    from snowseg.clustering.profiles import profile_segments
    from snowseg.clustering.rules import attach_rules

    model = ws.load_arrays("ensemble")
    k = len(model["cluster_stability"])
    with _timed(ws, "profiles_s"):
        X, transformer, _ = _transformed(ws)
        with conn.cursor() as cur:
            wh.tag_session(cur, model_run=ws.load_json("meta")["model_run_id"])  # the queries name the model run
            previous = writeback.previous_centers(cur, names, contract.name)
        labels0 = model["labels"]
        values = X.to_numpy()
        centers_orig = np.array([values[labels0 == c].mean(axis=0) if (labels0 == c).any()
                                 else transformer.inverse_transform(model["cluster_centers"][c:c + 1])[0]
                                 for c in range(k)])
        spread = dict(zip(X.columns, X.std(ddof=0).replace(0, 1.0).to_numpy().tolist(), strict=True))
        if _assign_only(ws):  # the refit's centroids: its segment ids
            ids = [int(i) for i in model["segment_ids"]]
            matches = [{"new": i, "id": sid, "previous": sid if sid in previous else None, "shift": None}
                       for i, sid in enumerate(ids)]
        else:
            ids, matches = carry_ids(centers_orig, list(X.columns), previous, spread=spread)
        labels = np.array(ids)[labels0]
        stability = {ids[c]: float(model["cluster_stability"][c]) for c in range(k)
                     if not np.isnan(model["cluster_stability"][c])}
        profs = profile_segments(X, labels, contract, stability=stability, confidence=model["confidence"])
        warnings_ = [f"Segment {p.segment_id} ({p.name}) dissolves under resampling (stability {p.stability:.2f}): "
                     "do not act on it alone" for p in profs if p.stability is not None and p.stability <= 0.5]
        warnings_ += attach_rules(profs, X, labels, contract, random_state=_params(ws.load_json("meta")).random_state)
    ws.save_json("profiles", {"ids": [int(i) for i in ids], "matches": matches,
                              "profiles": [asdict(p) for p in profs], "warnings": warnings_})
    return {"segments": [{"id": p.segment_id, "name": p.name, "size": p.size, "stability": p.stability}
                         for p in profs], "warnings": warnings_}


def _write_report(contract: DatasetContract, ws: Workspace, *, profiles: list[SegmentProfile],
                  links: dict[str, str] | None = None, k_only: bool = False) -> Path:
    """Draw the pictures (first time) and write the run's index.html; the pictures and details are kept in the
    workspace so the page can be rewritten (after the scale path counted every row)."""
    from snowseg.clustering.choose_k import KScore

    meta, kinfo = ws.load_json("meta"), ws.load_json("k")
    params = _params(meta)
    run_dir = Path(meta["report_dir"])
    choice = kinfo["choice"]
    scores = [KScore(**s) for s in choice["scores"]]
    k = int(kinfo["k"])
    saved = ws.load_json("report") if (ws.path / "report.json").is_file() and not k_only else None
    if saved is None:
        images = {"k: inertia (knee and chosen k), silhouette, stability": reports.k_scores_plot(
            scores, k, choice["knee"], run_dir / "elbow.png", stability_min=0.75, silhouette_min=0.25).name}
        details = {"feature level": contract.features.level, "features": ", ".join(meta["columns"]),
                   "dropped as redundant": ", ".join(f"{d['column']} (r={d['r']} with {d['twin']})" if d["twin"]
                                                     else f"{d['column']} (constant)" for d in meta["dropped"])
                   or "none", "scaling": params.scaling}
        if contract.features.level == "customer":
            details["recency measured to"] = params.as_of or "the newest sale in the data"
        plan = _refit_plan(ws)
        if plan is not None:
            details["refit decision"] = f"{plan['kind']}: {plan['reason']}"
            details["drift from the last refit"] = ("none measured" if plan["drift"] is None else
                                                    f"{plan['drift']:.3f} (refit above {plan['max_drift']:.2f})")
        if not k_only:
            X, transformer, Z = _transformed(ws)
            model = ws.load_arrays("ensemble")
            saved_profiles = ws.load_json("profiles")
            ids = saved_profiles["ids"]
            labels = np.array(ids)[model["labels"]]
            by_id = {p.segment_id: p.name for p in profiles}
            images["Segment profiles"] = reports.profile_heatmap(X, labels, by_id, run_dir / "profiles.png").name
            images["Confidence per row"] = reports.confidence_histogram(model["confidence"], labels, by_id,
                                                                        run_dir / "confidence.png").name
            images["PCA projection"] = reports.pca_plot(Z, labels, by_id, run_dir / "pca.png",
                                                        random_state=params.random_state).name
            details["log-transformed"] = ", ".join(transformer.log_columns_) or "none"
            details["ensemble"] = (f"{params.n_runs} runs on {params.subsample:.0%} subsamples; ARI of runs with "
                                   f"the consensus {float(model['runs_ari']):.3f}")
            if plan is not None and plan["kind"] == ASSIGN:
                details["ensemble"] = (f"none this run: rows assigned to the centroids of refit "
                                       f"{plan['last_refit']['model_run_id']} (its stability and k)")
            details["fitted on"] = f"{len(X)} of {meta['rows']} rows" + (
                " (every row assigned in the warehouse; sizes count every row, means are the sample's)"
                if meta["in_warehouse"] else "")
            details["segment ids"] = ", ".join(f"{m['id']}←{m['previous']}" if m["previous"] is not None
                                               else f"{m['id']} new" for m in saved_profiles["matches"])
        saved = {"images": images, "details": details, "links": links or {}}
        if not k_only:
            ws.save_json("report", saved)
    warnings_ = kinfo["warnings"] + ([] if k_only else ws.load_json("profiles")["warnings"])
    migration_html = ""
    if not k_only and (ws.path / "migration.json").is_file():  # after publish: the matrix it counted
        moves = ws.load_json("migration")
        names_by_id = {p.segment_id: p.name for p in profiles}
        png = reports.migration_heatmap(moves["migration"], names_by_id, run_dir / "migration.png").name
        migration_html = reports.migration_section(moves["migration"], names_by_id, moves["centroid_shift"], png,
                                                   decision=_refit_plan(ws))
    amount = contract.column_for_role("amount")
    return reports.write_report(
        run_dir, model_run_id=meta["model_run_id"], k=k, k_reason=kinfo["k_reason"], snapshot=meta["snapshot"],
        profiles=profiles, images=saved["images"], amount_label=amount.name if amount else "amount",
        links=saved["links"] or None, scores=scores, warnings=warnings_, details=saved["details"],
        migration_html=migration_html)


def report(contract: DatasetContract, ws: Workspace, *, links: dict[str, str] | None = None) -> dict:
    """Stage 5: the pictures and the HTML report (in the report folder, named by the model-run id)."""
    profs, _ = _profiles_from(ws)
    with _timed(ws, "report_s"):
        if (ws.path / "report.json").is_file():
            (ws.path / "report.json").unlink()  # a retried stage draws again
        index = _write_report(contract, ws, profiles=profs, links=links)
    log.info("report: %s", index)
    return {"report_path": str(index)}


def publish(conn: Any, contract: DatasetContract, names: Names, ws: Workspace, *, dag_id: str | None = None,
            run_id: str | None = None) -> SegmentationResult:
    """Stage 6: publish assignments, profiles and the model run atomically; nothing when already published."""
    meta, kinfo = ws.load_json("meta"), ws.load_json("k")
    params = _params(meta)
    profs, saved = _profiles_from(ws)
    ids = saved["ids"]
    model = ws.load_arrays("ensemble")
    X, transformer, Z = _transformed(ws)
    k = int(kinfo["k"])
    timings = ws.load_json("timings")
    plan = _refit_plan(ws)
    assign_only = plan is not None and plan["kind"] == ASSIGN
    in_warehouse = bool(meta["in_warehouse"]) or assign_only  # assign-only: every row assigned in the warehouse
    with conn.cursor() as cur:  # each segment's mean now against the previous run's (the run this one follows)
        wh.tag_session(cur, model_run=meta["model_run_id"])  # the queries name the model run
        previous = writeback.previous_centers(cur, names, contract.name)
    shifts = _centroid_shifts(profs, previous, X)
    order = np.argsort(ids)  # centres by segment id, for MODEL_RUNS
    run = writeback.ModelRun(
        fingerprint=meta["fingerprint"], contract=contract.name, feature_set_version=feats.FEATURE_SET_VERSION,
        features=list(X.columns), k=k, k_reason=kinfo["k_reason"], n_init=params.n_init,
        random_state=params.random_state,
        scores_by_k=[{"k": s["k"], "inertia": round(s["inertia"], 4), "silhouette": s["silhouette"],
                      "stability": s["stability"]} for s in kinfo["choice"]["scores"]],
        snapshot=meta["snapshot"], started_at=datetime.fromisoformat(meta["started_at"]), timings=timings,
        dag_id=dag_id, run_id=run_id, feature_level=contract.features.level, n_runs=params.n_runs,
        subsample=params.subsample, scaling=params.scaling, structured=kinfo["choice"]["structured"],
        k_choice=kinfo["choice"], dropped_features=meta["dropped"], transform=transformer.to_dict(),
        centers=[{"segment_id": ids[c], "center": model["cluster_centers"][c].tolist(),
                  "runs": model["run_centers"][:, c, :].tolist()} for c in order],
        segment_matches=saved["matches"], fit_rows=None if assign_only else len(X),
        assigned_in="warehouse" if in_warehouse else "python", follows=meta["follows"],
        run_kind=plan["kind"] if plan else REFIT, refit_reason=plan["reason"] if plan else None,
        refit_run_id=plan["last_refit"]["model_run_id"] if plan and assign_only else None,
        refit_key=meta.get("refit_key"),
        drift=plan["drift"] if plan else None, drift_by_segment=plan["drift_by_segment"] if plan else None,
        centroid_shift=shifts,
    )
    by_id = {p.segment_id: p.name for p in profs}
    with conn.cursor() as cur:
        wh.tag_session(cur, model_run=meta["model_run_id"])  # the publishing queries name the model run
    with _stopwatch(timings, "writeback_s"):  # after MODEL_RUNS is written: in the result only
        if in_warehouse:
            from snowseg.clustering.sql_assign import warehouse_assignment_sql

            sql, sql_params = feats.feature_sql(contract, database=names.database, schema=names.raw,
                                                encoding=params.encoding, as_of=params.as_of)
            fitted = SimpleNamespace(cluster_centers_=model["cluster_centers"], run_centers_=model["run_centers"])
            assignments: Any = writeback.WarehouseAssignments(
                warehouse_assignment_sql(sql, transformer, fitted, ids, by_id), dict(sql_params))
        else:
            labels0 = model["labels"]
            distance = np.linalg.norm(Z - model["cluster_centers"][labels0], axis=1)
            assignments = writeback.Assignments(X.index.to_numpy(), np.array(ids)[labels0], model["confidence"],
                                                distance)
        model_run_id, published = writeback.publish(conn, names, run, assignments, profs)
    index = Path(meta["report_dir"]) / "index.html"
    if published:  # the report gains the migration matrix; sizes and confidence count every row assigned
        if in_warehouse:
            ws.save_json("profiles", {**saved, "profiles": [asdict(p) for p in profs]})
        ws.save_json("migration", {"migration": run.migration, "centroid_shift": shifts})
        index = _write_report(contract, ws, profiles=profs)
    else:  # a re-run: its report stage drew the page again; the matrix is the one published then
        with conn.cursor() as cur:
            rows = wh.run(cur, "segments/select_run_refit.sql", {"model_run_id": model_run_id},
                          database=names.database, schema=names.analytics)
        if rows and rows[0][3]:
            ws.save_json("migration", {"migration": json.loads(rows[0][3]),
                                       "centroid_shift": json.loads(rows[0][4] or "[]")})
            index = _write_report(contract, ws, profiles=profs)
    result = SegmentationResult(
        model_run_id=model_run_id, published=published, k=k, rows=int(meta["rows"]), profiles=profs,
        report_path=str(index), elbow_png=str(Path(meta["report_dir"]) / "elbow.png"), timings=timings,
        k_reason=kinfo["k_reason"], structured=bool(kinfo["choice"]["structured"]), assigned_in=run.assigned_in,
        warnings=kinfo["warnings"] + saved["warnings"],
    )
    result.run_kind, result.refit_reason = run.run_kind, run.refit_reason
    result.migration = run.migration if published else None
    return result


def _centroid_shifts(profs: list[SegmentProfile], previous: dict[int, dict[str, float]], X: pd.DataFrame) -> list:
    """Per segment, its mean's shift since the previous run's same segment (original units, and scaled: root mean
    square in standard deviations of this run's data); ``previous`` false for a segment the previous run lacked."""
    from snowseg.clustering.drift import centroid_shift, spreads

    spread = spreads(X)
    return [{"segment_id": p.segment_id, "previous": p.segment_id in previous,
             **(centroid_shift(p.center, previous[p.segment_id], spread) if p.segment_id in previous
                else {"delta": {}, "scaled": None})} for p in profs]
