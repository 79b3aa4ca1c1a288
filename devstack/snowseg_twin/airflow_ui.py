"""`make airflow`: Airflow standalone (api-server, scheduler, dag-processor, triggerer) on the twin.

Starts ``airflow standalone`` in its own process group with the project's DAGs and the twin's
connections (exported by the Makefile), waits until the UI answers on http://127.0.0.1:8080,
prints the login, and stops the whole group on Ctrl-C (SIGINT to the group, as Airflow needs; a
SIGTERM to the parent alone would orphan its workers).
"""

from __future__ import annotations

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


def _sample_file() -> Path:
    """The demo's 1,000-row sample, generated if missing, pre-filled in the load DAGs' trigger forms."""
    from snowseg.generator import write_sales_csv
    from snowseg_twin import REPO_ROOT

    path = REPO_ROOT / "data" / "sample_1000_seed42.csv"
    if not path.exists():
        write_sales_csv(path, 1000, seed=42)
    return path


def main() -> int:
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    sample = _sample_file()
    env = {**os.environ, "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(PORT),
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
           "SNOWSEG_DEFAULT_FILE": os.environ.get("SNOWSEG_DEFAULT_FILE", str(sample)),
           # standalone starts its components as `airflow ...` subprocesses: the venv must be on PATH
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    airflow = Path(sys.executable).with_name("airflow")
    log = home / "standalone.log"
    print(f"starting Airflow standalone (log: {log}) ...")
    with log.open("ab") as out:
        proc = subprocess.Popen([str(airflow), "standalone"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=default_sigint)
    def _interrupt(_signum, _frame):
        raise KeyboardInterrupt

    # Ctrl-C, `kill` and a closed terminal all stop the whole group (SIGINT may be ignored when started
    # in the background, so install the handlers explicitly)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v2/version", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        else:
            print(f"Airflow did not come up; see {log}", file=sys.stderr)
            return 1
        pw_file = home / "simple_auth_manager_passwords.json.generated"
        password = json.loads(pw_file.read_text()).get("admin") if pw_file.exists() else "(see the log)"
        print(f"\nAirflow UI: http://127.0.0.1:{PORT}   login: admin / {password}")
        print("DAGs: load_small_file (file_path), load_bulk_stage (path), load_s3_snowpipe (path, notify auto|rest);")
        print("      segment_customers runs on the raw_sales Asset that each load raises")
        print("Ctrl-C stops Airflow; `make twin-down` stops the twin.")
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
