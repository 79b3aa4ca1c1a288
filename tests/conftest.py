"""Session set-up shared by every test.

Airflow reads its configuration at import time, so AIRFLOW_HOME and friends are set here, before any
test module imports airflow. The twin fixture starts the real launcher (`python -m
snowseg_twin.server`) once per session on a free port with its own state folder, and points the
Airflow connection `snowflake_default` at it. Tests isolate themselves by database name.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED_CSV = REPO.parent / "shared" / "data" / "supermarket_sales.csv"
_TMP = Path(tempfile.mkdtemp(prefix="snowseg-tests-"))
# every statement the session twin runs, with its session's QUERY_TAG (tests/integration/test_zz_statement_catalogue.py):
# one log per pytest-xdist worker in a folder the controller makes (its environment reaches the workers it starts)
QUERY_LOGS = Path(os.environ.setdefault("SNOWSEG_TEST_QUERY_LOGS", tempfile.mkdtemp(prefix="snowseg-query-logs-")))
QUERY_LOG = QUERY_LOGS / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.jsonl"

os.environ["AIRFLOW_HOME"] = str(_TMP / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["SNOWSEG_REPORT_DIR"] = str(_TMP / "reports")
# the load DAGs read inputs only under SNOWSEG_INPUT_ROOTS: the tests' temp folders and the seed file's folder
os.environ["SNOWSEG_INPUT_ROOTS"] = os.pathsep.join([tempfile.gettempdir(), str(SEED_CSV.parent)])
for var in ("SNOWSEG_DATABASE", "AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "AIRFLOW_CONN_SNOWFLAKE_ADMIN", "AIRFLOW_CONN_AWS_DEFAULT",
            "SNOWSEG_TWIN_HOME", "SNOWSEG_TWIN_PRIVILEGES",
            "SNOWSEG_DEFAULT_FILE", "SNOWSEG_LANDING_URL", "AWS_ENDPOINT_URL", "SNOWSEG_CONTRACTS_DIR"):
    os.environ.pop(var, None)

def pipeline_sql(log_line: str) -> str | None:
    """The statement of one query-log line when the pipeline sent it (its session's QUERY_TAG has app "snowseg",
    :func:`snowseg.warehouse.query_tag`), else None (a test looking at tables)."""
    entry = json.loads(log_line)
    try:
        tag = json.loads(entry.get("query_tag") or "{}")
    except ValueError:
        return None
    return entry["sql"] if isinstance(tag, dict) and tag.get("app") == "snowseg" else None


# The dev-only hook shim, as `make` applies it through devstack/sitecustomize for every process.
sys.path.insert(0, str(REPO / "devstack" / "sitecustomize"))
import sitecustomize  # noqa: E402,F401
from snowseg_twin.process import AWS_TWIN_ENV, TwinProcess, connection_json, free_port  # noqa: E402,F401

for var, value in AWS_TWIN_ENV.items():  # moto accepts any credentials; boto3 needs some
    os.environ.setdefault(var, value)

# the tests' twin is the dev stack's own private-twin launcher
Twin = TwinProcess


@pytest.fixture(scope="session")
def twin():
    """The session's twin with its moto S3, wired as the Airflow connections `snowflake_default` and
    `aws_default`."""
    t = Twin(_TMP / "twin", s3=True, env={"SNOWSEG_TWIN_QUERY_LOG": str(QUERY_LOG)}).start()
    os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"] = t.connection_json()
    os.environ["AIRFLOW_CONN_SNOWFLAKE_ADMIN"] = t.admin_connection_json()
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = t.aws_connection_json()
    yield t
    t.stop()


def set_up_warehouse(database: str, contracts: tuple[str, ...] = ("supermarket",), landing: str | None = None,
                     snowpipe: bool = True) -> None:
    """The versioned setup for `database`, as an admin applies it (``snowflake_admin``), with Snowpipe objects on
    `landing` (default: a prefix of the database's own, so that no other test's pipe sees its files)."""
    from snowseg import migrations
    from snowseg.config import contract_path, load_contract
    from snowseg.loading.snowpipe import Landing
    from snowseg.warehouse import Names, connect

    conn = connect("snowflake_admin")
    try:
        migrations.apply(conn, Names.from_env(database), [load_contract(contract_path(c)) for c in contracts],
                         service_role=migrations.service_role(),
                         landing=Landing.from_env(landing or landing_url_for(database)) if snowpipe else None)
    finally:
        conn.close()


def landing_url_for(database: str) -> str:
    """A test database's own landing prefix."""
    return f"s3://snowseg-landing/{database.lower()}/"


def drop_database(twin, name: str) -> None:
    """Drop a test's database from the session twin (as its admin): a twin with fewer databases answers faster (every
    catalog lookup scans them all), and each test's database is its own anyway."""
    import snowflake.connector

    with snowflake.connector.connect(**twin.connect_kwargs(admin=True)) as conn:
        conn.cursor().execute(f"drop database if exists {name}")


@pytest.fixture()
def bare_database(twin, monkeypatch) -> Iterator[str]:
    """A fresh database name that nothing set up; pipeline code picks it up from SNOWSEG_DATABASE. Dropped after the
    test."""
    name = f"T_{uuid.uuid4().hex[:10].upper()}"
    monkeypatch.setenv("SNOWSEG_DATABASE", name)
    monkeypatch.setenv("SNOWSEG_LANDING_URL", landing_url_for(name))
    yield name
    drop_database(twin, name)


@pytest.fixture()
def database(bare_database) -> str:
    """A fresh database, set up as the versioned setup does (for the supermarket contract, with its pipe)."""
    set_up_warehouse(bare_database)
    return bare_database


@pytest.fixture()
def sf(twin):
    """A raw snowflake-connector connection to the twin as an admin (SYSADMIN), for asserting on tables."""
    import snowflake.connector

    conn = snowflake.connector.connect(**twin.connect_kwargs(admin=True))
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


#: The longest test files, started first: pytest-xdist (--dist loadfile) hands out files in collection order, and a
#: long file handed out last leaves the other workers idle while it runs.
_LONGEST_FIRST = ("tests/e2e/test_browser.py", "tests/e2e/test_demo.py", "tests/e2e/test_demo_contract.py",
                  "tests/integration/test_smoke.py")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest files first, the rest in collection order (a stable sort: each file's tests stay together)."""
    def rank(item: pytest.Item) -> int:
        path = Path(str(item.path)).resolve()
        rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else ""
        return _LONGEST_FIRST.index(rel) if rel in _LONGEST_FIRST else len(_LONGEST_FIRST)

    items.sort(key=rank)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With pytest-xdist, the statement catalogue is checked here, in the controller, over every worker's log (a test on
    one worker would see only that worker's statements)."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return  # a worker, or a run without workers: test_zz_statement_catalogue checks it as a test
    from tests.integration.test_zz_statement_catalogue import catalogue_problems, pipeline_statements

    logged, problems = len(pipeline_statements()), catalogue_problems()
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", f"statement catalogue: {logged} pipeline statements logged, "
                                f"{'problems' if problems else 'each catalogued'}")
        for line in problems:
            reporter.write_line(line)
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
