"""
### Watch the loads: files and pipes past their deadline

Every 10 minutes (`SNOWSEG_WATCH_SCHEDULE`, a cron; default `*/10 * * * *`) two checks look for loads
that should have happened by now (`snowseg.alerting.watch`), and each finding becomes one alert
(`snowseg.alerting.delivery`: a JSON line in `SNOWSEG_ALERTS_FILE`, plus e-mail or Slack if configured):

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

**Params**: `landing_minutes` (30), `pipe_minutes` (15), `landing_url` (empty = `SNOWSEG_LANDING_URL`
or the default), `contract` (names the raw table and its pipe).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from snowseg import settings
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
        "landing_url": Param(None, type=["null", "string"],
                             title="Landing URL (empty = SNOWSEG_LANDING_URL or default)"),
        "contract": contract_param(),
    },
    **dag_args(retries=0),  # it looks again in 10 minutes anyway
)
def watch_loads():
    @task
    def check_landing(params=None) -> list[dict]:
        """Landing files past `landing_minutes` that LOAD_AUDIT does not account for."""
        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.alerting import watch
        from snowseg.loading import snowpipe

        contract, names = resolve(params["contract"])
        landing = snowpipe.Landing.from_env(params["landing_url"])
        with task_connection() as conn:
            findings = watch.check_landing(conn, snowpipe.s3_hook(AWS_CONN_ID), landing, names, contract,
                                           minutes=float(params["landing_minutes"]))
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
    def send_alerts(landing: list[dict] | None, pipe: list[dict] | None) -> dict:
        """One alert per finding not alerted within SNOWSEG_ALERT_REPEAT_HOURS (state: an Airflow Variable)."""
        from snowseg.airflow.alert_state import VariableState
        from snowseg.alerting import watch

        summary = watch.alert_new([*(landing or []), *(pipe or [])], VariableState())
        print(f"{len(summary['findings'])} finding(s): {len(summary['alerted'])} alerted, "
              f"{len(summary['suppressed'])} already alerted")
        return summary

    send_alerts(check_landing(), check_pipe())


watch_loads()
