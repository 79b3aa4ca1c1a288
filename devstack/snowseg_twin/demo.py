"""`make demo`: the main job on the local twin, end to end, as real Airflow DAG runs.

1. start the twin (fakesnow + moto S3) if it is not running, and apply the warehouse's versioned setup as the
   admin (``python -m snowseg.migrations --snowpipe``, what ``make setup-warehouse`` runs): the DAGs then run
   as the least-privileged service role, which creates nothing;
2. generate a seeded sample CSV (or take ``--file``);
3. migrate the project-local Airflow metadata DB (SQLite) if needed;
4. ``airflow dags test load_small_file`` (or load_bulk_stage / load_s3_snowpipe, ``--load``) with the file, then ``airflow dags test segment_customers``
   (an Asset-scheduled DAG is only triggered by the scheduler, so the demo runs it explicitly);
5. print the segments table, the row counts, and where the run report, elbow plot and quality gate
   report (GX results, pictures of the batch) are.

Airflow's own output goes to ``$AIRFLOW_HOME/logs/demo/``; on failure its tail is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from snowseg_twin import REPO_ROOT
from snowseg_twin import __main__ as ctl
from snowseg_twin import snowflake_port, twin_home
from snowseg_twin.process import admin_connection_json


# load path -> (DAG, its file param)
LOADERS = {"small": ("load_small_file", "file_path"), "bulk": ("load_bulk_stage", "path"),
           "snowpipe": ("load_s3_snowpipe", "path")}


def _airflow(args: list[str], log: Path) -> tuple[int, float]:
    """Run the airflow CLI from the venv, output to `log`; return (exit code, seconds)."""
    airflow = Path(sys.executable).with_name("airflow")
    t = time.perf_counter()
    with log.open("w") as f:
        rc = subprocess.call([str(airflow), *args], stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return rc, time.perf_counter() - t


def _fail(step: str, log: Path) -> int:
    """Say why first (the failed task's own message), then the log's tail for the details."""
    text = log.read_text(errors="replace")
    lines = text.splitlines()
    reasons = list(dict.fromkeys(m.strip() for m in re.findall(r"AirflowFailException: (.+)", text)))
    print(f"\n{step} failed" + (":" if reasons else "."), file=sys.stderr)
    for reason in reasons:
        print(f"  {reason}", file=sys.stderr)
    print(f"\nLast lines of {log}:", file=sys.stderr)
    print("\n".join(lines[-40:]), file=sys.stderr)
    return 1


# how `airflow dags test` logs a task that skipped: Airflow 3.3's task runner ("Skipping task." with the reason as a
# structlog field), or the exception's own line
_SKIP_LINES = (re.compile(r"Skipping task\..*?\breason=(['\"])(?P<reason>.+?)\1(?:\s|$)"),
               re.compile(r"AirflowSkipException: (?P<reason>.+)"))


def skipped_reasons(text: str) -> list[str]:
    """The messages of tasks that skipped, in a DAG test's log (eg: "sales.csv: skipped: ... as batch ...").

    Examples
    --------
    >>> skipped_reasons("x [info ] Skipping task. [task] loc=task_runner.py:1622 reason='a.csv: skipped: as batch b1'")
    ['a.csv: skipped: as batch b1']
    >>> skipped_reasons("airflow.exceptions.AirflowSkipException: a.csv: skipped\\nSkipping task. reason='a.csv: skipped'")
    ['a.csv: skipped']
    """
    found = [m["reason"].strip() for line in text.splitlines() for pattern in _SKIP_LINES
             for m in [pattern.search(line)] if m]
    return list(dict.fromkeys(found))


def _skipped(log: Path) -> list[str]:
    return skipped_reasons(log.read_text(errors="replace"))


def _dag_state(log: Path) -> str:
    """The final run state that `airflow dags test` printed, or 'unknown'."""
    finished = [ln for ln in log.read_text(errors="replace").splitlines() if "DagRun Finished:" in ln]
    match = re.search(r"\bstate=(\w+)", finished[-1]) if finished else None
    return match.group(1) if match else "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Snowseg demo on the local twin.")
    parser.add_argument("--file", type=Path, help="a CSV to load instead of the generated sample")
    parser.add_argument("--rows", type=int, default=1000, help="rows of the generated sample (default 1000)")
    parser.add_argument("--seed", type=int, default=None,
                        help="generator seed; default 42 for 1,000 rows, else 42 + rows, so that samples of other sizes "
                        "are new sales (the same seed repeats the same invoices, which the quality gate holds back)")
    parser.add_argument("--load", choices=sorted(LOADERS), default="small",
                        help="load path: small (load_small_file, default), bulk (load_bulk_stage) or "
                        "snowpipe (load_s3_snowpipe, S3 auto-ingest)")
    args = parser.parse_args(argv)

    airflow_home = Path(os.environ.get("AIRFLOW_HOME", REPO_ROOT / ".airflow"))
    logs = airflow_home / "logs" / "demo"
    logs.mkdir(parents=True, exist_ok=True)

    print("== 1/5 local twin and warehouse setup")
    # the setup step's admin connection (`make` exports it; a direct `python -m snowseg_twin.demo` gets the twin's)
    os.environ.setdefault("AIRFLOW_CONN_SNOWFLAKE_ADMIN", admin_connection_json(snowflake_port(), twin_home()))
    if ctl.up(twin_home()) != 0 or ctl.setup_warehouse() != 0:
        return 1

    print("== 2/5 input file")
    if args.file:
        path = args.file.resolve()
        print(f"using {path}")
        _allow_input_folder(path.parent)
    else:
        from snowseg.generator import write_sales_csv

        if args.seed is None:
            args.seed = 42 if args.rows == 1000 else 42 + args.rows
        path = (REPO_ROOT / "data" / f"sample_{args.rows}_seed{args.seed}.csv").resolve()
        if not path.exists():
            write_sales_csv(path, args.rows, seed=args.seed)
        print(f"generated sample: {path} ({args.rows} rows, seed {args.seed})")

    print("== 3/5 Airflow metadata DB")
    rc, secs = _airflow(["db", "migrate"], logs / "db_migrate.log")
    if rc:
        return _fail("airflow db migrate", logs / "db_migrate.log")
    print(f"migrated in {secs:.1f}s ({airflow_home})")

    print("== 4/5 DAG runs")
    loader, param = LOADERS[args.load]
    conf = json.dumps({param: str(path)})
    for dag_id, extra in ((loader, ["--conf", conf]), ("segment_customers", [])):
        log = logs / f"{dag_id}.log"
        rc, secs = _airflow(["dags", "test", dag_id, *extra], log)
        state = _dag_state(log)
        skipped = _skipped(log)
        print(f"{dag_id:18} {'skipped' if skipped and state == 'success' else state:8} {secs:5.1f}s   log: {log}")
        for reason in skipped:
            print(f"  {reason}")
        if rc or state == "failed":
            return _fail(f"DAG {dag_id}", log)

    print("== 5/5 segments")
    return _print_summary(_quality_report(logs / "segment_customers.log"))


def _allow_input_folder(folder: Path) -> None:
    """The DAGs read inputs only under SNOWSEG_INPUT_ROOTS: the file the demo's user named on the command line
    is theirs to load, so its folder joins the roots of this demo's Airflow runs (and only of them)."""
    from snowseg.inputs import input_roots

    roots = input_roots()
    if not any(folder == r or r in folder.parents for r in roots):
        os.environ["SNOWSEG_INPUT_ROOTS"] = os.pathsep.join([*map(str, roots), str(folder)])
        print(f"input roots for this demo: {os.environ['SNOWSEG_INPUT_ROOTS']}")


def _quality_report(log: Path) -> str | None:
    """The quality gate's report path, as segment_customers' quality_gate task printed it."""
    found = re.findall(r"Quality report: file://(\S+)", log.read_text(errors="replace"))
    return found[-1] if found else None


def _print_summary(quality_report: str | None = None) -> int:
    import logging

    for noisy in ("snowflake", "botocore", "airflow"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from snowseg import warehouse
    from snowseg.config import load_contract
    from snowseg.summary import format_table, segment_table
    from snowseg.warehouse import Names

    names, contract = Names.from_env(), load_contract()
    with warehouse.cursor() as cur:
        rows = segment_table(cur, names, contract)
        print(format_table(rows))
        cur.execute(f"select K, K_REASON from {names.database}.{names.analytics}.MODEL_RUNS "
                    "order by PUBLISHED_AT desc limit 1")
        for k, reason in cur.fetchall():
            print(f"\nk = {k}: {reason}")
        counts = {}
        for label, table in (
            ("raw rows", f"{names.database}.{names.raw}.{contract.table}"),
            ("load audit rows", f"{names.database}.{names.audit}.LOAD_AUDIT"),
            ("assignments (all history)", f"{names.database}.{names.analytics}.SEGMENT_ASSIGNMENTS"),
            ("current assignments", f"{names.database}.{names.analytics}.CURRENT_SEGMENTS"),
            ("model runs", f"{names.database}.{names.analytics}.MODEL_RUNS"),
        ):
            cur.execute(f"select count(*) from {table}")
            counts[label] = cur.fetchone()[0]
    print()
    print("row counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if rows:
        run_dir = Path(os.environ.get("SNOWSEG_REPORT_DIR", REPO_ROOT / "reports")) / rows[0]["model_run_id"]
        print(f"report:     {run_dir / 'index.html'}")
        print(f"elbow plot: {run_dir / 'elbow.png'}")
    print(f"quality:    {quality_report or 'not found in the segment_customers log'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
