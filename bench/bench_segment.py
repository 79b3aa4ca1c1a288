"""The whole pipeline as Airflow runs it, at scale: a bulk load, then the segment_customers DAG.

For each size, in a fresh twin and Airflow home (temp folder, free ports), runs the demo path
(``make demo ROWS=N LOAD=bulk``): ``airflow dags test load_bulk_stage`` on a
generated CSV, then ``airflow dags test segment_customers`` with the DAG's default params (quality
gate in the warehouse, k scores 2..10 on a 20,000-row sample, the stability ensemble k=3 R=20, and
above ``max_fit_rows`` = 200,000 feature rows the fit on a hash sample with every row assigned in the
warehouse). Reports the wall time of each DAG run and the stage timings (from the publish
task's return value in its log), and saves bench/results/bench_segment.json.

    python bench/bench_segment.py [--sizes 100000 1000000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("features_s", "transform_s", "choose_k_s", "ensemble_s", "report_s", "writeback_s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _segment_result(log: Path) -> dict:
    """The publish task's return value (every stage's timings), as `airflow dags test` logged it."""
    text = log.read_text(errors="replace")
    found = re.findall(r"Returned value was: (\{'model_run_id'.*?\}) \[", text)
    if not found:
        raise RuntimeError(f"no segment result in {log}")
    return ast.literal_eval(found[-1])


def run_once(n: int, tmp: Path) -> dict:
    # `make demo` with this run's own twin, Airflow home and ports (the Makefile derives the connections)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_HOME", "SNOWSEG_"))}
    env.update(AIRFLOW_HOME=str(tmp / "airflow"), SNOWSEG_TWIN_HOME=str(tmp / "twin"),
               SNOWSEG_TWIN_PORT=str(_free_port()), SNOWSEG_S3_PORT=str(_free_port()),
               SNOWSEG_REPORT_DIR=str(tmp / "reports"))
    t = time.perf_counter()
    out = subprocess.run(["make", "demo", f"ROWS={n}", "LOAD=bulk"], env=env, cwd=REPO, capture_output=True, text=True)
    total = time.perf_counter() - t
    subprocess.run(["make", "twin-down"], env=env, cwd=REPO, capture_output=True)
    if out.returncode:
        raise RuntimeError(f"demo failed at {n} rows:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    dags = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+)\s+success\s+([\d.]+)s", out.stdout, re.M)}
    result = _segment_result(tmp / "airflow" / "logs" / "demo" / "segment_customers.log")
    return {"rows": n, "total_s": round(total, 1), "load_dag_s": dags.get("load_bulk_stage"),
            "segment_dag_s": dags.get("segment_customers"), "assigned_in": result["assigned_in"],
            "k": result["k"], "segments": [(s["name"], s["size"], s["stability"]) for s in result["segments"]],
            **{s: result["timings"].get(s) for s in STAGES}}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_segment.json")
    args = parser.parse_args()
    runs = []
    for n in args.sizes:
        for rep in range(args.repeats):
            tmp = Path(tempfile.mkdtemp(prefix="snowseg-bench-seg-"))
            try:
                runs.append({**run_once(n, tmp), "repeat": rep})
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            print(json.dumps(runs[-1]), flush=True)
    cols = ["load_dag_s", "segment_dag_s", *STAGES]
    table = []
    for n in args.sizes:
        rs = [r for r in runs if r["rows"] == n]
        table.append({"rows": n, "runs": len(rs), "assigned_in": rs[0]["assigned_in"],
                      **{c: round(statistics.median(r[c] for r in rs), 2) for c in cols}})
    print(f"\nsegment_customers end to end (airflow dags test), median seconds, {os.cpu_count()} cores, twin over HTTP\n")
    print("| rows | runs | assigned in | " + " | ".join(cols) + " |")
    print("|---:|---:|---|" + "---:|" * len(cols))
    for r in table:
        print(f"| {r['rows']:,} | {r['runs']} | {r['assigned_in']} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": {"cores": os.cpu_count(), "python": platform.python_version()},
                                    "table": table, "runs": runs}, indent=2, default=str))
    print(f"\nsaved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
