"""Rows/s of each load path on the local twin, against DuckDB's own read_csv as the local limit.

For each size, a generated CSV (seed 42) is loaded into a fresh database by:
- small_file: check + PUT to the table stage + COPY (only up to the 50 MB limit);
- bulk_stage: check + split into gzip chunks + parallel PUT + COPY FILES (ON_ERROR=CONTINUE);
and, on the same file, DuckDB ``read_csv`` (typed, in-process) gives the physical limit of this
machine for parsing it. Prints medians and the ratio path/limit; saves bench/results/bench_loads.json.

    python bench/bench_loads.py [--sizes 100000 1000000] [--repeats 3] [--chunk-mb 25]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO / "devstack")]

from snowseg_twin.process import TwinProcess  # noqa: E402


def duckdb_limit(path: Path) -> float:
    """Seconds for DuckDB to parse and type the whole file (read_csv into a table)."""
    import duckdb

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"create table t as select * from read_csv('{path}', header = true, dateformat = '%m/%d/%Y')")
    secs = time.perf_counter() - t
    con.close()
    return secs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-mb", type=float, default=25.0)
    args = parser.parse_args()

    import snowflake.connector

    from snowseg.config import load_contract
    from snowseg.generator import write_sales_csv
    from snowseg.loading.bulk import load_path_files
    from snowseg.loading.checks import check_file
    from snowseg.loading.objects import ensure_raw_objects
    from snowseg.loading.small_file import load_file
    from snowseg.warehouse import Names

    tmp = Path(tempfile.mkdtemp(prefix="snowseg-bench-loads-"))
    twin = TwinProcess(tmp / "twin").start()
    contract = load_contract()
    runs = []

    def connect():
        return snowflake.connector.connect(**twin.connect_kwargs())

    try:
        for n in args.sizes:
            csv = write_sales_csv(tmp / f"sales_{n}.csv", n, seed=42)
            mb = csv.stat().st_size / 1e6
            for rep in range(args.repeats):
                runs.append({"rows": n, "mb": round(mb, 1), "path": "duckdb_read_csv", "seconds": duckdb_limit(csv)})
                if mb <= contract.csv.max_file_mb:
                    conn, names = connect(), Names(database=f"L{uuid.uuid4().hex[:8].upper()}")
                    t = time.perf_counter()
                    with conn.cursor() as cur:
                        ensure_raw_objects(cur, names, contract)
                    res = load_file(conn, check_file(csv, contract), contract, names)
                    runs.append({"rows": n, "mb": round(mb, 1), "path": "small_file", "seconds": time.perf_counter() - t})
                    assert res.rows_loaded == n, res
                    conn.close()
                conn, names = connect(), Names(database=f"L{uuid.uuid4().hex[:8].upper()}")
                t = time.perf_counter()
                (res,) = load_path_files(conn, str(csv), contract, names, chunk_bytes=int(args.chunk_mb * 1e6), parallel=4)
                runs.append({"rows": n, "mb": round(mb, 1), "path": "bulk_stage", "seconds": time.perf_counter() - t})
                assert res.rows_loaded == n, res
                conn.close()
                print(json.dumps(runs[-3:] if mb <= contract.csv.max_file_mb else runs[-2:]), flush=True)
    finally:
        twin.stop()

    table = []
    for n in args.sizes:
        limit = statistics.median(r["seconds"] for r in runs if r["rows"] == n and r["path"] == "duckdb_read_csv")
        for path in ("duckdb_read_csv", "small_file", "bulk_stage"):
            secs = [r["seconds"] for r in runs if r["rows"] == n and r["path"] == path]
            if not secs:
                continue
            med = statistics.median(secs)
            table.append({"rows": n, "path": path, "median_s": round(med, 3), "rows_per_s": round(n / med),
                          "ratio_to_limit": round(limit / med, 3)})
    print(f"\nload throughput, median of {args.repeats}, {os.cpu_count()} cores, twin over HTTP "
          f"(ratio = DuckDB read_csv time / path time)")
    print(f"{'rows':>9} {'path':>16} {'median_s':>9} {'rows/s':>10} {'ratio':>7}")
    for r in table:
        print(f"{r['rows']:>9} {r['path']:>16} {r['median_s']:>9.3f} {r['rows_per_s']:>10} {r['ratio_to_limit']:>7.3f}")
    out = REPO / "bench" / "results" / "bench_loads.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "repeats": args.repeats, "chunk_mb": args.chunk_mb,
                               "table": table, "runs": runs}, indent=2))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
