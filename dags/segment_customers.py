"""
### Segment customers (k-means on the warehouse's features)

Starts with the **quality gate** (write-audit-publish): the load batches not judged yet are
validated with Great Expectations against the suite derived from the dataset contract. Rows that
break a row-level `error` rule go to `RAW.SALES_QUARANTINE`; a batch with a failed batch-level
`error` rule, or too many quarantined rows, is held back and the run fails listing the failed
rules and counts. Every rule's result goes to `AUDIT.DQ_RESULTS`; the rules' results and the batch's
pictures go to the run's quality report. Only published rows (`RAW.SALES_PUBLISHED`) feed the model.

Then segments (``snowseg.segmentation``):

1. **Features** in the warehouse, from SQL generated from the dataset contract: invoice level (the
   seed's view: numeric columns and encoded categoricals) or customer level (recency, frequency,
   monetary, basket, tenure, category shares, payment mix, membership). Features with |r| >= 0.95
   to another are dropped; skewed money columns are logged; standard or robust scaling.
2. **k**: inertia and its knee, silhouette, and the stability of subsample fits for k = `k_min`..`k_max`;
   `k` = 0 chooses by the documented rule, any other `k` is used as given (default 3, the seed's),
   and MODEL_RUNS records the scores and why.
3. **Stability ensemble**: `n_runs` k-means++ fits on `subsample` shares of the rows, aligned to a
   reference, vote for each row's segment; each row gets a confidence (share of runs that agree) and
   each segment a stability (clusterboot Jaccard).
4. Segment ids carry over from the previous run where segments match; names read like
   "High spend · Member · Food and beverages".
5. **Publish** `ANALYTICS.SEGMENT_ASSIGNMENTS` (history; `CURRENT_SEGMENTS` is the open rows),
   `SEGMENT_PROFILES` and `MODEL_RUNS` in one transaction. Above `max_fit_rows` the model is fitted
   on a sample and every row is assigned in the warehouse by SQL. Publishing the same data with the
   same params again writes nothing.

Runs whenever a load raises the `raw_sales` Asset; trigger it by hand to change params. The run's
HTML report (k scores, profiles, confidence, PCA) path is in the task log and the return value.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from snowseg.alerts import SnowsegNotifier
from snowseg.assets import RAW_SALES

DEFAULT_ARGS = {"owner": "data-engineering", "retries": 1, "retry_delay": timedelta(minutes=1),
                "on_failure_callback": SnowsegNotifier()}  # one alert per failed task (snowseg.alerts)


@dag(
    dag_id="segment_customers",
    schedule=[RAW_SALES],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=SnowsegNotifier(scope="run"),  # only runs that fail without a failed task
    tags=["snowseg", "segmentation"],
    doc_md=__doc__,
    params={
        "k": Param(3, type="integer", minimum=0, maximum=30, title="k (segments; 0 = choose k)"),
        "k_min": Param(2, type="integer", minimum=1, title="k scores: smallest k"),
        "k_max": Param(10, type="integer", minimum=1, maximum=30, title="k scores: largest k"),
        "n_init": Param(10, type="integer", minimum=1, maximum=100, title="k-means++ restarts (n_init)"),
        "random_state": Param(42, type="integer", title="Random seed"),
        "encoding": Param("", enum=["", "onehot", "label"], title="Categorical encoding (empty = contract's)"),
        "n_runs": Param(20, type="integer", minimum=1, maximum=200, title="Stability ensemble: runs"),
        "subsample": Param(0.8, type="number", exclusiveMinimum=0, maximum=1, title="Share of rows per run"),
        "scaling": Param("standard", enum=["standard", "robust"], title="Feature scaling"),
        "max_fit_rows": Param(200000, type="integer", minimum=100,
                              title="Fit on a sample above this many rows; assign the rest in SQL"),
        "contract": Param("supermarket", type="string", title="Dataset contract"),
        "table": Param(None, type=["null", "string"], title="Raw table (empty = contract's)"),
    },
)
def segment_customers():
    @task(retries=0)
    def quality_gate(params=None, dag_run=None) -> dict:
        """Validate the new load batches with GX; publish, quarantine or hold them (write-audit-publish)."""
        import re

        from snowseg import warehouse
        from snowseg.quality.gate import GateFailed, run_gate
        from snowseg.report import report_root
        from snowseg.runtime import fail, resolve

        contract, names = resolve(params["contract"], params["table"])
        report_dir = report_root() / "quality" / re.sub(r"[^A-Za-z0-9_.-]", "_", dag_run.run_id)
        conn = warehouse.connect()
        try:
            result = run_gate(conn, contract, names, run_id=dag_run.run_id, dag_id=dag_run.dag_id,
                              report_dir=report_dir)
        except GateFailed as e:
            raise fail(e) from e
        finally:
            conn.close()
        for b in result.summary()["batches"]:
            print(f"batch {b['batch_id']}: {b['status']} ({b['rows']} rows, {b['quarantined']} quarantined)")
        if result.report_path:
            print(f"Quality report: file://{result.report_path}")
        return result.summary()

    @task
    def segment(gate: dict, params=None, dag_run=None) -> dict:
        """Features -> k scores -> stability ensemble -> profiles -> report -> atomic publish."""
        from snowseg import warehouse
        from snowseg.runtime import PERMANENT_ERRORS, fail, resolve
        from snowseg.segmentation import SegmentationParams, run_segmentation

        contract, names = resolve(params["contract"], params["table"])
        try:
            seg_params = SegmentationParams(
                k=params["k"], k_min=params["k_min"], k_max=params["k_max"], n_init=params["n_init"],
                random_state=params["random_state"], encoding=params["encoding"] or None, n_runs=params["n_runs"],
                subsample=params["subsample"], scaling=params["scaling"], max_fit_rows=params["max_fit_rows"],
            )
        except PERMANENT_ERRORS as e:
            raise fail(e) from e
        conn = warehouse.connect()
        try:
            links = {"Quality gate report": f"file://{gate['report_path']}"} if gate.get("report_path") else None
            result = run_segmentation(conn, contract, names, seg_params, dag_id=dag_run.dag_id, run_id=dag_run.run_id,
                                      links=links)
        except PERMANENT_ERRORS as e:  # e.g. no published rows yet: a retry cannot help
            raise fail(e) from e
        finally:
            conn.close()
        print(f"k = {result.k}: {result.k_reason}")
        for w in result.warnings:
            print(f"WARNING: {w}")
        print(f"Run report: file://{result.report_path}")
        return result.to_dict()

    @task
    def summarise(result: dict, params=None) -> None:
        """Log the current segments as a table."""
        from snowseg import warehouse
        from snowseg.runtime import resolve
        from snowseg.summary import format_table, segment_table

        contract, names = resolve(params["contract"], params["table"])
        with warehouse.cursor() as cur:
            print(format_table(segment_table(cur, names, contract)))
        print(f"model run {result['model_run_id']} ({'published' if result['published'] else 'already published'})")

    summarise(segment(quality_gate()))


segment_customers()
