"""`python -m snowseg_twin up|down|status|env` -- start, stop and inspect the local twin.

up      start the fakesnow server and the moto S3 server (if not already running), wait until healthy
down    stop what `up` started: SIGINT to each process group, SIGKILL after a grace period
status  one line per service: running/stopped, pid, port, health
env     print the shell exports that point Airflow at the twin (connections, AWS endpoint)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from snowseg_twin import default_sigint, s3_port, snowflake_port, twin_home


@dataclass(frozen=True)
class Service:
    """One process the twin runs."""

    name: str
    port: int
    health_path: str

    def command(self, home: Path) -> list[str]:
        """The command line that starts it."""
        if self.name == "snowflake":
            # the twin reads external S3 stages and runs Snowpipe auto-ingest against the moto server
            return [sys.executable, "-m", "snowseg_twin.server", "--port", str(self.port), "--home", str(home),
                    "--s3-endpoint", f"http://127.0.0.1:{s3_port()}"]
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def pid_file(self, home: Path) -> Path:
        return home / "run" / f"{self.name}.pid"

    def log_file(self, home: Path) -> Path:
        return home / "logs" / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.health_path}"


def services() -> list[Service]:
    """The twin's services with their configured ports."""
    return [
        Service("snowflake", snowflake_port(), "/twin/health"),
        Service("s3", s3_port(), "/moto-api/"),
    ]


def healthy(service: Service, timeout: float = 1.0) -> bool:
    """True when the service answers its health URL with 200."""
    try:
        with urllib.request.urlopen(service.url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def up(home: Path, wait_s: float = 60.0) -> int:
    """Start every service that is not running; exit non-zero with the log's tail if one fails."""
    (home / "run").mkdir(parents=True, exist_ok=True)
    (home / "logs").mkdir(parents=True, exist_ok=True)
    started: list[tuple[Service, subprocess.Popen]] = []
    for svc in services():
        pid = _read_pid(svc.pid_file(home))
        if pid and healthy(svc):
            print(f"{svc.name:9} already running (pid {pid}, port {svc.port})")
            continue
        if _port_in_use(svc.port):
            print(
                f"{svc.name:9} port {svc.port} is in use by another process; stop it or choose another port "
                f"(SNOWSEG_TWIN_PORT / SNOWSEG_S3_PORT)",
                file=sys.stderr,
            )
            return 1
        log = svc.log_file(home).open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            svc.command(home), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, preexec_fn=default_sigint,
        )
        svc.pid_file(home).write_text(str(proc.pid))
        started.append((svc, proc))

    deadline = time.monotonic() + wait_s
    for svc, proc in started:
        while not healthy(svc):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = svc.log_file(home).read_text(errors="replace").splitlines()[-20:]
                print(f"{svc.name:9} failed to start; last log lines ({svc.log_file(home)}):", file=sys.stderr)
                print("\n".join(tail), file=sys.stderr)
                down(home)
                return 1
            time.sleep(0.2)
        print(f"{svc.name:9} up (pid {proc.pid}, http://127.0.0.1:{svc.port})")
    from snowseg_twin.process import create_landing_bucket

    bucket = create_landing_bucket(f"http://127.0.0.1:{s3_port()}")
    print(f"{'s3':9} landing bucket s3://{bucket}/ ready")
    return 0


def down(home: Path, grace_s: float = 15.0) -> int:
    """Stop each service's process group: SIGINT, then SIGKILL after `grace_s`."""
    for svc in services():
        pid = _read_pid(svc.pid_file(home))
        if pid is None:
            svc.pid_file(home).unlink(missing_ok=True)
            print(f"{svc.name:9} not running")
            continue
        try:
            os.killpg(pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        svc.pid_file(home).unlink(missing_ok=True)
        print(f"{svc.name:9} stopped (pid {pid})")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie we did not reap still answers kill(0); treat it as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def status(home: Path) -> int:
    """Print one line per service; exit 0 only if all are healthy."""
    ok = True
    for svc in services():
        pid = _read_pid(svc.pid_file(home))
        good = healthy(svc)
        ok &= good
        state = "healthy" if good else ("running, not answering" if pid else "stopped")
        print(f"{svc.name:9} {state:24} pid={pid or '-'} port={svc.port}")
    return 0 if ok else 1


def setup_warehouse() -> int:
    """The warehouse's versioned setup on the twin, as an admin applies it (``make setup-warehouse``): the DAGs run
    as the service role, which creates nothing. Prints the summary line; 0 on success."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "snowseg.migrations", "--conn", "snowflake_admin", "--snowpipe"],
                          capture_output=True, text=True)
    if done.returncode:
        print(done.stdout + done.stderr, file=sys.stderr)
        return done.returncode
    print(done.stdout.strip().splitlines()[-1])
    return 0


def env_exports() -> str:
    """Shell exports that point Airflow and boto3 at the twin."""
    from snowseg_twin.process import AWS_TWIN_ENV, admin_connection, aws_connection, connection

    conn = connection(snowflake_port(), twin_home())
    lines = {
        "AIRFLOW_CONN_SNOWFLAKE_DEFAULT": json.dumps(conn),
        # the setup step's admin login (user SNOWSEG_ADMIN, role SYSADMIN): the twin provisions it
        "AIRFLOW_CONN_SNOWFLAKE_ADMIN": json.dumps(admin_connection(snowflake_port(), twin_home())),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws_connection(s3_port())),
        **AWS_TWIN_ENV,
    }
    return "\n".join(f"export {k}='{v}'" for k, v in lines.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snowseg_twin", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "env"])
    args = parser.parse_args(argv)
    home = twin_home()
    if args.command == "env":
        print(env_exports())
        return 0
    return {"up": up, "down": down, "status": status}[args.command](home)


if __name__ == "__main__":
    raise SystemExit(main())
