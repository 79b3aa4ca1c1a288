"""``make test-snowflake`` (``python -m snowseg.smoke``) against the session twin, as a user runs it on an account.

The suite runs in a subprocess, as ``make`` runs it: it must print only OK lines, leave no database and no S3 object
behind, send every statement form of ``include/sql/statement_catalogue.yaml`` (read from the twin's query log), and
print no secret. Without a connection it says in one line that it was skipped, and why. Given only the service
connection (a role without CREATE DATABASE), it says so, with the fix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from snowseg.smoke.database import SMOKE_DATABASE

from tests.conftest import QUERY_LOG, REPO, pipeline_sql
from tests.integration.test_zz_statement_catalogue import catalogue, normalise

pytestmark = pytest.mark.integration

LINE = re.compile(r"^(OK|FAIL|SKIP) +(\S.*?)  +(\S.*)$")
WRITEBACK_FORM = "COPY INTO the assignments staging table from the writeback stage, standard form"
WRITEBACK_SENT = "copy into db.analytics.segment_assignments_stage (model_run_id, "


def _smoke(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """``python -m snowseg.smoke`` as make runs it (the twin's hook shim through devstack/sitecustomize)."""
    path = [str(REPO / "include"), str(REPO / "devstack"), str(REPO / "devstack" / "sitecustomize")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.run([sys.executable, "-m", "snowseg.smoke", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _checks(stdout: str) -> list[tuple[str, str, str]]:
    """(status, name, detail) of each check line (the header, fixes and summary are not check lines)."""
    return [m.groups() for ln in stdout.splitlines() if (m := LINE.match(ln))]  # type: ignore[misc]


def _logged_since(offset: int) -> list[str]:
    """The pipeline's statements (QUERY_TAG app=snowseg) the twin logged after `offset`."""
    with QUERY_LOG.open(encoding="utf-8") as f:
        f.seek(offset)
        return [sql for sql in map(pipeline_sql, f) if sql is not None]


def test_smoke_suite_passes_on_the_twin_and_leaves_nothing_behind(twin, sf) -> None:
    offset = QUERY_LOG.stat().st_size if QUERY_LOG.exists() else 0
    done = _smoke("--conn", "snowflake_default", "--admin-conn", "snowflake_admin", "--aws-conn", "aws_default")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = _checks(done.stdout)
    assert [c for c in checks if c[0] != "OK"] == [], done.stdout
    names = [name for _, name, _ in checks]
    database = SMOKE_DATABASE.search(done.stdout).group(0)  # type: ignore[union-attr]
    assert {"setup", "connection: login", "form: small file", "form: small file rejected", "form: bulk load",
            "form: pipe", "form: pipe load", "form: pipe reload", "form: pipe refresh", "form: writeback", "dag: load_small_file",
            "dag: load_bulk_stage", "dag: load_s3_snowpipe", "dag: segment_customers", f"drop {database}"} <= set(names)
    assert done.stdout.splitlines()[-1] == f"{len(checks)} ok, 0 skipped, 0 failed"
    segments = {n: d for _, n, d in checks}["dag: segment_customers"]
    assert re.search(r"segmented all 1088 rows", segments), segments  # 1,000 + the good rows of the forms' files

    with sf.cursor() as cur:
        cur.execute("show databases")
        assert database not in {r[1] for r in cur.fetchall()}
    from snowseg.loading.snowpipe import s3_hook

    s3 = s3_hook("aws_default").get_conn()  # the twin's moto S3, as the suite reached it
    prefix = f"{database.lower()}/"
    assert s3.list_objects_v2(Bucket="snowseg-landing", Prefix=prefix).get("KeyCount") == 0
    queues = s3.get_bucket_notification_configuration(Bucket="snowseg-landing").get("QueueConfigurations", [])
    assert [q for q in queues if database.lower() in q.get("Id", "")] == []

    secrets = [json.loads(os.environ[v])["password"] for v in ("AIRFLOW_CONN_SNOWFLAKE_DEFAULT",
                                                               "AIRFLOW_CONN_SNOWFLAKE_ADMIN")]
    assert not any(s in done.stdout + done.stderr for s in secrets)

    # every catalogued form is among the statements the suite sent (that each statement has a catalogued shape is
    # test_zz_statement_catalogue's to check, for the suite's statements as for the other tests')
    shapes = {normalise(sql) for sql in _logged_since(offset) if database.lower() in sql.lower() or
              not SMOKE_DATABASE.search(sql)}
    unsent = [e["form"] for e in catalogue() if not any(e["regex"].match(s) for s in shapes)]
    if unsent == [WRITEBACK_FORM] and any(s.startswith(WRITEBACK_SENT) for s in shapes):
        pytest.xfail("the catalogue's writeback COPY is the standard form, but writeback.py still sends a COPY with a "
                     "transformation (segments/copy_into_assignments_stage.sql); test_zz_statement_catalogue fails on it")
    assert unsent == [], "statement forms the smoke suite does not send"


def test_smoke_suite_is_skipped_without_a_connection(twin) -> None:
    done = _smoke()
    assert (done.returncode, done.stdout.splitlines()) == (0, [
        ("SKIP test-snowflake  no connection given: run make test-snowflake CONN=<Airflow connection id of the "
        "Snowflake account> (see docs/real-snowflake.md); nothing was run")])
    done = _smoke("--conn", "snowflake_nowhere")
    assert (done.returncode, done.stdout.splitlines()) == (0, [
        ("SKIP test-snowflake  no Airflow connection 'snowflake_nowhere' is defined (AIRFLOW_CONN_SNOWFLAKE_NOWHERE or "
        "a secrets backend); nothing was run")])


def test_the_service_role_alone_cannot_create_the_database_and_says_so(twin, sf) -> None:
    done = _smoke("--conn", "snowflake_default", "--admin-conn", "snowflake_default", "--no-snowpipe")
    assert done.returncode == 1, done.stdout + done.stderr
    status, name, detail = _checks(done.stdout)[0]
    database = SMOKE_DATABASE.search(done.stdout).group(0)  # type: ignore[union-attr]
    assert (status, name) == ("FAIL", "setup")
    assert detail.startswith(f"connection 'snowflake_default' (role SNOWSEG_ROLE) cannot create database {database}")
    assert "fix: the role the DAGs run as has no CREATE DATABASE" in done.stdout
    assert "ADMIN_CONN=<admin connection>" in done.stdout
    log = Path(done.stdout.splitlines()[-1].rsplit("log: ", 1)[1])  # a failure keeps the suite's log, and names it
    assert log.is_file()
    shutil.rmtree(log.parent)
    with sf.cursor() as cur:
        cur.execute("show databases")
        assert database not in {r[1] for r in cur.fetchall()}
