"""
### Segment customers (k-means on the warehouse's features)

Starts with the **quality gate** (write-audit-publish): the load batches not judged yet are
validated with Great Expectations against the suite derived from the dataset contract. Rows that
break a row-level `error` rule go to `RAW.SALES_QUARANTINE`; a batch with a failed batch-level
`error` rule, or too many quarantined rows, is held back and the run fails listing the failed
rules and counts. Every rule's result goes to `AUDIT.DQ_RESULTS`; the rules' results and the batch's
pictures go to the run's quality report. Only published rows (`RAW.SALES_PUBLISHED`) feed the model.

Then one task per stage (``snowseg.segmentation.stages``), each retryable on its own; they hand over
through the run's working folder (`SNOWSEG_WORK_DIR`), passing only references through XCom:

1. **features**: SQL generated from the dataset contract, run in the warehouse on published rows: invoice
   level (numeric columns and encoded categoricals) or customer level (recency, frequency, monetary,
   basket, tenure, category shares). Features with |r| >= 0.95 to another are dropped; skewed money
   columns are logged; standard or robust scaling. Above `max_fit_rows` a hash sample is fitted.
   **refit_decision** (a branch): the contract's `refit` policy decides whether this run refits (k_scores,
   ensemble) or assigns every row to the last refit's centroids (**assign**, and in the warehouse at publish):
   refit on the first run, when the model's params or features changed, when the last refit is `every_days`
   old, or when drift (the largest shift of a segment's mean since the last refit, in standard deviations)
   passes `max_drift`. Params `refit = now` forces one; `max_drift` overrides the contract's threshold.
2. **k_scores**: inertia and its knee, silhouette, and stability for k = `k_min`..`k_max`; `k` = 0 chooses
   by the documented rule (and fails, with a report, on data without cluster structure), any other `k`
   is used as given (default 3, the seed's); MODEL_RUNS records the scores and why.
3. **ensemble**: the least-inertia partition of a reference fit and `n_runs` subsample fits; each row
   gets a confidence (share of runs that agree), each segment a stability (clusterboot Jaccard).
4. **profiles**: segment ids carry over from the dataset's previous run where segments match; names.
5. **report**: k scores, profiles, confidence and PCA pictures in an HTML report (path in the log).
6. **publish**: `ANALYTICS.SEGMENT_ASSIGNMENTS` (history; `CURRENT_SEGMENTS` is the open rows, per
   dataset, each row with the customer's previous segment), `SEGMENT_PROFILES` and `MODEL_RUNS` (with the
   migration matrix, the moved share, the drift and the refit decision and its reason) in one transaction;
   above `max_fit_rows` (and on an assign-only run) every row is assigned in the warehouse by SQL.
   Publishing the same data with the same params again writes nothing.
7. **summarise**: the dataset's current segments as a table.

Runs whenever a load raises the `raw_sales` Asset, or on `SNOWSEG_SEGMENT_SCHEDULE` (default Mondays
06:00 UTC: recency ages even without new sales), whichever comes first; trigger it by hand to change
params or pick another dataset (contract). Datasets are kept apart: segmenting one never changes another's
current segments.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, task

from snowseg.airflow.assets import segment_schedule
from snowseg.airflow.tasks import dag_args
from snowseg.config import contract_param


@dag(
    dag_id="segment_customers",
    schedule=segment_schedule(),  # new published data (the raw_sales Asset) or the weekly refresh, first wins
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
        "recency_to": Param("run date", enum=["run date", "newest sale"],
                            title="Customer recency: days to the run's date (ages weekly) or to the newest sale"),
        "contract": contract_param(),
        "table": Param(None, type=["null", "string"], title="Raw table (empty = contract's)"),
        "refit": Param("policy", enum=["policy", "now"],
                       title="Refit: by the contract's refit policy, or now (k scores and ensemble)"),
        "max_drift": Param(None, type=["null", "number"], exclusiveMinimum=0,
                           title="Refit above this drift (empty = the contract's refit.max_drift)"),
    },
    **dag_args(retries=1, retry_delay=timedelta(minutes=1)),  # and one alert per failure
)
def segment_customers():
    @task(retries=0)
    def quality_gate(params=None, dag_run=None) -> dict:
        """Validate the new load batches with GX; publish, quarantine or hold them (write-audit-publish)."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.monitor import quality_report_dir
        from snowseg.quality.gate import run_gate
        from snowseg.report import report_root

        contract, names = resolve(params["contract"], params["table"])
        with task_connection() as conn:  # a held batch (GateFailed) fails the task with its verdicts
            result = run_gate(conn, contract, names, run_id=dag_run.run_id, dag_id=dag_run.dag_id,
                              report_dir=report_root() / quality_report_dir(dag_run.run_id))
        for b in result.summary()["batches"]:
            print(f"batch {b['batch_id']}: {b['status']} ({b['rows']} rows, {b['quarantined']} quarantined)")
        if result.report_path:
            print(f"Quality report: file://{result.report_path}")
        return result.summary()

    @task
    def features(gate: dict, params=None, dag_run=None) -> dict:
        """Feature query in the warehouse (published rows), redundant features dropped, transform fitted."""
        from airflow.sdk.exceptions import AirflowSkipException

        from snowseg.airflow.tasks import permanent_failures, resolve, segmentation_params, task_connection
        from snowseg.errors import NoPublishedRows
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace, prune

        contract, names = resolve(params["contract"], params["table"])
        prune()  # working folders of failed runs nobody retried, older than a week (under SNOWSEG_WORK_DIR only)
        with permanent_failures():
            seg_params = segmentation_params(params, (dag_run.logical_date or dag_run.run_after).date().isoformat())
        with task_connection() as conn:
            try:
                out = stages.features(conn, contract, names, seg_params, Workspace.for_run(dag_run.run_id))
            except NoPublishedRows as e:
                if dag_run.run_type == "scheduled":  # the weekly refresh before anything was loaded: nothing to do
                    raise AirflowSkipException(str(e)) from e
                raise
        print(f"model run {out['model_run_id']}: {out['fit_rows']} of {out['rows']} rows, features {out['features']}")
        return out

    @task.branch
    def refit_decision(feats: dict, params=None, dag_run=None) -> str:
        """Refit (k scores, ensemble) or assign to the last refit's centroids: the contract's refit policy."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace

        contract, names = resolve(params["contract"], params["table"])
        with task_connection() as conn:
            out = stages.refit_decision(conn, contract, names, Workspace.for_run(dag_run.run_id),
                                        force=params.get("refit") == "now", max_drift=params.get("max_drift"))
        print(f"{out['kind']}: {out['reason']}")
        return "k_scores" if out["kind"] == "refit" else "assign"

    @task
    def assign(feats: dict, dag_run=None) -> dict:
        """Assign-only run: the rows go to the last refit's centroids (every row in the warehouse at publish)."""
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace

        out = stages.assign(Workspace.for_run(dag_run.run_id))
        print(f"assigned {out['rows']} rows to the centroids of refit {out['refit_run_id']}: {out['sizes']}")
        return out

    @task
    def k_scores(feats: dict, params=None, dag_run=None) -> dict:
        """Inertia and knee, silhouette, stability per k; the k decision (k = 0: chosen, or no structure)."""
        from snowseg.airflow.tasks import permanent_failures, resolve
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace

        contract, _ = resolve(params["contract"], params["table"])
        with permanent_failures():  # e.g. k = 0 on data without cluster structure (KNotChosen)
            out = stages.k_scores(contract, Workspace.for_run(dag_run.run_id))
        print(f"k = {out['k']}: {out['k_reason']}")
        for w in out["warnings"]:
            print(f"WARNING: {w}")
        return out

    @task
    def ensemble(k: dict, dag_run=None) -> dict:
        """The stability ensemble: consensus segments, confidence per row, stability per segment."""
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace

        out = stages.ensemble(Workspace.for_run(dag_run.run_id))
        print(f"k = {out['k']}: stability per cluster {out['stability']}, ARI of runs with the consensus "
              f"{out['runs_ari']}")
        return out

    @task(trigger_rule="none_failed_min_one_success")  # after the ensemble, or after assign
    def profiles(feats: dict, params=None, dag_run=None) -> dict:
        """Segment ids carried over from the dataset's previous run; profiles and names."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace

        contract, names = resolve(params["contract"], params["table"])
        with task_connection() as conn:
            out = stages.profiles(conn, contract, names, Workspace.for_run(dag_run.run_id))
        for s in out["segments"]:
            print(f"segment {s['id']}: {s['name']} ({s['size']} rows, stability {s['stability']})")
        for w in out["warnings"]:
            print(f"WARNING: {w}")
        return out

    @task
    def report(profs: dict, gate: dict, params=None, dag_run=None) -> dict:
        """Pictures (k scores, profiles, confidence, PCA) and the HTML run report."""
        from snowseg.airflow.tasks import resolve
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace

        contract, _ = resolve(params["contract"], params["table"])
        links = {"Quality gate report": f"file://{gate['report_path']}"} if gate.get("report_path") else None
        out = stages.report(contract, Workspace.for_run(dag_run.run_id), links=links)
        print(f"Run report: file://{out['report_path']}")
        return out

    @task
    def publish(rep: dict, params=None, dag_run=None) -> dict:
        """Assignments, profiles and the model run in one transaction (nothing when already published)."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.segmentation import stages
        from snowseg.segmentation.workspace import Workspace

        contract, names = resolve(params["contract"], params["table"])
        with task_connection() as conn:
            result = stages.publish(conn, contract, names, Workspace.for_run(dag_run.run_id),
                                    dag_id=dag_run.dag_id, run_id=dag_run.run_id)
        print(f"model run {result.model_run_id}: {'published' if result.published else 'already published'}")
        print(f"Run report: file://{result.report_path}")
        return result.to_dict()

    @task
    def summarise(result: dict, params=None, dag_run=None) -> None:
        """Log the dataset's current segments as a table, add the model run's cost to its report (from the query
        history); remove the run's working folder."""
        from snowseg import warehouse
        from snowseg.airflow.tasks import resolve
        from snowseg.costs import report_model_run
        from snowseg.segmentation.workspace import Workspace
        from snowseg.summary import format_table, segment_table

        contract, names = resolve(params["contract"], params["table"])
        with warehouse.cursor() as cur:
            warehouse.tag_session(cur, model_run=result["model_run_id"])
            print(format_table(segment_table(cur, names, contract)))
            cost = report_model_run(cur, names, model_run_id=result["model_run_id"],
                                    report_path=result.get("report_path"), dag_id=dag_run.dag_id,
                                    run_id=dag_run.run_id, since=dag_run.start_date)  # into the run report
        print(f"model run cost: {cost.queries} queries, {cost.elapsed_s:.1f} s, {cost.credits:.5f} credits "
              "(estimate)")
        print(f"model run {result['model_run_id']} ({'published' if result['published'] else 'already published'})")
        print(f"{result['run_kind']}: {result['refit_reason']}; moved share {result['moved_share']}")
        Workspace.for_run(dag_run.run_id).remove()  # it holds customer-level data

    gate = quality_gate()
    feats = features(gate)
    decision = refit_decision(feats)  # a branch: k_scores -> ensemble (refit), or assign; the other shows skipped
    scores = k_scores(feats)
    refit = ensemble(scores)
    assigned = assign(feats)
    decision >> [scores, assigned]
    profs = profiles(feats)
    [refit, assigned] >> profs
    summarise(publish(report(profs, gate)))


segment_customers()
