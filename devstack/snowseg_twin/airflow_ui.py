"""`make airflow` / `make airflow-stop`: the Airflow stack on the twin, in the background.

``up`` starts ``airflow standalone`` (api-server, scheduler, dag-processor, triggerer) in its own
process group, with the project's DAGs and the twin's connections (exported by the Makefile), waits
until the UI answers, prints the URL and the login, and returns; the group id goes to
``$AIRFLOW_HOME/snowseg_airflow.pid``. ``down`` sends SIGINT to the whole group (Airflow shuts its
components down on it), waits, then SIGTERM/SIGKILL to whatever of the session is left (task runners
move to process groups of their own but stay in the session), and checks that nothing remains. ``up --foreground`` keeps it attached: Ctrl-C stops the group.

    python -m snowseg_twin.airflow_ui up [--foreground]
    python -m snowseg_twin.airflow_ui down
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from snowseg_twin import default_sigint

PORT = int(os.environ.get("AIRFLOW__API__PORT", "8080"))


def _home() -> Path:
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


def _pid_file() -> Path:
    return _home() / "snowseg_airflow.pid"


def _session_pids(sid: int) -> list[int]:
    """Every live process of session `sid` (Airflow's task runners move to process groups of their own,
    but stay in the session that `up` started)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields after the name: state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def _group_alive(pgid: int) -> bool:
    """Whether any process of the stack (its session, led by `pgid`) is alive."""
    return bool(_session_pids(pgid))


def _running() -> int | None:
    """The process group of a stack this module started, if it is still running."""
    f = _pid_file()
    if not f.exists():
        return None
    try:
        pgid = int(f.read_text().split()[0])
    except (ValueError, IndexError):
        return None
    return pgid if _group_alive(pgid) else None


def _sample_file() -> Path:
    """The demo's 1,000-row sample, generated if missing, pre-filled in the load DAGs' trigger forms."""
    from snowseg_samples import write_sales_csv
    from snowseg_twin import REPO_ROOT

    path = REPO_ROOT / "data" / "sample_1000_seed42.csv"
    if not path.exists():
        write_sales_csv(path, 1000, seed=42)
    return path


def _ui_up(timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v2/version", timeout=2):
                return True
        except OSError:
            time.sleep(1)
    return False


def login() -> tuple[str, str]:
    """The admin login of the simple auth manager (its password file is generated at first start)."""
    pw_file = _home() / "simple_auth_manager_passwords.json.generated"
    password = json.loads(pw_file.read_text()).get("admin") if pw_file.exists() else "(see the log)"
    return "admin", password


def up(foreground: bool = False, timeout: float = 240) -> int:
    """Start the stack (if not running), wait for the UI, print URL and login."""
    home = _home()
    log = home / "standalone.log"
    if (pgid := _running()) is not None:
        print(f"Airflow is already running (process group {pgid}, log {log})")
    else:
        from snowseg_twin import __main__ as twin

        if twin.setup_warehouse() != 0:  # the DAGs run as the service role: the setup makes their objects
            return 1
        sample = _sample_file()
        env = {**os.environ, "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(PORT),
               # task runners reach the api-server's execution API here (Airflow's default assumes port 8080)
               "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{PORT}/execution/",
               "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": os.environ.get(
                   "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin"),
               "SNOWSEG_DEFAULT_FILE": os.environ.get("SNOWSEG_DEFAULT_FILE", str(sample)),
               # standalone starts its components as `airflow ...` subprocesses: the venv must be on PATH
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        airflow = Path(sys.executable).with_name("airflow")
        print(f"starting Airflow standalone (log: {log}) ...")
        with log.open("ab") as out:
            proc = subprocess.Popen([str(airflow), "standalone"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=default_sigint)
        pgid = proc.pid
        _pid_file().write_text(f"{pgid}\n")
        if not _ui_up(timeout, proc):
            print(f"Airflow did not come up within {timeout:.0f} s; see {log}", file=sys.stderr)
            down()
            return 1
    user, password = login()
    print(f"\nAirflow UI: http://127.0.0.1:{PORT}   login: {user} / {password}")
    print("DAGs: load_small_file (file_path), load_bulk_stage (path), load_s3_snowpipe (path, notify auto|rest);")
    print("      segment_customers runs on the raw_sales Asset that each load raises")
    if not foreground:
        print("`make airflow-stop` stops Airflow; `make twin-down` stops the twin.")
        return 0

    def _interrupt(_signum, _frame):
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    print("Ctrl-C stops Airflow.")
    try:
        while _group_alive(pgid):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    return down()


def down(wait: float = 20) -> int:
    """Stop the stack's whole process group; 0 when nothing of it is left."""
    f = _pid_file()
    pgid = _running()
    if pgid is None:
        f.unlink(missing_ok=True)
        print("Airflow is not running")
        return 0
    print(f"stopping Airflow (session {pgid}: {len(_session_pids(pgid))} processes) ...")
    try:
        os.killpg(pgid, signal.SIGINT)  # standalone and its components shut down on SIGINT
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.5)
    for sig in (signal.SIGTERM, signal.SIGKILL):  # what is left (e.g. task runners in groups of their own)
        for pid in _session_pids(pgid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(2)
    if left := _session_pids(pgid):
        print(f"processes {left} of session {pgid} are still alive", file=sys.stderr)
        return 1
    f.unlink(missing_ok=True)
    print("Airflow stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    p_up = sub.add_parser("up", help="start the stack in the background (default)")
    p_up.add_argument("--foreground", action="store_true", help="stay attached; Ctrl-C stops the stack")
    sub.add_parser("down", help="stop the stack started by `up`")
    args = parser.parse_args(argv)
    if args.command == "down":
        return down()
    return up(foreground=getattr(args, "foreground", False))


if __name__ == "__main__":
    raise SystemExit(main())
