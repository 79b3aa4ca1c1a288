"""
### Load CSV files through S3 and Snowpipe (continuous loading)

For each CSV (a file, a folder or a glob): checks it against the dataset contract, **uploads** it
with the S3Hook (multipart for large files, retries) to
`s3://<landing bucket>/<prefix>/snowpipe_<content hash>/<name>`, and lets the pipe
`RAW.SALES_RAW_PIPE` (`AUTO_INGEST = TRUE`, `ON_ERROR = SKIP_FILE`) on the external stage
`RAW.SNOWSEG_LANDING` load it. The stage and the pipe come from the versioned setup (`setup_warehouse`
with a landing URL); this DAG checks they are there and read this landing URL.

The pipe hears about new files in one of two ways (param `notify`):
- `auto`: the bucket's event notification sends object-created events under the prefix to the
  pipe's `notification_channel` (SQS); this DAG sets that notification up if it is missing;
- `rest`: the DAG calls Snowpipe's REST `insertFiles` (snowflake-ingest SDK, key-pair auth from
  the Snowflake connection).

`wait_for_pipe` then waits **on the triggerer** (deferrable; no worker slot) until every file is in
the pipe's load history (`COPY_HISTORY`), logging `SYSTEM$PIPE_STATUS`; after `wait_minutes` it
fails with the files still pending. `account_loads` writes one `AUDIT.LOAD_AUDIT` row per file; a
file the pipe skipped is loaded again with `ON_ERROR = CONTINUE`, so its good rows land and each
rejected row goes to `RAW.SALES_REJECTED` with its line, column and error. New rows raise the
`raw_sales` Asset.

Re-running with the same files loads nothing twice (LOAD_AUDIT, then Snowpipe's load metadata).

**Params**: `path` (local, or `s3://` under an input root),
`notify` (auto | rest), `landing_url`, `storage_integration`, `wait_minutes`,
`poll_seconds`, `contract`, `table`. Environment defaults: `SNOWSEG_LANDING_URL`,
`SNOWSEG_STORAGE_INTEGRATION`, `SNOWSEG_AWS_CONN_ID` (default `aws_default`).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from snowseg import settings
from snowseg.airflow.assets import RAW_SALES
from snowseg.airflow.sensors import SnowpipeLoadSensor
from snowseg.airflow.tasks import dag_args
from snowseg.config import contract_param

AWS_CONN_ID = settings.value("SNOWSEG_AWS_CONN_ID")


@dag(
    dag_id="load_s3_snowpipe",
    schedule=None,
    tags=["snowseg", "load", "snowpipe", "s3"],
    doc_md=__doc__,
    params={
        "path": Param(settings.value("SNOWSEG_DEFAULT_FILE"), type="string", title="File, folder or glob",
                      description="CSV file(s) under the input roots (SNOWSEG_INPUT_ROOTS): on the worker, e.g. "
                                  "sales_2019_*.csv, or s3://bucket/prefix/*.csv under an s3 root"),
        "notify": Param("auto", enum=["auto", "rest"], title="How the pipe hears about files",
                        description="auto: S3 event notification to the pipe's SQS channel; rest: insertFiles"),
        "landing_url": Param(None, type=["null", "string"],
                             title="Landing URL (empty = SNOWSEG_LANDING_URL or default)",
                             description="s3://<bucket>/<prefix>/ the external stage points at"),
        "storage_integration": Param(None, type=["null", "string"], title="Storage integration (empty = default)"),
        "wait_minutes": Param(30, type="number", minimum=0.05, title="Fail if not loaded within (minutes)"),
        "poll_seconds": Param(5, type="number", minimum=0.1, title="Seconds between load-history checks"),
        "contract": contract_param(),
        "table": Param(None, type=["null", "string"], title="Raw table (empty = contract's)"),
    },
    **dag_args(),  # start date, no catch-up, one run at a time, retries, one alert per failure
)
def load_s3_snowpipe():
    @task(retries=0)
    def check_files(params=None, dag_run=None) -> dict:
        """Check every file before anything is uploaded; refused files are audited as REFUSED."""
        from snowseg.airflow.tasks import fail, permanent_failures, record_refusals, resolve
        from snowseg.inputs import check
        from snowseg.loading.snowpipe import LOAD_PATH
        from snowseg.redaction import redact

        with permanent_failures():
            contract, names = resolve(params["contract"], params["table"])
            with check(params["path"], contract, max_mb=float("inf")) as checked:  # s3:// objects: checked locally
                infos, refused = checked.infos, checked.refused
        if refused:
            error = record_refusals(refused, contract, names, load_path=LOAD_PATH, dag_id=dag_run.dag_id,
                                    run_id=dag_run.run_id)
            if not infos:
                raise fail(error) from error
            print(redact(str(error)))  # the good files go on; account_loads fails the run at the end
        return {"files": [i.to_dict() for i in infos], "refused": [r.to_dict() for r in refused]}

    @task
    def prepare_pipe(params=None) -> dict:
        """The pipe and its landing stage (made by the setup; here checked to read this landing URL); in auto mode,
        the bucket's event notification to the pipe's channel."""
        from dataclasses import asdict

        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.loading import snowpipe

        contract, names = resolve(params["contract"], params["table"])
        with task_connection() as conn:  # a bad landing URL or a stage on another prefix: no retry
            landing = snowpipe.Landing.from_env(params["landing_url"], params["storage_integration"])
            with conn.cursor() as cur:
                pipe = snowpipe.find_pipe(cur, names, contract, landing)
        if params["notify"] == "auto":
            snowpipe.ensure_notification(snowpipe.s3_hook(AWS_CONN_ID).get_conn(), landing, pipe)
        return asdict(pipe)

    @task
    def upload_files(checked: dict, pipe: dict, params=None) -> list[dict]:
        """Upload the files not loaded before; in rest mode, call insertFiles. Skipped if nothing is new."""
        from airflow.sdk.exceptions import AirflowSkipException

        from snowseg import warehouse
        from snowseg.airflow.tasks import fail, refusals_from_xcom, resolve
        from snowseg.loading import snowpipe
        from snowseg.loading.checks import FileInfo

        contract, names = resolve(params["contract"], params["table"])
        landing = snowpipe.Landing.from_env(params["landing_url"], params["storage_integration"])
        with warehouse.cursor() as cur:
            todo, skipped = snowpipe.new_files(cur, names, contract, [FileInfo(**i) for i in checked["files"]])
        for message in skipped:
            print(message)
        if not todo and checked["refused"]:  # nothing new, and the rest refused (see check_files)
            raise fail(refusals_from_xcom(checked, names))
        if not todo:
            raise AirflowSkipException("every file was loaded before; nothing new: " + "; ".join(skipped))
        s3 = snowpipe.s3_hook(AWS_CONN_ID)
        landed = [snowpipe.upload(s3, landing, info, contract) for info in todo]
        if params["notify"] == "rest":
            from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

            hook = SnowflakeHook(snowflake_conn_id=warehouse.conn_id_from_env())
            snowpipe.insert_files(snowpipe.ingest_manager(hook, snowpipe.Pipe(**pipe)), landed)
        return [f.to_dict() for f in landed]

    @task(outlets=[RAW_SALES])
    def account_loads(files: list[dict], loads: dict, checked: dict, params=None, dag_run=None) -> list[dict]:
        """One LOAD_AUDIT row per file; files the pipe skipped are loaded with ON_ERROR = CONTINUE."""
        from airflow.sdk.exceptions import AirflowSkipException

        from snowseg.airflow.tasks import fail, refusals_from_xcom, resolve, task_connection
        from snowseg.loading import snowpipe

        contract, names = resolve(params["contract"], params["table"])
        with task_connection() as conn:
            results = snowpipe.account_files(conn, [snowpipe.Landed.from_dict(f) for f in files], loads, contract,
                                             names, dag_id=dag_run.dag_id, run_id=dag_run.run_id)
        for r in results:
            print(r.message)
        if checked["refused"]:  # the others are loaded and audited; the run still fails, naming the refused ones
            raise fail(refusals_from_xcom(checked, names))
        if all(r.status == "SKIPPED" for r in results):
            raise AirflowSkipException("every file was accounted for before; nothing new: "
                                       + "; ".join(r.message for r in results))
        return [r.to_dict() for r in results]

    pipe = prepare_pipe()
    checked = check_files()
    files = upload_files(checked, pipe)
    loads = SnowpipeLoadSensor(
        task_id="wait_for_pipe", pipe=pipe, files=files, contract="{{ params.contract }}",
        table="{{ params.table or '' }}", poll_interval="{{ params.poll_seconds }}",
        wait_seconds="{{ params.wait_minutes * 60 }}",
    )
    account_loads(files, loads.output, checked)


load_s3_snowpipe()
