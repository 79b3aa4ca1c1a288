"""
### Bulk stage load (files far beyond the web UI's 50 MB)

For each CSV (a file, a folder, or a glob): checks it against the dataset contract (header, UTF-8,
ragged rows; no size limit), splits it at record boundaries into gzip chunks of `chunk_mb`
compressed (Snowflake recommends 100-250 MB), **PUT**s the chunks in parallel into the named
internal stage `@RAW.SNOWSEG_BULK/<content hash>/`, and **COPY INTO**s the raw table with
`FILES = (...)` and `ON_ERROR = CONTINUE`, keeping `METADATA$` lineage. Rejected records are
collected by Snowflake's validator (`VALIDATION_MODE = RETURN_ALL_ERRORS` on the chunks with
errors; `VALIDATE()` cannot read a transforming COPY) into `RAW.SALES_REJECTED` with their line in
the *source* file. One `AUDIT.LOAD_AUDIT` row per source file, committed with the load:
rows_parsed = rows_loaded + rows_rejected. New rows raise the `raw_sales` Asset.

Re-running with the same files loads nothing twice (the task is skipped).

**Scheduled intake**: on `SNOWSEG_BULK_SCHEDULE` (default `@daily`; `off` = no schedule) the run takes
every new `.csv`/`.csv.gz` file under the landing `SNOWSEG_BULK_LANDING` (a folder or an `s3://`
prefix under the input roots), oldest first, each file once: `AUDIT.LANDING_INTAKE` records each
file taken (URL, size, last-modified), so a file on record is not read again, even after Airflow's
metadata is reset; a file rewritten in place is new (its rows load if its content is new). Files
being written (dot-files, `_` names, `.tmp`, `.part`, `_COPYING_`) are ignored, and files younger
than `SNOWSEG_BULK_SETTLE_SECONDS` wait for the next run. A run with nothing new ends **skipped**.
A manual run with an empty `path` takes the landing the same way.

**Params**: `path` (file, folder or glob on the worker; empty = the landing), `chunk_mb`, `parallel`
(PUT threads), `purge` (remove staged chunks after the load), `contract`, `table`.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from snowseg import settings
from snowseg.airflow.assets import RAW_SALES
from snowseg.airflow.tasks import dag_args
from snowseg.config import contract_param
from snowseg.loading.landing_intake import bulk_schedule


@dag(
    dag_id="load_bulk_stage",
    schedule=bulk_schedule(),  # SNOWSEG_BULK_SCHEDULE (default @daily): take the landing's new files
    tags=["snowseg", "load", "bulk"],
    doc_md=__doc__,
    params={
        "path": Param(settings.value("SNOWSEG_DEFAULT_FILE"), type="string", title="File, folder or glob",
                      description="CSV file(s) under the input roots on the worker (SNOWSEG_INPUT_ROOTS), "
                                  "e.g. sales_2019_*.csv; empty = the new files of the landing "
                                  "(SNOWSEG_BULK_LANDING), as a scheduled run takes them"),
        "chunk_mb": Param(100, type="number", minimum=0.001, title="Chunk size (MB, compressed)"),
        "parallel": Param(4, type="integer", minimum=1, maximum=99, title="PUT threads"),
        "purge": Param(True, type="boolean", title="Remove staged chunks after loading"),
        "contract": contract_param(),
        "table": Param(None, type=["null", "string"], title="Raw table (empty = contract's)"),
    },
    **dag_args(),  # start date, no catch-up, one run at a time, retries, one alert per failure
)
def load_bulk_stage():
    @task(outlets=[RAW_SALES])
    def split_put_copy(params=None, dag_run=None) -> list[dict]:
        """Check, split, PUT and COPY the files of `path` (a scheduled run: the landing's new files); skipped when
        there is nothing new."""
        from airflow.sdk.exceptions import AirflowSkipException

        from snowseg.airflow.tasks import resolve, task_connection
        from snowseg.loading.bulk import load_path_files
        from snowseg.loading.landing_intake import take_new_files

        contract, names = resolve(params["contract"], params["table"])
        load = dict(chunk_bytes=int(float(params["chunk_mb"]) * 1_000_000), parallel=params["parallel"],
                    purge=params["purge"], dag_id=dag_run.dag_id, run_id=dag_run.run_id)
        with task_connection() as conn:
            if dag_run.run_type == "manual" and params["path"]:
                results = load_path_files(conn, params["path"], contract, names, **load)
            else:  # scheduled (or a manual run without a path): the landing's new files, each once
                taken = take_new_files(conn, contract, names, **load)
                print(taken.selection.describe())
                results = taken.results
                if not results:
                    raise AirflowSkipException(f"nothing new: {taken.selection.describe()}")
        for r in results:
            print(r.message)
        if all(r.status == "SKIPPED" for r in results):
            raise AirflowSkipException("every file was loaded before; nothing new: "
                                       + "; ".join(r.message for r in results))
        return [r.to_dict() for r in results]

    split_put_copy()


load_bulk_stage()
