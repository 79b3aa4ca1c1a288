"""
### Load a small CSV file (the Snowflake web-UI loader's path)

Checks the file before touching the warehouse (exists, at most 50 MB, UTF-8, header = the dataset
contract's), **PUT**s the file into the table stage
`@%SALES_RAW/<content hash>/`, **COPY INTO**s the raw table with the contract's named file format,
removes the staged file, and writes one `AUDIT.LOAD_AUDIT` row. New rows raise the `raw_sales`
Asset, which schedules `segment_customers`.

Re-running with the same file loads nothing twice (the task is *skipped*: already loaded). Files
over the limit belong to the bulk stage path. A malformed value aborts the COPY
(`ON_ERROR = ABORT_STATEMENT`); LOAD_AUDIT then names the file, line, character and column.

**Params**: `file_path` (a CSV on the worker, or an `s3://bucket/key` object under an input root: streamed to
the worker, audited under its URL), `table` (override the contract's raw table),
`on_error`, `contract` (a dataset contract by name, chosen from the known ones; see docs/contracts.md).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from snowseg import settings
from snowseg.airflow.assets import RAW_SALES
from snowseg.airflow.tasks import dag_args
from snowseg.config import contract_param


@dag(
    dag_id="load_small_file",
    schedule=None,
    tags=["snowseg", "load", "small-file"],
    doc_md=__doc__,
    params={
        "file_path": Param(settings.value("SNOWSEG_DEFAULT_FILE"), type="string", title="CSV file path",
                           description="A CSV file (at most 50 MB) under the input roots (SNOWSEG_INPUT_ROOTS): a "
                                   "path on the worker (relative paths start at the first root) or an s3:// "
                                   "URL under an s3 root."),
        "table": Param(None, type=["null", "string"], title="Target table",
                       description="Raw table in the RAW schema; empty = the contract's table (SALES_RAW)."),
        "on_error": Param("ABORT_STATEMENT", enum=["ABORT_STATEMENT", "CONTINUE", "SKIP_FILE"], title="ON_ERROR"),
        "contract": contract_param(),
    },
    **dag_args(),  # start date, no catch-up, one run at a time, retries, one alert per failure
)
def load_small_file():
    @task(retries=0)
    def check_file(params=None, dag_run=None) -> dict:
        """Refuse a missing, oversized, non-UTF-8 or wrongly shaped file before any PUT (audited as REFUSED)."""
        from snowseg.airflow.tasks import fail, permanent_failures, record_refusals, resolve
        from snowseg.errors import ParamsError
        from snowseg.inputs import check
        from snowseg.loading.small_file import LOAD_PATH

        with permanent_failures():
            contract, names = resolve(params["contract"], params["table"])
            if not params["file_path"]:
                raise ParamsError("param file_path is empty: give the path of a CSV file on the worker",
                                  param="file_path")
            with check(params["file_path"], contract, single=True) as checked:  # an s3:// object: checked locally
                infos, refused = checked.infos, checked.refused
        if refused:
            error = record_refusals(refused, contract, names, load_path=LOAD_PATH, dag_id=dag_run.dag_id,
                                    run_id=dag_run.run_id)
            raise fail(error) from error
        return infos[0].to_dict()

    @task(outlets=[RAW_SALES])
    def put_and_copy(info: dict, params=None, dag_run=None) -> dict:
        """PUT -> COPY INTO -> audit -> REMOVE; skipped when the content was loaded before."""
        from airflow.sdk.exceptions import AirflowSkipException

        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.loading.checks import FileInfo
        from snowseg.loading.small_file import load_file

        contract, names = resolve(params["contract"], params["table"])
        with task_connection() as conn:
            result = load_file(
                conn, FileInfo(**info), contract, names, on_error=params["on_error"],
                dag_id=dag_run.dag_id, run_id=dag_run.run_id,
            )
        if result.status == "SKIPPED":
            raise AirflowSkipException(result.message)
        return result.to_dict()

    put_and_copy(check_file())


load_small_file()
