"""
### Watch the loads: files and pipes past their deadline

Every 10 minutes (`SNOWSEG_WATCH_SCHEDULE`, a cron; default `*/10 * * * *`) two checks look for loads
that should have happened by now (`snowseg.alerting.watch`), and each finding becomes one alert
(`snowseg.alerting.delivery`: a JSON line in `SNOWSEG_ALERTS_FILE`, plus e-mail or Slack if configured):

- `reconcile_landing` (first): a landing file older than `reconcile_minutes` (`SNOWSEG_RECONCILE_MINUTES`, 15)
  with no `AUDIT.LOAD_AUDIT` row and no load in the pipe's history (its S3 event was lost) is queued again with
  `ALTER PIPE ... REFRESH PREFIX = '<its path>'` (the narrowest prefix), waited for up to
  `reconcile_wait_seconds`, and put on record in `LOAD_AUDIT` as `load_s3_snowpipe` would (`AIRFLOW_DAG_ID` =
  `watch_loads`); one `landing_refreshed` alert per file. `announce_recovered` then raises the `raw_sales`
  Asset if it recorded new rows (`snowseg.loading.reconcile`; docs/operating.md).
- `check_landing`: a file in the S3 landing area (`SNOWSEG_LANDING_URL`, default
  `s3://snowseg-landing/sales/`, read with the Amazon provider's S3Hook on `SNOWSEG_AWS_CONN_ID`)
  older than `landing_minutes` that no `AUDIT.LOAD_AUDIT` row accounts for (loaded, failed or
  refused). The alert names the file, its age and size, what the pipe's load history says about it
  (loaded but never accounted, skipped, or never seen) and what to do.
- `check_pipe`: the pipe `RAW.SALES_RAW_PIPE` in a state where it loads nothing (`executionState`
  STOPPED_*, e.g. its file format was replaced, STALLED_*, READ_ONLY), at once; else with files pending
  longer than `pipe_minutes` (`SYSTEM$PIPE_STATUS`: `pendingFileCount`, `oldestFileTimestamp`), e.g. a
  paused pipe.

`send_alerts` sends each finding once: the alerted keys (file URL + ETag, pipe + oldest pending
file) are kept for `SNOWSEG_ALERT_REPEAT_HOURS` (24) in the Airflow Variable `snowseg_alerted_keys`,
so re-running within that window does not alert the same file twice (delete the Variable to re-alert).
The run succeeds when it finds something: the alert is the output. It fails, and alerts through its
failure callback, only when it cannot look (S3 or Snowflake unreachable).

**Params**: `landing_minutes` (30), `pipe_minutes` (15), `reconcile_minutes` (empty = `SNOWSEG_RECONCILE_MINUTES`),
`reconcile_wait_seconds` (empty = `SNOWSEG_RECONCILE_WAIT_SECONDS`), `landing_url` (empty = `SNOWSEG_LANDING_URL`
or the default), `contract` (names the raw table and its pipe).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from snowseg import settings
from snowseg.airflow.assets import RAW_SALES
from snowseg.airflow.tasks import dag_args
from snowseg.config import contract_param

AWS_CONN_ID = settings.value("SNOWSEG_AWS_CONN_ID")


@dag(
    dag_id="watch_loads",
    schedule=settings.value("SNOWSEG_WATCH_SCHEDULE"),
    tags=["snowseg", "alerts", "watch"],
    doc_md=__doc__,
    params={
        "landing_minutes": Param(30, type="number", minimum=0, title="Landing deadline (minutes)",
                                 description="Alert on a landing file older than this with no LOAD_AUDIT row."),
        "pipe_minutes": Param(15, type="number", minimum=0, title="Pipe deadline (minutes)",
                              description="Alert when the pipe's oldest pending file has waited this long."),
        "reconcile_minutes": Param(None, type=["null", "number"], minimum=0,
                                   title="Refresh files without history after (minutes; empty = setting)",
                                   description="A landing file this old that neither LOAD_AUDIT nor the pipe's load "
                                               "history knows is queued again with ALTER PIPE ... REFRESH."),
        "reconcile_wait_seconds": Param(None, type=["null", "number"], minimum=0,
                                        title="Wait for refreshed loads (seconds; empty = setting)"),
        "landing_url": Param(None, type=["null", "string"],
                             title="Landing URL (empty = SNOWSEG_LANDING_URL or default)"),
        "contract": contract_param(),
    },
    **dag_args(retries=0),  # it looks again in 10 minutes anyway
)
def watch_loads():
    @task
    def reconcile_landing(params=None, dag_run=None) -> dict:
        """Landing files whose S3 event was lost: ALTER PIPE ... REFRESH on the narrowest prefix, then LOAD_AUDIT."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.loading import reconcile, snowpipe

        contract, names = resolve(params["contract"])
        landing = snowpipe.Landing.from_env(params["landing_url"])
        with task_connection() as conn:
            result = reconcile.reconcile(
                conn, snowpipe.s3_hook(AWS_CONN_ID), landing, names, contract,
                minutes=reconcile.threshold_minutes(params["reconcile_minutes"]),
                wait=reconcile.wait_seconds(params["reconcile_wait_seconds"]),
                poll=1.0, dag_id=dag_run.dag_id, run_id=dag_run.run_id)
        print(f"reconciled {landing.url}: refreshed {result.refreshed}, {len(result.sent)} file(s) queued, "
              f"{len(result.accounted)} put on record ({result.rows_loaded} rows)"
              + (f"; {result.skipped_reason}" if result.skipped_reason else ""))
        return result.to_dict()

    @task(outlets=[RAW_SALES])
    def announce_recovered(reconciled: dict) -> int:
        """Raise the raw_sales Asset when reconciliation put new rows on record (skipped otherwise)."""
        from airflow.sdk.exceptions import AirflowSkipException

        if not reconciled["rows_loaded"]:
            raise AirflowSkipException("reconciliation recorded no new rows")
        return int(reconciled["rows_loaded"])

    @task(trigger_rule="all_done")
    def check_landing(reconciled: dict | None, params=None) -> list[dict]:
        """Landing files past `landing_minutes` that LOAD_AUDIT does not account for (and reconciliation did not
        alert on)."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.alerting import watch
        from snowseg.loading import snowpipe

        contract, names = resolve(params["contract"])
        landing = snowpipe.Landing.from_env(params["landing_url"])
        with task_connection() as conn:
            findings = watch.check_landing(conn, snowpipe.s3_hook(AWS_CONN_ID), landing, names, contract,
                                           minutes=float(params["landing_minutes"]),
                                           skip=(reconciled or {}).get("handled", []))
        print(f"{len(findings)} landing file(s) past {params['landing_minutes']} min under {landing.url}")
        return [f.to_dict() for f in findings]

    @task
    def check_pipe(params=None) -> list[dict]:
        """The pipe's pending files past `pipe_minutes`."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.alerting import watch

        contract, names = resolve(params["contract"])
        with task_connection() as conn:
            findings = watch.check_pipe(conn, names, contract, minutes=float(params["pipe_minutes"]))
        return [f.to_dict() for f in findings]

    @task(trigger_rule="all_done")
    def send_alerts(reconciled: dict | None, landing: list[dict] | None, pipe: list[dict] | None) -> dict:
        """One alert per finding not alerted within SNOWSEG_ALERT_REPEAT_HOURS (state: an Airflow Variable)."""
        from snowseg.airflow.alert_state import VariableState
        from snowseg.alerting import watch

        found = [*(reconciled or {}).get("findings", []), *(landing or []), *(pipe or [])]
        summary = watch.alert_new(found, VariableState())
        print(f"{len(summary['findings'])} finding(s): {len(summary['alerted'])} alerted, "
              f"{len(summary['suppressed'])} already alerted")
        return summary

    reconciled = reconcile_landing()
    announce_recovered(reconciled)
    send_alerts(reconciled, check_landing(reconciled), check_pipe())


watch_loads()
