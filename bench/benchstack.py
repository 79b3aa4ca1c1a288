"""The warehouse side the twin benchmarks share, set up as production has it.

- The bench's own twin (free port, temp state folder, Snowflake privileges enforced) is the Airflow
  connections ``snowflake_default`` (the service user, role SNOWSEG_ROLE), ``snowflake_admin`` (the
  admin user, role SYSADMIN) and, with S3, ``aws_default`` (its moto server): not whatever the shell
  (e.g. the Makefile) points at.
- Each throwaway database gets the versioned setup as the admin (:func:`set_up_database`:
  :func:`snowseg.migrations.apply` through ``snowflake_admin``, what ``make setup-warehouse`` runs),
  outside the timed sections: production runs it once, not per load.
- The pipeline then runs as the service role through :func:`snowseg.warehouse.connect`, the DAG
  tasks' own sessions (TIMEZONE UTC, QUERY_TAG); the service role creates nothing.

Importing this module puts ``include/``, ``devstack/`` and the dev-only hook shim (as ``make``
applies it through ``devstack/sitecustomize``) on the path.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO / "devstack"), str(REPO / "devstack" / "sitecustomize")]

import sitecustomize  # noqa: E402,F401  (SnowflakeHook speaks HTTP to the twin, as under `make`)
from snowseg_twin.process import AWS_TWIN_ENV, TwinProcess  # noqa: E402

# Environment that would point the pipeline elsewhere than this bench's twin and databases
_FOREIGN = ("SNOWSEG_DATABASE", "SNOWSEG_SNOWFLAKE_CONN_ID", "SNOWSEG_ADMIN_CONN_ID", "SNOWSEG_SERVICE_ROLE",
            "SNOWSEG_LANDING_URL", "SNOWSEG_RAW_SCHEMA", "SNOWSEG_AUDIT_SCHEMA", "SNOWSEG_ANALYTICS_SCHEMA")


def bench_twin(tmp: Path, *, s3: bool = False) -> TwinProcess:
    """A private twin (not started) in `tmp`, wired as this process's Airflow connections.

    Also sets this process's own ``AIRFLOW_HOME`` under `tmp` and makes `tmp` the input root
    (``SNOWSEG_INPUT_ROOTS``), where the benches write their generated CSVs.
    """
    for var in _FOREIGN:
        os.environ.pop(var, None)
    os.environ["AIRFLOW_HOME"] = str(tmp / "airflow")
    os.environ["SNOWSEG_INPUT_ROOTS"] = str(tmp)
    for var, value in AWS_TWIN_ENV.items():  # moto accepts any credentials; boto3 needs some
        os.environ.setdefault(var, value)
    twin = TwinProcess(tmp / "twin", s3=s3, env={"SNOWSEG_TWIN_PRIVILEGES": "enforce"})
    os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"] = twin.connection_json()
    os.environ["AIRFLOW_CONN_SNOWFLAKE_ADMIN"] = twin.admin_connection_json()
    if s3:
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = twin.aws_connection_json()
    return twin


def set_up_database(database: str, contracts: list, *, landing_url: str | None = None) -> float:
    """The versioned setup of `database` for `contracts` as the admin applies it; returns its seconds.

    With `landing_url`, the Snowpipe objects (landing stage on that URL, a pipe per dataset) too.
    """
    from snowseg import migrations
    from snowseg.loading.snowpipe import Landing
    from snowseg.warehouse import Names, connect

    t = time.perf_counter()
    conn = connect(migrations.DEFAULT_ADMIN_CONN_ID)
    try:
        migrations.apply(conn, Names.from_env(database), contracts, service_role=migrations.service_role(),
                         landing=Landing.from_env(landing_url) if landing_url else None)
    finally:
        conn.close()
    return time.perf_counter() - t
