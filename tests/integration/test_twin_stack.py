"""The twin's own promises: state survives a restart, no-op statements, the hook shim, up/down."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import snowflake.connector

from tests.conftest import REPO, Twin, free_port

pytestmark = pytest.mark.integration


def _exec(conn, *sql):
    with conn.cursor() as cur:
        out = None
        for s in sql:
            out = cur.execute(s).fetchall()
        return out


def test_state_survives_restart(tmp_path):
    """Tables, staged files, file formats and COPY load history persist (fakesnow alone keeps none)."""
    csv = tmp_path / "a.csv"
    csv.write_text("id,name\n1,x\n2,y\n")
    twin = Twin(tmp_path / "home").start()
    try:
        conn = snowflake.connector.connect(**twin.connect_kwargs(admin=True))
        _exec(
            conn,
            "create database if not exists P", "create schema if not exists P.S",
            "create table P.S.T (ID number, NAME varchar)",
            "create file format P.S.FF type = csv skip_header = 1",
            "create stage P.S.ST",
            f"put 'file://{csv}' @P.S.ST/in/ auto_compress = true",
        )
        first = _exec(conn, "copy into P.S.T from @P.S.ST/in/ file_format = (format_name = 'P.S.FF')")
        assert first[0][1] == "LOADED"
        conn.close()
    finally:
        twin.stop()

    twin = Twin(tmp_path / "home", port=free_port()).start()
    try:
        conn = snowflake.connector.connect(**twin.connect_kwargs(admin=True))
        assert _exec(conn, "select count(*) from P.S.T") == [(2,)]
        assert len(_exec(conn, "list @P.S.ST")) == 1
        again = _exec(conn, "copy into P.S.T from @P.S.ST/in/ file_format = (format_name = 'P.S.FF')")
        # load history survived: the file is not loaded again ("Copy executed with 0 files processed.")
        assert again == [("Copy executed with 0 files processed.",)]
        assert _exec(conn, "select count(*) from P.S.T") == [(2,)]
        conn.close()
    finally:
        twin.stop()


def test_a_long_statement_is_answered_in_progress_and_runs_once(tmp_path):
    """Snowflake answers a statement still running with "query in progress" (333333) and a getResultUrl the
    connector polls; the twin does so after SNOWSEG_TWIN_IN_PROGRESS_SECONDS (here 0.05 s; 40 by default, under the
    connector's 60-s request timeout, after which it would send the statement again). The slow INSERT's result
    comes through the polls, and its rows are there once."""
    import requests

    twin = Twin(tmp_path / "home", env={"SNOWSEG_TWIN_IN_PROGRESS_SECONDS": "0.05"}).start()
    try:
        conn = snowflake.connector.connect(**twin.connect_kwargs(admin=True))
        _exec(conn, "create database if not exists P", "create schema if not exists P.S",
              "create table P.S.N (X number)", "create table P.S.T (X number)",
              "insert into P.S.N select seq4() from table(generator(rowcount => 2000))")
        with conn.cursor() as cur:
            cur.execute("insert into P.S.T select a.X * 2000 + b.X from P.S.N a, P.S.N b")
            assert cur.fetchall() == [(4_000_000,)] and cur.rowcount == 4_000_000
        assert _exec(conn, "select count(*), count(distinct X) from P.S.T") == [(4_000_000, 4_000_000)]
        conn.close()
        gone = requests.get(f"http://127.0.0.1:{twin.port}/queries/no-such-id/result", timeout=10).json()
        assert (gone["success"], gone["code"]) == (False, "000709")
    finally:
        twin.stop()
    assert "answered in progress" in (tmp_path / "home.log").read_text(errors="replace")


def test_pipe_load_metadata_survives_a_crash(tmp_path):
    """A pipe, its load history and Snowpipe's 14-day memory of loaded files survive a SIGKILL of the twin:
    after the restart COPY_HISTORY still shows the load, and the same object sent again is not loaded twice."""
    import time

    import boto3

    twin = Twin(tmp_path / "home", s3=True).start()
    s3 = boto3.client("s3", endpoint_url=twin.s3_endpoint, region_name="us-east-1")
    body = b"id,name\n1,x\n2,y\n"

    def wait(conn, rows: int) -> None:
        deadline = time.monotonic() + 20
        while _exec(conn, "select count(*) from P.S.T") != [(rows,)]:
            assert time.monotonic() < deadline, "the pipe did not load in time"
            time.sleep(0.2)

    try:
        conn = snowflake.connector.connect(**twin.connect_kwargs(admin=True))
        _exec(
            conn,
            "create database if not exists P", "create schema if not exists P.S",
            "create table P.S.T (ID number, NAME varchar)",
            "create stage P.S.LANDING url = 's3://snowseg-landing/crash/' storage_integration = SNOWSEG_S3_INT",
            "create pipe P.S.PIPE auto_ingest = true as copy into P.S.T from @P.S.LANDING "
            "file_format = (type = csv skip_header = 1)",
        )
        s3.put_object(Bucket="snowseg-landing", Key="crash/a.csv", Body=body)
        _exec(conn, "alter pipe P.S.PIPE refresh")
        wait(conn, 2)
        twin.kill()  # SIGKILL: no checkpoint, sessions lost

        twin.start()
        conn = snowflake.connector.connect(**twin.connect_kwargs(admin=True))
        history = _exec(conn, "select FILE_NAME, STATUS, ROW_COUNT from table(P.information_schema.copy_history("
                              "table_name => 'P.S.T', start_time => dateadd(hour, -1, current_timestamp()))) "
                              "where PIPE_NAME = 'PIPE'")
        assert [(h[1], h[2]) for h in history] == [("Loaded", 2)] and history[0][0].endswith("a.csv")
        s3.put_object(Bucket="snowseg-landing", Key="crash/a.csv", Body=body)
        assert _exec(conn, "alter pipe P.S.PIPE refresh") == []  # Snowpipe remembers the file: nothing queued
        time.sleep(1.5)
        assert _exec(conn, "select count(*) from P.S.T") == [(2,)]
        conn.close()
    finally:
        twin.stop()


@pytest.mark.parametrize(
    "sql",
    ["alter session set query_tag = 'x'", "use warehouse SNOWSEG_WH", "create warehouse if not exists W",
     "use role SNOWSEG_ROLE"],
)
def test_session_and_compute_statements_succeed(sf, sql):
    """The twin has no compute: warehouse and session statements succeed (as the admin) without a cost.
    Roles and grants are real: tests/twin/test_privileges_conformance.py."""
    with sf.cursor() as cur:
        cur.execute(sql)


def test_hook_shim_speaks_http_only_when_asked(twin, monkeypatch):
    """SnowflakeHook drops extra.protocol; the dev shim restores it for protocol=http connections only."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(snowflake_conn_id="snowflake_default")
    assert hook._get_conn_params()["protocol"] == "http"
    with hook.get_conn() as conn, conn.cursor() as cur:
        assert cur.execute("select 41 + 1").fetchall() == [(42,)]

    monkeypatch.setenv(
        "AIRFLOW_CONN_SNOWFLAKE_REAL",
        '{"conn_type": "snowflake", "login": "u", "password": "p", "extra": {"account": "xy12345"}}',
    )
    assert "protocol" not in SnowflakeHook(snowflake_conn_id="snowflake_real")._get_conn_params()


def test_unreachable_twin_says_how_to_start_it(monkeypatch):
    """A connection to a port nobody serves fails fast with the make target to run."""
    from snowseg.warehouse import WarehouseUnreachable, connect

    monkeypatch.setenv(
        "AIRFLOW_CONN_SNOWFLAKE_DOWN",
        '{"conn_type": "snowflake", "login": "u", "password": "p", '
        f'"extra": {{"account": "twin", "host": "127.0.0.1", "port": {free_port()}, "protocol": "http"}}}}',
    )
    with pytest.raises(WarehouseUnreachable, match=r"'snowflake_down' points at 127.0.0.1:\d+.*make twin-up"):
        connect("snowflake_down")


def test_up_status_down(tmp_path):
    """`python -m snowseg_twin up/status/down` starts both services, reports them, and stops them."""
    env = {
        **os.environ, "SNOWSEG_TWIN_HOME": str(tmp_path / "t"), "SNOWSEG_TWIN_PORT": str(free_port()),
        "SNOWSEG_S3_PORT": str(free_port()), "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'devstack'}",
    }

    def ctl(cmd):
        return subprocess.run([sys.executable, "-m", "snowseg_twin", cmd], env=env, capture_output=True, text=True,
                              timeout=120)

    up = ctl("up")
    assert up.returncode == 0, up.stderr
    status = ctl("status")
    assert status.returncode == 0 and status.stdout.count("healthy") == 2
    pids = [int((tmp_path / "t" / "run" / f"{s}.pid").read_text()) for s in ("snowflake", "s3")]
    down = ctl("down")
    assert down.returncode == 0 and down.stdout.count("stopped") == 2
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert ctl("status").returncode == 1
