"""Session set-up shared by every test.

Airflow reads its configuration at import time, so AIRFLOW_HOME and friends are set here, before any
test module imports airflow. The twin fixture starts the real launcher (`python -m
snowseg_twin.server`) once per session on a free port with its own state folder, and points the
Airflow connection `snowflake_default` at it. Tests isolate themselves by database name.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED_CSV = REPO.parent / "shared" / "data" / "supermarket_sales.csv"
_TMP = Path(tempfile.mkdtemp(prefix="snowseg-tests-"))

os.environ["AIRFLOW_HOME"] = str(_TMP / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["SNOWSEG_REPORT_DIR"] = str(_TMP / "reports")
for var in ("SNOWSEG_DATABASE", "AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "SNOWSEG_TWIN_HOME", "SNOWSEG_DEFAULT_FILE"):
    os.environ.pop(var, None)

# The dev-only hook shim, as `make` applies it through devstack/sitecustomize for every process.
sys.path.insert(0, str(REPO / "devstack" / "sitecustomize"))
import sitecustomize  # noqa: E402,F401


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def twin_connection(port: int) -> str:
    """The Airflow connection (JSON) for a twin on `port`."""
    return json.dumps(
        {
            "conn_type": "snowflake", "login": "snowseg", "password": "local-twin-no-secret", "schema": "RAW",
            "extra": {"account": "twin", "database": "SNOWSEG", "warehouse": "SNOWSEG_WH", "role": "SNOWSEG_ROLE",
                      "host": "127.0.0.1", "port": port, "protocol": "http"},
        }
    )


class Twin:
    """A twin server process started by the tests."""

    def __init__(self, home: Path, port: int | None = None):
        self.home, self.port = home, port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Twin:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO / "devstack")])}
        self.log = (self.home.parent / f"{self.home.name}.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snowseg_twin.server", "--port", str(self.port), "--home", str(self.home)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"twin exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/twin/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"twin did not answer on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT: graceful stop, DuckDB checkpoint
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def connect_kwargs(self, database: str | None = None) -> dict:
        kw = dict(user="snowseg", password="x", account="twin", host="127.0.0.1", port=self.port, protocol="http",
                  session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}, login_timeout=10,
                  network_timeout=60)
        if database:
            kw["database"] = database
        return kw


@pytest.fixture(scope="session")
def twin():
    """The session's twin, wired as the Airflow connection `snowflake_default`."""
    t = Twin(_TMP / "twin").start()
    os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"] = twin_connection(t.port)
    yield t
    t.stop()


@pytest.fixture()
def database(twin, monkeypatch) -> str:
    """A fresh database name for one test; pipeline code picks it up from SNOWSEG_DATABASE."""
    name = f"T_{uuid.uuid4().hex[:10].upper()}"
    monkeypatch.setenv("SNOWSEG_DATABASE", name)
    return name


@pytest.fixture()
def sf(twin):
    """A raw snowflake-connector connection to the twin, for asserting on tables."""
    import snowflake.connector

    conn = snowflake.connector.connect(**twin.connect_kwargs())
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated Airflow metadata DB (SQLite in a temp AIRFLOW_HOME)."""
    from airflow.utils import db

    db.resetdb()
    yield


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture(scope="session")
def seed_csv() -> Path:
    if not SEED_CSV.exists():
        pytest.skip(f"seed file {SEED_CSV} is not present (tests and benchmarks only)")
    return SEED_CSV
