"""Run fakesnow in server mode with state that survives a restart.

fakesnow 0.12.1 keeps everything in memory in server mode: `-d` is ignored, stages and file formats
live in an in-memory `_fs_global` database, and staged files go to a fresh temp dir per process.
Snowflake keeps all of that, and our loads rely on it (COPY load metadata decides what is a re-run).
This launcher keeps:

- each database as a DuckDB file under ``<home>/db/<NAME>.db`` (tables, views, load history);
- ``_fs_global`` (stages, file formats, users) as ``<home>/_fs_global.duckdb``;
- staged files under ``<home>/stages/<DB>/<SCHEMA>/<STAGE>/``;

and turns ALTER SESSION, ALTER WAREHOUSE and USE SECONDARY ROLES into no-ops (the twin has no compute).
Roles and grants are the twin's own (extensions.roles); privileges are checked (extensions.access_control) unless the
server is started with env SNOWSEG_TWIN_PRIVILEGES=off, and, as on Snowflake, logging in creates no database or
schema. The provisioned users SNOWSEG and SNOWSEG_ADMIN log in with the keys under ``<home>/keys/``. It also serves ``GET /twin/health`` and Snowpipe's REST API
(``/v1/data/pipes/{pipe}/insertFiles|insertReport|loadHistoryScan``), and, when an S3/SQS endpoint is
configured (``--s3-endpoint`` or env AWS_ENDPOINT_URL, moto locally), runs the Snowpipe auto-ingest
worker.

Run: ``python -m snowseg_twin.server --port 8765 [--home .twin]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import os
import signal
import uuid
from pathlib import Path

import duckdb
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from snowseg_twin import memory_limit, twin_home
from snowseg_twin.extensions import _fakesnow_compat as compat
from snowseg_twin.extensions._fakesnow_compat import GLOBAL_DATABASE_NAME, FakeSnow, info_schema, macros, show

logger = logging.getLogger("snowseg_twin")

# Statements Snowflake needs and the twin has nothing to do for: compute and session settings. (CREATE / DROP /
# USE WAREHOUSE, GRANT, REVOKE, roles and USE ROLE are the extensions' own.)
NOP_REGEXES = [
    r"^\s*ALTER\s+SESSION\b",
    r"^\s*ALTER\s+WAREHOUSE\b",
    r"^\s*USE\s+SECONDARY\s+ROLES\b",
]


class PersistentFakeSnow(FakeSnow):
    """A FakeSnow whose global catalog and databases are files under `home`."""

    def __init__(self, home: Path):
        # Re-implements FakeSnow.__init__ (fakesnow is pinned exactly): the only change is that
        # _fs_global is a file, and that existing database files are attached at start.
        self.home = home
        db_dir = home / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        # Snowflake creates nothing at login; the twin does, for convenience, unless privileges are enforced.
        from snowseg_twin.extensions import access_control

        self.create_database_on_connect = not access_control.configure()
        self.create_schema_on_connect = self.create_database_on_connect
        self.db_path = db_dir
        self.nop_regexes = NOP_REGEXES
        self.results_cache: dict[str, tuple] = {}
        self.duck_conn = duckdb.connect(database=":memory:", config={"lambda_syntax": "ENABLE_SINGLE_ARROW"})
        global_file = home / "_fs_global.duckdb"
        self.duck_conn.execute(f"ATTACH IF NOT EXISTS '{global_file}' AS {GLOBAL_DATABASE_NAME}")
        self.duck_conn.execute(info_schema.fs_global_creation_sql())
        self.duck_conn.execute(show.fs_global_creation_sql())
        self.duck_conn.execute("SET GLOBAL TimeZone = 'UTC'")
        # bounded memory, whatever the tables' size: DuckDB spills big joins and aggregations to home/tmp
        # (a warehouse's local disk) instead of taking 80 % of the machine's RAM, its default
        limit = memory_limit()
        if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, re.IGNORECASE):
            raise ValueError(f"SNOWSEG_TWIN_MEMORY_LIMIT={limit!r}: give a size such as 3GB or 512MB")
        (home / "tmp").mkdir(exist_ok=True)
        self.duck_conn.execute(f"SET GLOBAL memory_limit = '{limit}'")
        self.duck_conn.execute(f"SET GLOBAL temp_directory = '{home / 'tmp'}'")
        for db_file in sorted(db_dir.glob("*.db")):
            self._attach(db_file)

    def _attach(self, db_file: Path) -> None:
        """Attach one persisted database, as CREATE DATABASE would have."""
        name = db_file.stem
        self.duck_conn.execute(f"ATTACH IF NOT EXISTS '{db_file}' AS {name}")
        self.duck_conn.execute(info_schema.per_db_creation_sql(name))
        self.duck_conn.execute(macros.creation_sql(name))
        logger.info("attached %s from %s", name, db_file)

    def close(self) -> None:
        """Checkpoint and close every attached file."""
        self.duck_conn.execute("CHECKPOINT")
        self.duck_conn.close()


async def health(_: Request) -> JSONResponse:
    """Liveness + identity, used by `snowseg_twin up/status` and the test fixture."""
    return JSONResponse(
        {
            "status": "ok",
            "service": "snowseg-twin-snowflake",
            "fakesnow": compat.installed_version(),
            "home": str(compat.shared_fs().home),
            "pid": os.getpid(),
        }
    )


#: Snowflake answers a statement that is still running with "query in progress" (code 333333) and the connector then
#: asks the getResultUrl it was given until the result is there; the connector gives up on an answer after 60 s and
#: sends the statement again (the twin would then refuse the busy session, or run it twice). So the twin answers
#: "in progress" after this many seconds (SNOWSEG_TWIN_IN_PROGRESS_SECONDS) and keeps the statement running.
QUERY_IN_PROGRESS = "333333"
_running: dict[str, asyncio.Future[Response]] = {}


def in_progress_seconds() -> float:
    return float(os.environ.get("SNOWSEG_TWIN_IN_PROGRESS_SECONDS", "40"))


async def query_request(request: Request) -> Response:
    """fakesnow's query route, answering "in progress" for a long statement (see QUERY_IN_PROGRESS)."""
    await request.body()  # read now: the statement may outlive this exchange
    return await _answer(asyncio.ensure_future(run_query(request)), None)


async def query_result(request: Request) -> Response:
    """GET /queries/<id>/result: a long statement's result once it is there, else "in progress" again."""
    qid = request.path_params["qid"]
    running = _running.get(qid)
    if running is None:
        return JSONResponse({"data": {"errorCode": "000709", "sqlState": "02000", "queryId": qid}, "code": "000709",
                             "message": f"Statement {qid} not found", "success": False})
    return await _answer(running, qid)


async def _answer(running: asyncio.Future[Response], qid: str | None) -> Response:
    done, _ = await asyncio.wait({running}, timeout=in_progress_seconds())
    if running in done:
        if qid is not None:
            _running.pop(qid, None)
        return running.result()
    if qid is None:
        qid = str(uuid.uuid4())
        logger.info("statement %s still running after %ss: answered in progress", qid, in_progress_seconds())
    _running[qid] = running
    return JSONResponse({"data": {"queryId": qid, "getResultUrl": f"/queries/{qid}/result"},
                         "code": QUERY_IN_PROGRESS, "message": "Query execution in progress", "success": True})


async def run_query(request: Request) -> Response:
    """fakesnow's query route, with its HTTP 500 for an unhandled twin error turned into a query error.

    The connector retries 5xx answers for minutes (right for Snowflake's transient faults); a twin
    bug is not transient, so it is reported at once, with a pointer to the twin's log.
    """
    response = await compat.query_request(request)
    if response.status_code != 500:
        return response
    body = json.loads(response.body)
    message = f"local twin internal error (see {compat.shared_fs().home / 'logs'}): {body.get('message')}"
    return JSONResponse(
        {"data": {"errorCode": "999999", "sqlState": "XX000"}, "code": "999999", "message": message, "success": False}
    )


def build_app(home: Path) -> Starlette:
    """Wire persistence and the twin extensions into fakesnow's server app."""
    from snowseg_twin import extensions

    home = home.resolve()
    stages = home / "stages"
    stages.mkdir(parents=True, exist_ok=True)
    unused_tmp = compat.local_bucket_path()
    compat.set_local_bucket_path(os.path.realpath(stages))
    if os.path.isdir(unused_tmp) and not os.listdir(unused_tmp):
        os.rmdir(unused_tmp)
    compat.set_shared_fs(PersistentFakeSnow(home))
    extensions.install()
    routes = [
        Route(r.path, query_request, methods=["POST"]) if r.path == "/queries/v1/query-request" else r
        for r in compat.server_routes()
    ] + [Route("/queries/{qid}/result", query_result, methods=["GET"])]
    from snowseg_twin.extensions import auto_ingest, snowpipe_rest

    return Starlette(routes=[*routes, *snowpipe_rest.routes, *auto_ingest.routes,
                             Route("/twin/health", health, methods=["GET"])])


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM, then checkpoint the databases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--home", type=Path, default=twin_home())
    parser.add_argument(
        "--s3-endpoint", help="S3/SQS endpoint (moto) for external stages and Snowpipe; default env AWS_ENDPOINT_URL"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.s3_endpoint:
        os.environ["AWS_ENDPOINT_URL"] = args.s3_endpoint
    # the twin is as strict as Snowflake: privileges are checked unless SNOWSEG_TWIN_PRIVILEGES=off says otherwise
    os.environ.setdefault("SNOWSEG_TWIN_PRIVILEGES", "enforce")

    from snowseg_twin.extensions import _account_catalog
    from snowseg_twin.keys import admin_key_path, ensure_key, public_key

    # the connection's key-pair auth (and Snowpipe REST) need a key file; the provisioned users log in with them
    service_key, admin_key = ensure_key(args.home), ensure_key(args.home, admin_key_path(args.home))
    _account_catalog.set_provisioned_keys(public_key(service_key), public_key(admin_key))
    app = build_app(args.home)
    from snowseg_twin.extensions import auto_ingest

    worker = auto_ingest.start()  # Snowpipe auto-ingest, when an S3/SQS endpoint is configured
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning"))
    # uvicorn installs its own SIGINT/SIGTERM handlers for a graceful stop; we close DuckDB after.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the SIGINT it handled gracefully; the stop is intended
    finally:
        if worker is not None:
            worker.stop()
        from snowseg_twin.extensions import pipes

        pipes.wait_idle()  # let a running pipe load finish before the databases close
        compat.shared_fs().close()
        logger.info("twin stopped; state checkpointed in %s", args.home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
