"""The three load DAGs and ``segment_customers``, end to end with ``dag.test()``, and what they left in the tables.

Each load DAG loads one third of the 1,000-row sample (:mod:`snowseg.smoke.samples`); the check then reads the
DAG run's state, the file's LOAD_AUDIT row (LOADED, every row, the run's id) and the batch's rows in the raw table.
``segment_customers`` then judges every batch (all PUBLISHED), segments the published rows and publishes them: the
latest model run is the DAG run's, it saw every loaded row, and every current assignment is its own (the writeback
check's assignments are closed).

The DAGs read the throwaway database, the connections and the landing prefix from the environment
(``SNOWSEG_DATABASE``, ``SNOWSEG_SNOWFLAKE_CONN_ID``, ``SNOWSEG_AWS_CONN_ID``, ``SNOWSEG_LANDING_URL``), which
:mod:`snowseg.smoke.suite` sets before the DAG files are parsed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from snowseg import warehouse as wh
from snowseg.objects import LOAD_PATH_BULK_STAGE, LOAD_PATH_SMALL_FILE, LOAD_PATH_SNOWPIPE
from snowseg.smoke.forms import Context, Unexpected, audit_status, batch_rows, current_segments, expect

# DAG -> (its file param, the sample file it loads: named after the DAG's load path)
LOAD_DAGS = {"load_small_file": ("file_path", LOAD_PATH_SMALL_FILE), "load_bulk_stage": ("path", LOAD_PATH_BULK_STAGE),
             "load_s3_snowpipe": ("path", LOAD_PATH_SNOWPIPE)}
SEGMENT_DAG = "segment_customers"


def dagbag() -> Any:
    """The project's DAGs (parsed now, so that they read the suite's environment)."""
    from airflow.dag_processing.dagbag import DagBag

    from snowseg.settings import PROJECT_DIR

    bag = DagBag(dag_folder=str(PROJECT_DIR / "dags"))
    if bag.import_errors:
        raise Unexpected("DAG files importing", "no errors", bag.import_errors)
    return bag


def run_dag(bag: Any, dag_id: str, conf: dict, quiet: Callable[[], AbstractContextManager]) -> tuple[Any, dict, float]:
    """``dag.test(run_conf=conf)`` with its logs kept out of the report; (DagRun, {task_id: state}, seconds)."""
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise Unexpected(f"DAG {dag_id}", "in the DagBag", "missing")
    started = time.monotonic()
    with quiet():
        dr = dag.test(run_conf=conf)
    states = {ti.task_id: str(ti.state) for ti in dr.get_task_instances()}
    return dr, states, time.monotonic() - started


def task_seconds(dr: Any) -> str:
    """Each task's run time, in the DAG's order of tasks: where a slow account spends its time.

    Examples
    --------
    >>> from datetime import datetime
    >>> class TI:
    ...     task_id, start_date, end_date = "load", datetime(2026, 1, 1, 0, 0, 0), datetime(2026, 1, 1, 0, 0, 12)
    >>> class DR:
    ...     def get_task_instances(self): return [TI()]
    >>> task_seconds(DR())
    'load 12 s'
    """
    parts = []
    for ti in sorted(dr.get_task_instances(), key=lambda t: (t.start_date is None, t.start_date)):
        took = (ti.end_date - ti.start_date).total_seconds() if ti.start_date and ti.end_date else None
        parts.append(f"{ti.task_id} {took:.0f} s" if took is not None else f"{ti.task_id} {ti.state}")
    return ", ".join(parts)


def _succeeded(dag_id: str, dr: Any, states: dict, may_skip: frozenset[str] = frozenset()) -> None:
    failed = {t: s for t, s in states.items() if s != "success" and not (s == "skipped" and t in may_skip)}
    if str(dr.state) != "success" or failed:
        raise Unexpected(f"DAG run {dag_id}", "success", f"{dr.state} (tasks {failed or states}; see the log)")


def load_dag(ctx: Context, bag: Any, dag_id: str, quiet: Callable[[], AbstractContextManager]) -> str:
    """Run a load DAG on its sample file; its file must be LOADED whole, by this run."""
    from snowseg.loading.checks import check_file
    from snowseg.loading.common import batch_id_for

    param, name = LOAD_DAGS[dag_id]
    conf: dict[str, Any] = {param: str(ctx.samples.files[name])}
    if dag_id == "load_s3_snowpipe":
        conf.update(poll_seconds=ctx.poll_seconds, wait_minutes=ctx.wait_seconds / 60)
    dr, states, took = run_dag(bag, dag_id, conf, quiet)
    _succeeded(dag_id, dr, states)
    info = check_file(ctx.samples.files[name], ctx.contract, max_mb=float("inf"))
    batch_id = batch_id_for(info, name)
    with ctx.conn.cursor() as cur:
        expect(f"LOAD_AUDIT of batch {batch_id}", ("LOADED", info.rows, info.rows, 0, dr.run_id),
               audit_status(cur, ctx, batch_id))
        expect(f"rows of batch {batch_id}", info.rows, batch_rows(cur, ctx, batch_id))
    return (f"success in {took:.0f} s ({task_seconds(dr)}): {info.rows} rows in {ctx.objects.table} as batch "
            f"{batch_id}, LOAD_AUDIT LOADED by run {dr.run_id}")


def segment_dag(ctx: Context, bag: Any, quiet: Callable[[], AbstractContextManager]) -> str:
    """Run segment_customers: every batch PUBLISHED, every loaded row segmented, every current assignment its own."""
    from snowseg.features import data_snapshot

    dr, states, took = run_dag(bag, SEGMENT_DAG, {}, quiet)
    _succeeded(SEGMENT_DAG, dr, states, may_skip=frozenset({"k_scores", "ensemble", "assign"}))  # the refit branch
    names, objects = ctx.names, ctx.objects
    with ctx.conn.cursor() as cur:
        loaded = data_snapshot(cur, ctx.contract, database=names.database, schema=names.raw)["row_count"]
        ((raw_rows, _, _),) = wh.run(cur, "features/select_data_snapshot.sql", database=names.database,
                                     schema=names.raw, table=objects.table)
        expect(f"rows of {objects.published} (published, none quarantined)", int(raw_rows), loaded)
        verdicts = wh.run(cur, "monitor/select_gate_verdicts.sql", {"limit": 1000}, database=names.database,
                          schema=names.audit)
        held = [v[0] for v in verdicts if v[2] != "PUBLISHED"]
        expect("batches the gate held", [], held)
        runs = wh.run(cur, "monitor/select_latest_model_run.sql", database=names.database, schema=names.analytics)
        cols = [d[0].upper() for d in cur.description]
        latest = dict(zip(cols, runs[0], strict=True)) if runs else {}
        expect("latest model run's Airflow run", dr.run_id, latest.get("AIRFLOW_RUN_ID"))
        expect("rows the model run saw", loaded, latest.get("ROW_COUNT"))
        expect("current assignments by model run", {latest["MODEL_RUN_ID"]: loaded}, current_segments(cur, names))
    return (f"success in {took:.0f} s ({task_seconds(dr)}): {len(verdicts)} batches PUBLISHED by the quality "
            f"gate, model run {latest['MODEL_RUN_ID']} (k = {latest['K']}) segmented all {loaded} rows, every current "
            "assignment is its own")
