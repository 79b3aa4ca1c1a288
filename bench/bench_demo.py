"""Wall time per stage of the demo path (load, features, fit, writeback) on the local twin.

Starts its own twin (a `snowseg_twin.server` process on a free port, state in a temp folder), then
for each sample size and repetition sets up a fresh database with the versioned setup as the admin
(untimed; ``warehouse_setup_s`` in the JSON), and, as the service role, loads a generated CSV with
the small-file path, runs the quality gate and the segmentation job with the DAG's default params
(k scores for k=2..10, the stability ensemble with k=3 and 20 runs, report, writeback).
Prints medians per stage and writes bench/results/bench_demo.json.

    python bench/bench_demo.py [--sizes 1000 10000 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchstack import REPO, bench_twin, set_up_database


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="snowseg-bench-"))
    twin = bench_twin(tmp)

    from snowseg.config import load_contract
    from snowseg.loading.checks import check_file
    from snowseg.loading.small_file import load_file
    from snowseg.quality.gate import run_gate
    from snowseg.segmentation import SegmentationParams, run_segmentation
    from snowseg.warehouse import Names, connect
    from snowseg_samples import write_sales_csv

    twin.start()
    contract = load_contract()
    results = []
    try:
        for n in args.sizes:
            csv = write_sales_csv(tmp / f"sample_{n}.csv", n, seed=42)
            for rep in range(args.repeats):
                names = Names.from_env(f"B{uuid.uuid4().hex[:8].upper()}")
                setup_s = set_up_database(names.database, [contract])  # as the admin, once per database
                conn = connect()  # the service role, as the DAG tasks connect
                t = time.perf_counter()
                info = check_file(csv, contract)
                t_check = time.perf_counter() - t
                t = time.perf_counter()
                res = load_file(conn, info, contract, names)
                t_load = time.perf_counter() - t
                assert res.rows_loaded == n, res
                t = time.perf_counter()
                run_gate(conn, contract, names, run_id=f"bench-{rep}")  # publishes the batch (no report)
                t_gate = time.perf_counter() - t
                seg = run_segmentation(conn, contract, names, SegmentationParams(), report_dir=tmp / "reports")
                conn.close()
                row = {"rows": n, "repeat": rep, "check_s": round(t_check, 3), "load_s": round(t_load, 3),
                       "gate_s": round(t_gate, 3), **seg.timings, "warehouse_setup_s": round(setup_s, 3)}
                results.append(row)
                print(json.dumps(row), flush=True)
    finally:
        twin.stop()

    stages = ["check_s", "load_s", "gate_s", *[k for k in results[0] if k.endswith("_s") and k not in
                                               ("check_s", "load_s", "gate_s", "warehouse_setup_s")]]
    table = []
    for n in args.sizes:
        rows = [r for r in results if r["rows"] == n]
        table.append({"rows": n, **{s: statistics.median(r[s] for r in rows) for s in stages},
                      "total_s": statistics.median(sum(r[s] for s in stages) for r in rows)})
    header = f"{'rows':>8} " + " ".join(f"{s:>12}" for s in [*stages, "total_s"])
    print(f"\nmedian wall seconds per stage, {args.repeats} repeats, {os.cpu_count()} cores, twin over HTTP")
    print(header)
    print("-" * len(header))
    for r in table:
        print(f"{r['rows']:>8} " + " ".join(f"{r[s]:>12.3f}" for s in [*stages, "total_s"]))
    out = REPO / "bench" / "results" / "bench_demo.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": {"cores": os.cpu_count(), "python": platform.python_version()},
                               "repeats": args.repeats, "medians": table, "runs": results}, indent=2))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
