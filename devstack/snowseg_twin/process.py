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

from snowseg_twin import REPO_ROOT, default_sigint
from snowseg_twin.keys import DEV_KEY_PASSPHRASE, admin_key_path, key_path

# Where load_s3_snowpipe lands files unless SNOWSEG_LANDING_URL says otherwise (the pipeline's default too).
DEFAULT_LANDING_URL = "s3://snowseg-landing/sales/"
AWS_TWIN_ENV = {"AWS_ACCESS_KEY_ID": "local-twin", "AWS_SECRET_ACCESS_KEY": "local-twin-no-secret",
                "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connection(port: int, home: Path) -> dict:
    """The Airflow connection (as a dict) for a twin on `port` with state in `home`.

    Key-pair auth, as production uses: ``private_key_file`` and its passphrase in the password field.
    Only host/port/protocol differ from a real Snowflake connection.
    """
    return {
        "conn_type": "snowflake", "login": "snowseg", "password": DEV_KEY_PASSPHRASE, "schema": "RAW",
        "extra": {"account": "twin", "database": "SNOWSEG", "warehouse": "SNOWSEG_WH", "role": "SNOWSEG_ROLE",
                  "host": "127.0.0.1", "port": port, "protocol": "http", "private_key_file": str(key_path(home))},
    }


def connection_json(port: int, home: Path) -> str:
    """:func:`connection` as the JSON an ``AIRFLOW_CONN_*`` variable holds."""
    return json.dumps(connection(port, home))


def admin_connection(port: int, home: Path) -> dict:
    """The Airflow connection (as a dict) ``snowflake_admin`` for the setup step on a twin on `port`, state in `home`.

    The admin user SNOWSEG_ADMIN (provisioned by the twin, with SYSADMIN and ACCOUNTADMIN granted) logs in with its own
    key pair and role SYSADMIN, as an admin runs ``include/sql/admin/admin_setup.sql`` on a real account.
    """
    return {
        "conn_type": "snowflake", "login": "snowseg_admin", "password": DEV_KEY_PASSPHRASE,
        "extra": {"account": "twin", "warehouse": "SNOWSEG_WH", "role": "SYSADMIN", "host": "127.0.0.1", "port": port,
                  "protocol": "http", "private_key_file": str(admin_key_path(home))},
    }


def admin_connection_json(port: int, home: Path) -> str:
    """:func:`admin_connection` as the JSON an ``AIRFLOW_CONN_SNOWFLAKE_ADMIN`` variable holds."""
    return json.dumps(admin_connection(port, home))


def aws_connection(s3_port: int) -> dict:
    """The Airflow AWS connection for the twin's moto S3 server (only endpoint_url differs from AWS)."""
    return {"conn_type": "aws", "extra": {"endpoint_url": f"http://127.0.0.1:{s3_port}", "region_name": "us-east-1"}}


def create_landing_bucket(endpoint: str, landing_url: str | None = None) -> str:
    """Create the landing bucket in moto (an AWS admin's one-time job in production); return its name."""
    import boto3

    url = landing_url or os.environ.get("SNOWSEG_LANDING_URL") or DEFAULT_LANDING_URL
    bucket = url.removeprefix("s3://").split("/", 1)[0]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=AWS_TWIN_ENV["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=AWS_TWIN_ENV["AWS_SECRET_ACCESS_KEY"])
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    return bucket


def _wait_http(url: str, proc: subprocess.Popen, log: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s; see {log}")


class TwinProcess:
    """A twin server process (and, with ``s3=True``, its moto S3 server): ``start()`` waits for the health
    checks, ``stop()`` stops them gracefully. ``kill()`` is the crash a fault test needs; ``start()`` again
    brings the same state back."""

    def __init__(self, home: Path, port: int | None = None, *, s3: bool = False, env: dict[str, str] | None = None):
        self.home, self.port = Path(home), port or free_port()
        self.env = dict(env or {})  # extra environment for the server, eg: {"SNOWSEG_TWIN_PRIVILEGES": "enforce"}
        self.s3_port = free_port() if s3 else None
        self.proc: subprocess.Popen | None = None
        self.moto: subprocess.Popen | None = None

    @property
    def s3_endpoint(self) -> str | None:
        return f"http://127.0.0.1:{self.s3_port}" if self.s3_port else None

    def connection_json(self) -> str:
        return connection_json(self.port, self.home)

    def admin_connection_json(self) -> str:
        return admin_connection_json(self.port, self.home)

    def aws_connection_json(self) -> str:
        if not self.s3_port:
            raise RuntimeError("this twin was started without S3 (TwinProcess(..., s3=True))")
        return json.dumps(aws_connection(self.s3_port))

    def start(self, timeout: float = 60) -> TwinProcess:
        env = {**AWS_TWIN_ENV, **os.environ, **self.env,
               "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "include"), str(REPO_ROOT / "devstack")])}
        self.home.parent.mkdir(parents=True, exist_ok=True)
        self.log = (self.home.parent / f"{self.home.name}.log").open("ab")
        if self.s3_port and (self.moto is None or self.moto.poll() is not None):
            self.moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.s3_port)],
                stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True, preexec_fn=default_sigint,
            )
            _wait_http(f"{self.s3_endpoint}/moto-api/", self.moto, self.log.name, timeout)
            create_landing_bucket(self.s3_endpoint)
        cmd = [sys.executable, "-m", "snowseg_twin.server", "--port", str(self.port), "--home", str(self.home)]
        if self.s3_port:
            cmd += ["--s3-endpoint", self.s3_endpoint]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                     preexec_fn=default_sigint)
        _wait_http(f"http://127.0.0.1:{self.port}/twin/health", self.proc, self.log.name, timeout)
        return self

    def kill(self) -> None:
        """SIGKILL the twin server (not moto): a crash, with no checkpoint."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        for proc in (self.proc, self.moto):
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # graceful stop: DuckDB checkpoint
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def connect_kwargs(self, database: str | None = None, *, admin: bool = False) -> dict:
        """snowflake.connector.connect() arguments for this twin: the service user (role SNOWSEG_ROLE), or with
        `admin` the admin user as SYSADMIN (which the service role is granted to: it sees everything the DAGs make)."""
        user, role = ("snowseg_admin", "SYSADMIN") if admin else ("snowseg", "SNOWSEG_ROLE")
        kw = dict(user=user, role=role, warehouse="SNOWSEG_WH", password="x", account="twin", host="127.0.0.1",
                  port=self.port, protocol="http", session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
                  login_timeout=10, network_timeout=600)
        if database:
            kw["database"] = database
        return kw
