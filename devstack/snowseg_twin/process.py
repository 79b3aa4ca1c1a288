"""A twin server on a free port with its own state folder: for tests and benchmarks.

`python -m snowseg_twin up` runs the twin on the configured ports for people; this runs a private
one (``python -m snowseg_twin.server``, the same launcher) that the caller starts and stops.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from snowseg_twin import REPO_ROOT


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connection(port: int) -> dict:
    """The Airflow connection (as a dict) for a twin on `port`: only host/port/protocol differ from real Snowflake."""
    return {
        "conn_type": "snowflake", "login": "snowseg", "password": "local-twin-no-secret", "schema": "RAW",
        "extra": {"account": "twin", "database": "SNOWSEG", "warehouse": "SNOWSEG_WH", "role": "SNOWSEG_ROLE",
                  "host": "127.0.0.1", "port": port, "protocol": "http"},
    }


def connection_json(port: int) -> str:
    """:func:`connection` as the JSON an ``AIRFLOW_CONN_*`` variable holds."""
    return json.dumps(connection(port))


class TwinProcess:
    """A twin server process: ``start()`` waits for its health check, ``stop()`` stops it gracefully."""

    def __init__(self, home: Path, port: int | None = None):
        self.home, self.port = Path(home), port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> TwinProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "include"), str(REPO_ROOT / "devstack")])}
        self.home.parent.mkdir(parents=True, exist_ok=True)
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
            self.proc.send_signal(signal.SIGINT)  # graceful stop: DuckDB checkpoint
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def connect_kwargs(self, database: str | None = None) -> dict:
        """snowflake.connector.connect() arguments for this twin."""
        kw = dict(user="snowseg", password="x", account="twin", host="127.0.0.1", port=self.port, protocol="http",
                  session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}, login_timeout=10,
                  network_timeout=600)
        if database:
            kw["database"] = database
        return kw
