"""The demo's isolated environment for the e2e tests (its own twin, Airflow home and report folder)."""

from __future__ import annotations

import os

from tests.conftest import REPO, connection_json, free_port


def demo_env(tmp_path) -> dict[str, str]:
    """The demo's environment in its own twin, Airflow home and report folder under `tmp_path`, on free ports."""
    twin_port, s3_port = free_port(), free_port()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SNOWSEG"))},
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("include", "devstack", "devstack/sitecustomize")),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": connection_json(twin_port, tmp_path / "twin"),
        "SNOWSEG_TWIN_HOME": str(tmp_path / "twin"),
        "SNOWSEG_TWIN_PORT": str(twin_port),
        "SNOWSEG_S3_PORT": str(s3_port),
        "SNOWSEG_REPORT_DIR": str(tmp_path / "reports"),
    }
