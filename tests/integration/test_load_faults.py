"""Faults during loads: the twin crashing between PUT and COPY, an S3 upload failing once, a paused pipe.

After each, the loads are re-run as an engineer would (the DAG again) and the raw table holds every row
exactly once, with one LOAD_AUDIT row per file.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import snowflake.connector

from snowseg_samples import write_sales_csv
from tests.conftest import Twin
from tests.integration.conftest import dag_test, query

pytestmark = pytest.mark.integration


# --- the twin killed between PUT and COPY -------------------------------------------------------------------------


class _KillBeforeCopy:
    """A connection whose cursors SIGKILL the twin when a COPY INTO is sent, after every PUT went through.

    The crash is real (no checkpoint, sessions lost); what is simulated is only the connector's giving up
    (it would retry the refused connection until its timeout), as an OperationalError.
    """

    def __init__(self, conn, twin):
        self._conn, self._twin, self.killed = conn, twin, False

    def cursor(self, *a, **kw):
        outer, cur = self, self._conn.cursor(*a, **kw)

        class Cursor:
            def __getattr__(self, name):
                return getattr(cur, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, sql, *args, **kwargs):
                if sql.lstrip().lower().startswith("copy into") and not outer.killed:
                    outer._twin.kill()
                    outer.killed = True
                if outer.killed:
                    raise snowflake.connector.errors.OperationalError("connection refused: the twin was killed")
                return cur.execute(sql, *args, **kwargs)

        return Cursor()

    def close(self):
        self._conn.close()


@pytest.fixture()
def own_twin(tmp_path, monkeypatch):
    """A private twin (not the session's) that a test may kill and restart; wired as snowflake_default."""
    t = Twin(tmp_path / "twin").start()
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", t.connection_json())
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_ADMIN", t.admin_connection_json())
    yield t
    t.stop()


@pytest.mark.parametrize("path", ["small", "bulk"])
def test_twin_killed_between_put_and_copy_then_rerun_loads_once(dagbag, airflow_db, own_twin, bare_database, tmp_path,
                                                                path):
    """The first attempt stages the file(s) and dies before COPY; after a restart the DAG loads each row once."""
    from snowseg import warehouse
    from snowseg.airflow.tasks import resolve
    from snowseg.loading.bulk import load_path_files
    from snowseg.loading.checks import check_file
    from snowseg.loading.small_file import load_file
    from tests.conftest import set_up_warehouse

    database = bare_database
    set_up_warehouse(database)  # on the private twin
    src = write_sales_csv(tmp_path / "sales.csv", 2000, seed=3)
    contract, names = resolve("supermarket")
    conn = _KillBeforeCopy(warehouse.connect(), own_twin)
    with pytest.raises(snowflake.connector.errors.OperationalError):
        if path == "small":
            load_file(conn, check_file(src, contract), contract, names)
        else:
            load_path_files(conn, str(src), contract, names, chunk_bytes=20_000)
    assert conn.killed

    own_twin.start()  # same state folder and port: what `make twin-up` does after a crash
    with snowflake.connector.connect(**own_twin.connect_kwargs()) as sf:
        staged = query(sf, f"list @{database}.RAW.%SALES_RAW_INTAKE" if path == "small" else f"list @{database}.RAW.SNOWSEG_BULK")
        assert staged, "the PUT before the crash should have survived it"
        assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(0,)]

    dag_id, param = ("load_small_file", "file_path") if path == "small" else ("load_bulk_stage", "path")
    dr = dag_test(dagbag.get_dag(dag_id), {param: str(src), **({"chunk_mb": 0.02} if path == "bulk" else {})})
    assert dr.state == "success"
    dr2 = dag_test(dagbag.get_dag(dag_id), {param: str(src)})
    assert dr2.state == "success"
    with snowflake.connector.connect(**own_twin.connect_kwargs()) as sf:
        assert query(sf, f"select count(*), count(distinct INVOICE_ID) from {database}.RAW.SALES_RAW") == [(2000, 2000)]
        assert query(sf, f"select STATUS, ROWS_LOADED from {database}.AUDIT.LOAD_AUDIT") == [("LOADED", 2000)]


# --- an S3 upload that fails once --------------------------------------------------------------------------------


class _FlakyS3:
    """An HTTP proxy in front of moto that answers the first PUT of an object with 503 SlowDown."""

    def __init__(self, upstream_port: int):
        self.failed: list[str] = []
        self.puts: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "PUT" and "?" not in self.path:  # PutObject (not a bucket configuration)
                    proxy.puts.append(self.path)
                    if not proxy.failed:
                        proxy.failed.append(self.path)
                        err = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                        self.send_response(503)
                        self.send_header("Content-Length", str(len(err)))
                        self.end_headers()
                        self.wfile.write(err)
                        return
                up = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                up.request(self.command, self.path, body=body, headers=dict(self.headers))
                resp = up.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                up.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_s3_upload_failing_once_is_retried_and_loads_once(run_dag, twin, sf, database, tmp_path, monkeypatch):
    """S3 answers the upload with 503 once; boto3's retry uploads it, the pipe loads it, every row once."""
    flaky = _FlakyS3(twin.s3_port)
    try:
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT",
                           twin.aws_connection_json().replace(str(twin.s3_port), str(flaky.port)))
        src = write_sales_csv(tmp_path / "sales.csv", 500, seed=4)
        dr, states = run_dag("load_s3_snowpipe", path=str(src), landing_url=f"s3://snowseg-landing/{database.lower()}/",
                             poll_seconds=0.5, wait_minutes=2)
    finally:
        flaky.close()
    assert dr.state == "success", states
    assert len(flaky.failed) == 1 and flaky.puts.count(flaky.failed[0]) == 2  # the same object, sent twice
    assert query(sf, f"select count(*), count(distinct INVOICE_ID) from {database}.RAW.SALES_RAW") == [(500, 500)]
    assert query(sf, f"select STATUS, ROWS_LOADED from {database}.AUDIT.LOAD_AUDIT") == [("LOADED", 500)]


# --- a pipe paused while files arrive ----------------------------------------------------------------------------


def test_paused_pipe_holds_files_then_loads_them_once_after_resume(run_dag, sf, database, tmp_path):
    """While the pipe is paused the DAG fails naming the pending file and the pause; after resume the file loads,
    and re-running the DAG accounts for it once."""
    from snowseg.airflow.tasks import resolve
    from snowseg.loading import snowpipe
    from tests.conftest import landing_url_for

    landing_url = landing_url_for(database)
    contract, names = resolve("supermarket")
    with sf.cursor() as cur:
        pipe = snowpipe.find_pipe(cur, names, contract, snowpipe.Landing.from_env(landing_url))
        cur.execute(f"alter pipe {pipe.qualified} set pipe_execution_paused = true")

    src = write_sales_csv(tmp_path / "sales.csv", 300, seed=6)
    conf = dict(path=str(src), landing_url=landing_url, poll_seconds=0.5)
    dr, states = run_dag("load_s3_snowpipe", wait_minutes=0.1, **conf)
    assert dr.state == "failed" and states["wait_for_pipe"] == "failed"
    assert states["account_loads"] == "upstream_failed"
    with sf.cursor() as cur:
        status = snowpipe.pipe_status(cur, pipe)
        assert status["executionState"] == "PAUSED" and status["pendingFileCount"] == 1
        assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW") == [(0,)]
        cur.execute(f"alter pipe {pipe.qualified} set pipe_execution_paused = false")

    dr2, states2 = run_dag("load_s3_snowpipe", wait_minutes=2, **conf)
    assert dr2.state == "success", states2
    assert query(sf, f"select count(*), count(distinct INVOICE_ID) from {database}.RAW.SALES_RAW") == [(300, 300)]
    assert query(sf, f"select STATUS, ROWS_LOADED from {database}.AUDIT.LOAD_AUDIT") == [("LOADED", 300)]

