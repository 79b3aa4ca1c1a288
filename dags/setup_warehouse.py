"""
### Set up the warehouse: the versioned migrations, under an admin role

The only DAG that creates or alters Snowflake objects. It applies the numbered SQL files under
`include/sql/migrations/` that are not yet recorded in `<database>.AUDIT.SCHEMA_VERSION`, in order,
through the admin connection (`SNOWSEG_ADMIN_CONN_ID`, default `snowflake_admin`: a role such as
SYSADMIN that may create the database's objects), and grants the service role
(`SNOWSEG_SERVICE_ROLE`, default `SNOWSEG_ROLE`) what the other DAGs need. Those DAGs run as the
service role, create nothing, and stop at once with the command to run if the setup is missing.

- `database` migrations: schemas, the audit tables, the analytics tables, the bulk and writeback stages;
- `dataset` migrations, per contract: raw, rejected and quarantine tables, file formats, the published
  view, the small path's intake table and the validation shadow table;
- `snowpipe` migrations, per contract, when `snowpipe` is on: the landing stage on `landing_url`
  (`SNOWSEG_LANDING_URL`) and the pipe.

Running it again applies only what is new. The same from a shell: `make setup-warehouse CONN=<admin conn>`.

**Params**: `contracts` (names; empty = every known contract), `snowpipe`, `landing_url`, `dry_run`.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from snowseg.airflow.tasks import dag_args


@dag(
    dag_id="setup_warehouse",
    schedule=None,
    tags=["snowseg", "setup"],
    doc_md=__doc__,
    params={
        "contracts": Param([], type="array", items={"type": "string"}, title="Dataset contracts",
                           description="Contract names to set up; empty = every contract the project knows."),
        "snowpipe": Param(True, type="boolean", title="Also the landing stage and pipes (S3 + Snowpipe)"),
        "landing_url": Param(None, type=["null", "string"], title="Landing URL (empty = SNOWSEG_LANDING_URL)"),
        "dry_run": Param(False, type="boolean", title="Only list what would be applied"),
    },
    **dag_args(retries=0, alert_runs=False),
)
def setup_warehouse():
    @task
    def apply_migrations(params=None) -> list[dict]:
        """Apply the migrations not yet recorded in SCHEMA_VERSION; one line per migration and dataset."""
        from snowseg import migrations
        from snowseg.airflow.tasks import permanent_failures
        from snowseg.warehouse import Names

        with permanent_failures():
            results = migrations.setup(params["contracts"], snowpipe=params["snowpipe"],
                                       landing_url=params["landing_url"], dry_run=params["dry_run"])
        print("\n".join(migrations.describe(results, Names.from_env().database)))
        return [{"version": r.migration.key, "dataset": r.dataset, "status": r.status} for r in results]

    apply_migrations()


setup_warehouse()
