"""Rows/s of each load path on the local twin, against DuckDB's own read_csv as the local limit.

For each size, a generated CSV (seed 42) is loaded into a fresh database by:
- small_file: check + PUT to the table stage + COPY (only up to the 50 MB limit);
- bulk_stage: check + split into gzip chunks + parallel PUT + COPY FILES (ON_ERROR=CONTINUE);
- snowpipe: external stage + auto-ingest pipe + the bucket's S3 event notification to the pipe's SQS
  queue (as production sets it up), check + S3Hook upload to the twin's moto S3 + polling COPY_HISTORY
  until the pipe has loaded the file + the LOAD_AUDIT row. The twin's auto-ingest worker reads the
  queue every 0.5 s; the per-phase seconds are kept in the JSON;
and, on the same file, DuckDB ``read_csv`` (typed, in-process) gives the physical limit of this
machine for parsing it. Each load goes into a fresh database (snowpipe: and its own landing prefix,
``s3://<bucket>/<database>/``). Prints medians and the ratio path/limit; saves
bench/results/bench_loads.json.

    python bench/bench_loads.py [--sizes 100000 1000000] [--repeats 3] [--chunk-mb 25] [--poll-seconds 0.2]
    python bench/bench_loads.py --sizes 10000000 --repeats 1 --paths bulk_stage --out bench/results/bench_loads_1e7.json
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

from snowseg_twin.process import AWS_TWIN_ENV, TwinProcess  # noqa: E402


def duckdb_limit(path: Path) -> float:
    """Seconds for DuckDB to parse and type the whole file (read_csv into a table)."""
    import duckdb

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"create table t as select * from read_csv('{path}', header = true, dateformat = '%m/%d/%Y')")
    secs = time.perf_counter() - t
    con.close()
    return secs


def snowpipe_load(conn, csv: Path, contract, names, bucket: str, poll_seconds: float, timeout: float) -> dict:
    """Seconds per phase of one auto-ingest Snowpipe load of `csv` into `names`, from nothing to its audit row."""
    from snowseg.loading import snowpipe
    from snowseg.loading.checks import check_file
    from snowseg.loading.objects import ensure_raw_objects

    phases, t = {}, time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal t
        now = time.perf_counter()
        phases[phase], t = now - t, now

    landing = snowpipe.Landing.from_env(f"s3://{bucket}/{names.database.lower()}/")
    hook = snowpipe.s3_hook()
    with conn.cursor() as cur:
        ensure_raw_objects(cur, names, contract)
        pipe = snowpipe.ensure_pipe(cur, names, contract, landing)
        snowpipe.ensure_notification(hook.get_conn(), landing, pipe)
        lap("setup")
        info = check_file(csv, contract, max_mb=float("inf"))
        lap("check")
        landed = snowpipe.upload(hook, landing, info)
        lap("upload")
        deadline = time.monotonic() + timeout
        while (load := snowpipe.pipe_loads(cur, names, contract, pipe, [landed.staged_path]).get(landed.staged_path)) \
                is None or load.status not in snowpipe.DONE:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pipe.qualified}: no finished load of {landed.staged_path} after {timeout}s ({load})")
            time.sleep(poll_seconds)
        lap("wait_pipe")
    (res,) = snowpipe.account_files(conn, [landed], {landed.staged_path: load}, contract, names)
    lap("account")
    assert res.status == "LOADED" and res.rows_loaded == info.rows, res
    return phases


LOAD_PATHS = ("small_file", "bulk_stage", "snowpipe")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-mb", type=float, default=25.0)
    parser.add_argument("--poll-seconds", type=float, default=0.2, help="COPY_HISTORY polling while the pipe loads")
    parser.add_argument("--pipe-timeout", type=float, default=900.0, help="give up on a pipe load after (seconds)")
    parser.add_argument("--paths", nargs="+", choices=LOAD_PATHS, default=list(LOAD_PATHS),
                        help="load paths to measure (DuckDB's limit is always measured)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_loads.json")
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
    os.environ.setdefault("AIRFLOW_HOME", str(tmp / "airflow"))  # the S3Hook imports Airflow: not ~/airflow
    for k, v in AWS_TWIN_ENV.items():
        os.environ.setdefault(k, v)
    twin = TwinProcess(tmp / "twin", s3=True)
    # this process's own twin, not whatever the shell (e.g. the Makefile) points at
    os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"] = twin.connection_json()
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = twin.aws_connection_json()
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # noqa: F401  (Airflow's import cost, not timed)

    from snowseg.loading.snowpipe import Landing

    bucket = Landing.from_env().bucket  # the one the twin creates (SNOWSEG_LANDING_URL or the default)
    contract = load_contract()
    runs = []

    def connect():
        return snowflake.connector.connect(**twin.connect_kwargs())

    try:
        twin.start()
        for n in args.sizes:
            csv = write_sales_csv(tmp / f"sales_{n}.csv", n, seed=42)
            mb = csv.stat().st_size / 1e6
            for rep in range(args.repeats):
                first = len(runs)
                runs.append({"rows": n, "mb": round(mb, 1), "path": "duckdb_read_csv", "seconds": duckdb_limit(csv)})
                if "small_file" in args.paths and mb <= contract.csv.max_file_mb:
                    conn, names = connect(), Names(database=f"L{uuid.uuid4().hex[:8].upper()}")
                    t = time.perf_counter()
                    with conn.cursor() as cur:
                        ensure_raw_objects(cur, names, contract)
                    res = load_file(conn, check_file(csv, contract), contract, names)
                    runs.append({"rows": n, "mb": round(mb, 1), "path": "small_file", "seconds": time.perf_counter() - t})
                    assert res.rows_loaded == n, res
                    conn.close()
                if "bulk_stage" in args.paths:
                    conn, names = connect(), Names(database=f"L{uuid.uuid4().hex[:8].upper()}")
                    t = time.perf_counter()
                    (res,) = load_path_files(conn, str(csv), contract, names, chunk_bytes=int(args.chunk_mb * 1e6),
                                             parallel=4)
                    runs.append({"rows": n, "mb": round(mb, 1), "path": "bulk_stage", "seconds": time.perf_counter() - t})
                    assert res.rows_loaded == n, res
                    conn.close()
                if "snowpipe" in args.paths:
                    conn, names = connect(), Names(database=f"L{uuid.uuid4().hex[:8].upper()}")
                    phases = snowpipe_load(conn, csv, contract, names, bucket, args.poll_seconds, args.pipe_timeout)
                    runs.append({"rows": n, "mb": round(mb, 1), "path": "snowpipe", "seconds": sum(phases.values()),
                                 "phases": phases})
                    conn.close()
                print(json.dumps(runs[first:]), flush=True)
    finally:
        twin.stop()

    table = []
    for n in args.sizes:
        limit = statistics.median(r["seconds"] for r in runs if r["rows"] == n and r["path"] == "duckdb_read_csv")
        for path in ("duckdb_read_csv", "small_file", "bulk_stage", "snowpipe"):
            secs = [r["seconds"] for r in runs if r["rows"] == n and r["path"] == path]
            if not secs:
                continue
            med = statistics.median(secs)
            table.append({"rows": n, "path": path, "median_s": round(med, 3), "rows_per_s": round(n / med),
                          "ratio_to_limit": round(limit / med, 3)})
            if path == "snowpipe":
                phases = [r["phases"] for r in runs if r["rows"] == n and r["path"] == path]
                table[-1]["phase_medians_s"] = {k: round(statistics.median(p[k] for p in phases), 3) for k in phases[0]}
    print(f"\nload throughput, median of {args.repeats}, {os.cpu_count()} cores, twin over HTTP "
          f"(ratio = DuckDB read_csv time / path time)")
    print(f"{'rows':>9} {'path':>16} {'median_s':>9} {'rows/s':>10} {'ratio':>7}")
    for r in table:
        print(f"{r['rows']:>9} {r['path']:>16} {r['median_s']:>9.3f} {r['rows_per_s']:>10} {r['ratio_to_limit']:>7.3f}")
    for r in (r for r in table if "phase_medians_s" in r):
        print(f"snowpipe phases at {r['rows']} rows (median s): "
              + ", ".join(f"{k} {v:.3f}" for k, v in r["phase_medians_s"].items()))
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "repeats": args.repeats, "chunk_mb": args.chunk_mb,
                               "poll_seconds": args.poll_seconds, "table": table, "runs": runs}, indent=2))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
