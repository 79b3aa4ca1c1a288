"""`make demo`: the main job on the local twin, end to end, as real Airflow DAG runs.

1. start the twin (fakesnow + moto S3) if it is not running, and apply the warehouse's versioned setup as the
   admin (``python -m snowseg.migrations --snowpipe``, what ``make setup-warehouse`` runs): the DAGs then run
   as the least-privileged service role, which creates nothing;
2. generate a seeded sample CSV (or take ``--file``); with ``--contract`` (``make demo CONTRACT=...``, a contract
   name or the path of a contract YAML, whose folder then joins ``SNOWSEG_CONTRACTS_DIR`` for the setup and the
   Airflow runs) the file is checked against that contract's header first, and the DAGs get ``{"contract": name}``;
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
    parser.add_argument("--contract", help="a dataset contract: a name (include/datasets/ or SNOWSEG_CONTRACTS_DIR) "
                        "or the path of a contract YAML (its folder joins SNOWSEG_CONTRACTS_DIR); default supermarket")
    parser.add_argument("--load", choices=sorted(LOADERS), default="small",
                        help="load path: small (load_small_file, default), bulk (load_bulk_stage) or "
                        "snowpipe (load_s3_snowpipe, S3 auto-ingest)")
    args = parser.parse_args(argv)

    airflow_home = Path(os.environ.get("AIRFLOW_HOME", REPO_ROOT / ".airflow"))
    logs = airflow_home / "logs" / "demo"
    logs.mkdir(parents=True, exist_ok=True)

    try:
        contract_name = _choose_contract(args.contract) if args.contract else None
    except ValueError as e:  # ContractError: names the field and what to write
        print(f"make demo: CONTRACT={args.contract}: {e}", file=sys.stderr)
        return 2
    if args.file and (problem := _header_problem(args.file, contract_name)):
        print(f"make demo: {problem}", file=sys.stderr)
        return 2

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
    elif contract_name in SHAPE_SAMPLES:  # the example contracts of other shapes have their own sample files
        path = (REPO_ROOT / "data" / f"sample_{contract_name}.csv").resolve()
        if not path.exists():
            SHAPE_SAMPLES[contract_name](path)
        print(f"generated sample: {path} (contract {contract_name}, planted customer groups)")
    elif contract_name not in (None, "supermarket"):
        print(f"make demo: CONTRACT={args.contract} has no generated sample: give the file too, "
              f"make demo FILE=... CONTRACT={args.contract}", file=sys.stderr)
        return 2
    else:
        from snowseg_samples import write_sales_csv

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
    chosen = {"contract": contract_name} if contract_name else {}
    runs = ((loader, ["--conf", json.dumps({param: str(path), **chosen})]),
            ("segment_customers", ["--conf", json.dumps(chosen)] if chosen else []))
    for dag_id, extra in runs:
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
    rc = _print_summary(_quality_report(logs / "segment_customers.log"), contract_name)
    _print_timings([dag_id for dag_id, _ in runs], logs / "timings.json", rows=args.rows if not args.file else None,
                   load=args.load, file=path)
    return rc


def task_timings(dag_id: str) -> list[dict]:
    """The tasks of `dag_id`'s latest run in the Airflow metadata DB: task, state, seconds (start to end)."""
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)
                              .order_by(DagRun.id.desc()).limit(1)).first()
        if run is None:
            return []
        tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id,
                                                         TaskInstance.run_id == run.run_id)).all()
        done = [ti for ti in tis if ti.start_date and ti.end_date]
        return [{"dag_id": dag_id, "task_id": ti.task_id, "state": str(ti.state),
                 "seconds": round((ti.end_date - ti.start_date).total_seconds(), 3)}
                for ti in sorted(done, key=lambda ti: ti.start_date)]


def _print_timings(dag_ids: list[str], out: Path, **facts: object) -> None:
    """Each task's seconds in the runs just made (a table, and JSON in `out` for bench/bench_demo.py)."""
    try:
        rows = [t for dag_id in dag_ids for t in task_timings(dag_id)]
    except Exception as e:  # the timings are a courtesy: the job's outcome is printed above
        print(f"(task timings unavailable: {type(e).__name__}: {e})")
        return
    if not rows:
        return
    print("\nstage timings (task start to end, from Airflow's metadata DB)")
    print(f"  {'DAG':18} {'task':16} {'state':8} {'seconds':>8}")
    for t in rows:
        print(f"  {t['dag_id']:18} {t['task_id']:16} {t['state']:8} {t['seconds']:8.1f}")
    out.write_text(json.dumps({**{k: str(v) if isinstance(v, Path) else v for k, v in facts.items()},
                               "tasks": rows}, indent=2))
    print(f"  (saved {out})")


def _sample_orders(path: Path) -> None:
    from snowseg_twin.shapes import write_orders_csv

    write_orders_csv(path)


def _sample_customers(path: Path) -> None:
    from snowseg_twin.shapes import write_customers_csv

    write_customers_csv(path)


# example contracts of other shapes -> their generated sample (devstack/snowseg_twin/shapes.py)
SHAPE_SAMPLES = {"orders": _sample_orders, "customers": _sample_customers}


def _choose_contract(given: str) -> str:
    """The contract name the DAGs get for ``--contract``: a name as it is; a YAML path's stem, its folder joining
    SNOWSEG_CONTRACTS_DIR (for the setup and the Airflow runs, which inherit the environment). Raises ContractError
    if the contract does not load."""
    from snowseg.config import CONTRACT_NAME_RE, ContractError, contract_path, load_contract

    path = Path(given).expanduser()
    if CONTRACT_NAME_RE.match(given) and not path.is_file():
        load_contract(contract_path(given))
        return given
    if not path.is_file() or path.suffix not in (".yaml", ".yml"):
        raise ContractError(f"{given!r} is neither a contract name nor a contract YAML file", field="CONTRACT",
                            advice="give a name (make demo CONTRACT=orders) or the path of a .yaml file; draft one "
                                   "with `make contract FILE=... OUT=contracts/`")
    if not CONTRACT_NAME_RE.match(path.stem):
        raise ContractError(f"the file name {path.name!r} is not a contract name", field="CONTRACT",
                            advice="rename it to letters, digits, '_' and '-' (the stem is the contract's name)")
    folder = str(path.resolve().parent)
    dirs = [d for d in os.environ.get("SNOWSEG_CONTRACTS_DIR", "").split(os.pathsep) if d]
    os.environ["SNOWSEG_CONTRACTS_DIR"] = os.pathsep.join([folder, *(d for d in dirs if d != folder)])
    found = contract_path(path.stem)
    if found.resolve() != path.resolve():
        raise ContractError(f"contract name {path.stem!r} is taken by {found}", field="CONTRACT",
                            advice="rename the YAML file (its stem is the contract's name)")
    load_contract(found)
    print(f"contract {path.stem!r} from {path} (SNOWSEG_CONTRACTS_DIR={os.environ['SNOWSEG_CONTRACTS_DIR']})")
    return path.stem


def _header_problem(file: Path, contract_name: str | None) -> str | None:
    """Why `file`'s header is not the contract's (and how to pick or draft one), or None when it is."""
    import csv

    from snowseg.config import contract_path, known_contracts, load_contract
    from snowseg.loading.checks import open_text

    contract = load_contract(contract_path(contract_name) if contract_name else None)
    try:
        with open_text(file) as f:
            header = [h.strip() for h in next(csv.reader(f, delimiter=contract.csv.delimiter,
                                                         quotechar=contract.csv.quote), [])]
    except (OSError, UnicodeError, csv.Error) as e:
        return f"{file}: cannot read its header ({type(e).__name__}): give a UTF-8 CSV file"
    if header == contract.header:
        return None
    return (f"{file}: line 1: the header does not match contract {contract_name or 'supermarket'!r} "
            f"(expected {contract.header}). Pick the contract that describes the file, `make demo FILE={file} "
            f"CONTRACT=<name or path.yaml>` (known: {known_contracts()}), or draft one from it: "
            f"`make contract FILE={file} OUT=contracts/`, then `make demo FILE={file} "
            f"CONTRACT=contracts/{file.stem}.yaml`")


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


def _print_summary(quality_report: str | None = None, contract_name: str | None = None) -> int:
    import logging

    for noisy in ("snowflake", "botocore", "airflow"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from snowseg import warehouse
    from snowseg.config import contract_path, load_contract
    from snowseg.objects import CURRENT_SEGMENTS, LOAD_AUDIT, MODEL_RUNS, SEGMENT_ASSIGNMENTS
    from snowseg.summary import format_table, segment_table
    from snowseg.warehouse import Names

    names, contract = Names.from_env(), load_contract(contract_path(contract_name) if contract_name else None)
    with warehouse.cursor() as cur:
        rows = segment_table(cur, names, contract)
        print(format_table(rows))
        model_runs = names.analytics_qualified(MODEL_RUNS)
        dataset = {"dataset": contract.name}
        cur.execute(f"select K, K_REASON from {model_runs} where CONTRACT = %(dataset)s "
                    "order by PUBLISHED_AT desc limit 1", dataset)
        for k, reason in cur.fetchall():
            print(f"\nk = {k}: {reason}")
        counts = {}
        for label, sql in (  # this dataset's rows (datasets are segmented apart)
            ("raw rows", f"select count(*) from {names.raw_qualified(contract.table)}"),
            ("load audit rows", f"select count(*) from {names.audit_qualified(LOAD_AUDIT)}"),
            ("assignments (all history)",
             f"select count(*) from {names.analytics_qualified(SEGMENT_ASSIGNMENTS)} where DATASET = %(dataset)s"),
            ("current assignments",
             f"select count(*) from {names.analytics_qualified(CURRENT_SEGMENTS)} where DATASET = %(dataset)s"),
            ("model runs", f"select count(*) from {model_runs} where CONTRACT = %(dataset)s"),
        ):
            cur.execute(sql, dataset)
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
