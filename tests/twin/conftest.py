"""Fixtures for the twin's conformance tests: one in-process fakesnow server with the extensions.

Tests talk to it through the real snowflake.connector over HTTP (PUT uploads go over HTTP too),
and isolate themselves by database name.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import uvicorn
import snowflake.connector
from snowflake.connector import DictCursor

from snowseg_twin import extensions


@pytest.fixture(scope="session")
def twin_kwargs() -> Iterator[dict]:
    """Connect kwargs for a fakesnow server patched by extensions.install()."""
    extensions.install()
    # fakesnow's own `fakesnow.server()` helper is shadowed by the `fakesnow.server` submodule once
    # anything imports it, so serve the submodule's app directly, in a thread of this process (the
    # tests read the extensions' in-process state, e.g. the last COPY job).
    app = importlib.import_module("fakesnow.server").app
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="twin conformance server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("conformance twin did not start")
        time.sleep(0.05)
    try:
        yield dict(
            user="fake", password="snow", account="fakesnow", host="127.0.0.1", port=port, protocol="http",
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}, network_timeout=5,
        )
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture()
def database() -> str:
    """A database name no other test uses."""
    return f"TWIN_{uuid.uuid4().hex[:12].upper()}"


@pytest.fixture()
def cur(twin_kwargs: dict, database: str) -> Iterator[snowflake.connector.cursor.DictCursor]:
    """A dict cursor on <database>.RAW, created for this test."""
    conn = snowflake.connector.connect(**twin_kwargs, database=database, schema="RAW")
    try:
        with conn.cursor(DictCursor) as cursor:
            yield cursor
    finally:
        conn.close()
