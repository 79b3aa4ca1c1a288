"""The whole pipeline as Airflow runs it, at scale: a bulk load, then the segment_customers DAG.

For each size, in a fresh twin and Airflow home (temp folder, free ports), runs the demo path
(``make demo ROWS=N LOAD=bulk``): ``airflow dags test load_bulk_stage`` on a
generated CSV, then ``airflow dags test segment_customers`` with the DAG's default params (quality
gate in the warehouse, k scores 2..10 on a 20,000-row sample, the stability ensemble k=3 R=20, and
above ``max_fit_rows`` = 200,000 feature rows the fit on a hash sample with every row assigned in the
warehouse). Reports the wall time of each DAG run, each task's seconds (the demo's timings.json, from
Airflow's metadata DB: the load task = check + split + PUT + COPY + audit; quality_gate, features,
k_scores, ensemble, profiles, report, publish), the segmentation's own stage timings (from the publish
task's return value in its log), the twin server's peak RSS (VmHWM), and per stage the log-log slope of
seconds against rows over the sizes (least squares; 1 = linear). Saves bench/results/bench_segment.json.

    python bench/bench_segment.py [--sizes 100000 1000000 10000000] [--repeats 1]
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

import numpy as np

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
    rss_mb = _peak_rss_mb(tmp / "twin" / "run" / "snowflake.pid")
    subprocess.run(["make", "twin-down"], env=env, cwd=REPO, capture_output=True)
    if out.returncode:
        raise RuntimeError(f"demo failed at {n} rows:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    dags = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+)\s+success\s+([\d.]+)s", out.stdout, re.M)}
    result = _segment_result(tmp / "airflow" / "logs" / "demo" / "segment_customers.log")
    timings = json.loads((tmp / "airflow" / "logs" / "demo" / "timings.json").read_text())
    tasks = {f"task {t['task_id']}_s": t["seconds"] for t in timings["tasks"]}  # apart from the stages' own names
    return {"rows": n, "total_s": round(total, 1), "twin_peak_rss_mb": rss_mb, **tasks,
            "load_dag_s": dags.get("load_bulk_stage"),
            "segment_dag_s": dags.get("segment_customers"), "assigned_in": result["assigned_in"],
            "k": result["k"], "segments": [(s["name"], s["size"], s["stability"]) for s in result["segments"]],
            **{s: result["timings"].get(s) for s in STAGES}}


def _peak_rss_mb(pid_file: Path) -> float | None:
    """The twin server's peak resident memory (VmHWM), MB, or None if it is not running."""
    try:
        status = Path(f"/proc/{int(pid_file.read_text().strip())}/status").read_text()
    except (OSError, ValueError):
        return None
    kb = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return round(int(kb.group(1)) / 1024, 1) if kb else None


def slope(sizes: list[int], seconds: list[float]) -> float | None:
    """Least-squares slope of log(seconds) on log(rows): 1 is linear, under 1 fixed costs still dominate."""
    pts = [(n, s) for n, s in zip(sizes, seconds, strict=True) if s and s > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return round(float(np.polyfit(x, y, 1)[0]), 2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
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
    task_cols = list(dict.fromkeys(k for r in runs for k in r if k.startswith("task ")))
    cols = ["total_s", "load_dag_s", "segment_dag_s", *task_cols, *STAGES]
    table = []
    for n in args.sizes:
        rs = [r for r in runs if r["rows"] == n]
        table.append({"rows": n, "runs": len(rs), "assigned_in": rs[0]["assigned_in"],
                      "twin_peak_rss_mb": max((r["twin_peak_rss_mb"] or 0) for r in rs),
                      **{c: _median([r.get(c) for r in rs]) for c in cols}})
    slopes = {c: slope([r["rows"] for r in table], [r[c] for r in table]) for c in cols}
    print(f"\nmake demo ROWS=N LOAD=bulk end to end (airflow dags test), median seconds, {os.cpu_count()} cores, "
          "twin over HTTP\n")
    print("| stage | " + " | ".join(f"{r['rows']:,} rows" for r in table) + " | log-log slope |")
    print("|---|" + "---:|" * (len(table) + 1))
    for c in cols:
        print(f"| {c} | " + " | ".join(_cell(r[c]) for r in table) + f" | {_cell(slopes[c])} |")
    print("| twin peak RSS MB | " + " | ".join(_cell(r["twin_peak_rss_mb"]) for r in table) + " | |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    loadavg = os.getloadavg()
    # one row per stage (seconds at each size and the slope): what docs/benchmarks.md shows
    stages = [{"stage": c, **{f"{r['rows']:,} rows (s)": r[c] for r in table}, "log-log slope": slopes[c]}
              for c in cols]
    stages.append({"stage": "twin peak RSS (MB)", **{f"{r['rows']:,} rows (s)": r["twin_peak_rss_mb"] for r in table},
                   "log-log slope": None})
    args.out.write_text(json.dumps({"machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                                "loadavg_end": list(loadavg)},
                                    "measured": time.strftime("%Y-%m-%d"), "table": stages, "by_size": table,
                                    "slopes": slopes, "runs": runs}, indent=2, default=str))
    print(f"\nsaved {args.out}")
    return 0


def _median(values: list) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.median(got), 2) if got else None


def _cell(v: float | None) -> str:
    return "–" if v is None else f"{v:,.2f}"


if __name__ == "__main__":
    raise SystemExit(main())
