"""Rows/s of each load path on the local twin, against DuckDB's own read_csv as the local limit.

Per phase (seconds, JSON ``phases``): small_file check / put (the connector's AUTO_COMPRESS gzip + upload) /
copy / audit (every other statement: rejects, LOAD_AUDIT, transaction, REMOVE); bulk_stage check / split
(split + gzip, the pipeline's splitter) / put / copy / audit; snowpipe as below. The phases come from a
timing wrapper around the connection's cursors and the splitter (bench-only; the pipeline code is unchanged).
The twin's COPY rate (rows / COPY seconds: read, parse, convert, insert) is also given as a % of DuckDB's
read_csv rate on the same file in the same run, and the twin server's peak RSS (VmHWM, reset before each
load) per load. ``--gzip-levels 1 6`` also times the splitter alone at each gzip level (MB/s of CSV, total
compressed MB).

For each size, a generated CSV (seed 42) is loaded into a fresh database by:
- small_file: check + PUT to the intake table's stage + COPY (only up to the 50 MB limit);
- bulk_stage: check + split into gzip chunks + parallel PUT + COPY FILES (ON_ERROR=CONTINUE);
- snowpipe: setup = the pipe found (``find_pipe``) + the bucket's S3 event notification to the pipe's
  SQS queue (as ``load_s3_snowpipe``'s prepare_pipe does), check + S3Hook upload to the twin's moto S3
  + polling COPY_HISTORY until the pipe has loaded the file + the LOAD_AUDIT row. The twin's
  auto-ingest worker reads the queue every 0.5 s; the per-phase seconds are kept in the JSON;
and, on the same file, DuckDB ``read_csv`` (typed, in-process) gives the physical limit of this
machine for parsing it. Each load goes into a fresh database (snowpipe: and its own landing prefix,
``s3://<bucket>/<database>/``) that the versioned setup made first, as the admin (raw objects;
snowpipe: also the landing stage and the auto-ingest pipe): untimed, its seconds are
``warehouse_setup_s`` in the JSON. The loads run as the service role, as the DAG tasks do. Prints
medians and the ratio path/limit; saves bench/results/bench_loads.json.

    python bench/bench_loads.py [--sizes 100000 1000000] [--repeats 3] [--chunk-mb 25] [--poll-seconds 0.2]
    python bench/bench_loads.py --sizes 10000000 --repeats 1 --paths bulk_stage --out bench/results/bench_loads_1e7.json
    python bench/bench_loads.py --sizes 1000000 --repeats 1 --paths bulk_stage --gzip-levels 1 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchstack import REPO, bench_twin, set_up_database


def duckdb_limit(path: Path) -> float:
    """Seconds for DuckDB to parse and type the whole file (read_csv into a table)."""
    import duckdb

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"create table t as select * from read_csv('{path}', header = true, dateformat = '%m/%d/%Y')")
    secs = time.perf_counter() - t
    con.close()
    return secs


class _TimedCursor:
    """A cursor whose execute() adds its seconds to phases[<kind>]: put, copy or audit (any other statement)."""

    def __init__(self, cursor, phases: dict) -> None:
        self._cursor, self._phases = cursor, phases

    def execute(self, sql, *args, **kwargs):
        word = str(sql).lstrip().split(None, 1)[0].lower() if str(sql).strip() else ""
        kind = {"put": "put", "copy": "copy"}.get(word, "audit")
        t = time.perf_counter()
        try:
            return self._cursor.execute(sql, *args, **kwargs)
        finally:
            self._phases[kind] = self._phases.get(kind, 0.0) + time.perf_counter() - t

    def __enter__(self):
        self._cursor.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cursor.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


class _TimedConnection:
    """A connection whose cursors are _TimedCursors."""

    def __init__(self, conn, phases: dict) -> None:
        self._conn, self._phases = conn, phases

    def cursor(self, *args, **kwargs):
        return _TimedCursor(self._conn.cursor(*args, **kwargs), self._phases)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def _timed_split(phases: dict):
    """Wrap the splitter (looked up by bulk at call time) so its seconds go to phases['split']; undo with the result."""
    from snowseg.loading import splitting

    original = splitting.split_csv

    def split_csv(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases["split"] = phases.get("split", 0.0) + time.perf_counter() - t

    splitting.split_csv = split_csv
    return lambda: setattr(splitting, "split_csv", original)


def _timed_check(phases: dict, module) -> callable:
    """Wrap a module's check function(s) so their seconds go to phases['check']."""
    restore = []
    for name in ("check_file", "check_inputs"):
        original = getattr(module, name, None)
        if original is None:
            continue

        def timed(*args, _original=original, **kwargs):
            t = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                phases["check"] = phases.get("check", 0.0) + time.perf_counter() - t

        setattr(module, name, timed)
        restore.append((name, original))
    return lambda: [setattr(module, n, o) for n, o in restore]


def reset_peak_rss(pid: int) -> None:
    """Reset a process's peak RSS (VmHWM) to its current RSS (Linux: clear_refs 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mb(pid: int) -> float | None:
    """A process's peak RSS since start or the last reset_peak_rss, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def splitter_levels(csv: Path, levels: list[int], tmp: Path, contract) -> list[dict]:
    """Seconds, MB/s of CSV and compressed MB of the pipeline's splitter at each gzip level."""
    import shutil

    from snowseg.loading.splitting import split_csv

    out = []
    mb = csv.stat().st_size / 1e6
    for level in levels:
        folder = tmp / f"split_l{level}"
        t = time.perf_counter()
        chunks = split_csv(csv, folder, target_bytes=25_000_000, delimiter=contract.csv.delimiter,
                           quotechar=contract.csv.quote, compresslevel=level)
        secs = time.perf_counter() - t
        gz = sum(c.gz_bytes for c in chunks) / 1e6
        out.append({"level": level, "seconds": round(secs, 3), "csv_mb_per_s": round(mb / secs, 1),
                    "gz_mb": round(gz, 1), "ratio": round(gz / mb, 3), "chunks": len(chunks)})
        shutil.rmtree(folder, ignore_errors=True)
    return out


def snowpipe_load(conn, csv: Path, contract, names, landing, poll_seconds: float, timeout: float) -> dict:
    """Seconds per phase of one auto-ingest Snowpipe load of `csv` into `names` (set up with its pipe on `landing`),
    from finding the pipe to the file's audit row."""
    from snowseg.loading import snowpipe
    from snowseg.loading.checks import check_file

    phases, t = {}, time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal t
        now = time.perf_counter()
        phases[phase], t = now - t, now

    hook = snowpipe.s3_hook()
    with conn.cursor() as cur:
        pipe = snowpipe.find_pipe(cur, names, contract, landing)
        snowpipe.ensure_notification(hook.get_conn(), landing, pipe)
        lap("setup")
        info = check_file(csv, contract, max_mb=float("inf"))
        lap("check")
        landed = snowpipe.upload(hook, landing, info, contract)
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


def _timed_check_file(phases: dict, check_file, csv: Path, contract):
    """check_file(csv, contract), its seconds in phases['check']."""
    t = time.perf_counter()
    try:
        return check_file(csv, contract)
    finally:
        phases["check"] = phases.get("check", 0.0) + time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-mb", type=float, default=25.0)
    parser.add_argument("--poll-seconds", type=float, default=0.2, help="COPY_HISTORY polling while the pipe loads")
    parser.add_argument("--pipe-timeout", type=float, default=900.0, help="give up on a pipe load after (seconds)")
    parser.add_argument("--paths", nargs="+", choices=LOAD_PATHS, default=list(LOAD_PATHS),
                        help="load paths to measure (DuckDB's limit is always measured)")
    parser.add_argument("--gzip-levels", type=int, nargs="*", default=[],
                        help="also time the splitter alone at these gzip levels, once per size")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_loads.json")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="snowseg-bench-loads-"))
    # this process's own twin, Airflow home and connections, not whatever the shell (e.g. the Makefile) points at
    twin = bench_twin(tmp, s3=True)

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # noqa: F401  (Airflow's import cost, not timed)
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook  # noqa: F401  (likewise)

    from snowseg.config import load_contract
    from snowseg.loading import intake
    from snowseg.loading.bulk import load_path_files
    from snowseg.loading.checks import check_file
    from snowseg.loading.small_file import load_file
    from snowseg.loading.snowpipe import Landing
    from snowseg.warehouse import Names, connect
    from snowseg_samples import write_sales_csv

    bucket = Landing.from_env().bucket  # the one the twin creates (the default landing URL's)
    contract = load_contract()
    runs = []

    def fresh_database(snowpipe: bool = False) -> tuple[Names, Landing | None, float]:
        """A new database set up by the versioned setup as the admin (with `snowpipe`, also its pipe on the
        database's own landing prefix): its names, that landing (or None) and the setup's seconds."""
        names = Names.from_env(f"L{uuid.uuid4().hex[:8].upper()}")
        landing = Landing.from_env(f"s3://{bucket}/{names.database.lower()}/") if snowpipe else None
        return names, landing, set_up_database(names.database, [contract], landing_url=landing and landing.url)

    try:
        twin.start()
        levels = []
        for n in args.sizes:
            csv = write_sales_csv(tmp / f"sales_{n}.csv", n, seed=42)
            mb = csv.stat().st_size / 1e6
            if args.gzip_levels:
                levels.append({"rows": n, "mb": round(mb, 1), "levels": splitter_levels(csv, args.gzip_levels, tmp,
                                                                                         contract)})
                print(json.dumps(levels[-1]), flush=True)
            for rep in range(args.repeats):
                first = len(runs)
                runs.append({"rows": n, "mb": round(mb, 1), "path": "duckdb_read_csv", "seconds": duckdb_limit(csv)})
                pid = twin.proc.pid
                if "small_file" in args.paths and mb <= contract.csv.max_file_mb:
                    names, _, setup_s = fresh_database()
                    conn = connect()  # the service role, as the DAG tasks connect
                    phases: dict = {}
                    reset_peak_rss(pid)
                    t = time.perf_counter()
                    res = load_file(_TimedConnection(conn, phases), _timed_check_file(phases, check_file, csv, contract),
                                    contract, names)
                    runs.append({"rows": n, "mb": round(mb, 1), "path": "small_file",
                                 "seconds": time.perf_counter() - t,
                                 "phases": phases, "peak_rss_mb": peak_rss_mb(pid), "warehouse_setup_s": setup_s})
                    assert res.rows_loaded == n, res
                    conn.close()
                if "bulk_stage" in args.paths:
                    names, _, setup_s = fresh_database()
                    conn = connect()
                    phases = {}
                    restores = [_timed_split(phases), _timed_check(phases, intake)]
                    reset_peak_rss(pid)
                    t = time.perf_counter()
                    try:
                        (res,) = load_path_files(_TimedConnection(conn, phases), str(csv), contract, names,
                                                 chunk_bytes=int(args.chunk_mb * 1e6), parallel=4)
                    finally:
                        for restore in restores:
                            restore()
                    runs.append({"rows": n, "mb": round(mb, 1), "path": "bulk_stage", "seconds": time.perf_counter() - t,
                                 "phases": phases, "peak_rss_mb": peak_rss_mb(pid), "warehouse_setup_s": setup_s})
                    assert res.rows_loaded == n, res
                    conn.close()
                if "snowpipe" in args.paths:
                    names, landing, setup_s = fresh_database(snowpipe=True)
                    conn = connect()
                    reset_peak_rss(pid)
                    phases = snowpipe_load(conn, csv, contract, names, landing, args.poll_seconds, args.pipe_timeout)
                    runs.append({"rows": n, "mb": round(mb, 1), "path": "snowpipe", "seconds": sum(phases.values()),
                                 "phases": phases, "peak_rss_mb": peak_rss_mb(pid), "warehouse_setup_s": setup_s})
                    conn.close()
                print(json.dumps(runs[first:]), flush=True)
    finally:
        twin.stop()

    table = []
    for n in args.sizes:
        limit = statistics.median(r["seconds"] for r in runs if r["rows"] == n and r["path"] == "duckdb_read_csv")
        for path in ("duckdb_read_csv", "small_file", "bulk_stage", "snowpipe"):
            these = [r for r in runs if r["rows"] == n and r["path"] == path]
            if not these:
                continue
            med = statistics.median(r["seconds"] for r in these)
            row = {"rows": n, "path": path, "median_s": round(med, 3), "rows_per_s": round(n / med),
                   "ratio_to_limit": round(limit / med, 3)}
            if "phases" in these[0]:
                keys = list(dict.fromkeys(k for r in these for k in r["phases"]))
                row["phase_medians_s"] = {k: round(statistics.median(r["phases"].get(k, 0.0) for r in these), 3)
                                          for k in keys}
                if "copy" in row["phase_medians_s"]:
                    copy_s = row["phase_medians_s"]["copy"]
                    row["copy_rows_per_s"] = round(n / copy_s) if copy_s else None
                    row["copy_pct_of_duckdb"] = round(100 * limit / copy_s, 1) if copy_s else None
            rss = [r["peak_rss_mb"] for r in these if r.get("peak_rss_mb")]
            if rss:
                row["peak_rss_mb"] = round(max(rss))
            table.append(row)
    print(f"\nload throughput, median of {args.repeats}, {os.cpu_count()} cores, twin over HTTP "
          f"(% = DuckDB read_csv time / path time, on the same file in the same run)\n")
    print("| rows | path | median s | rows/s | % of DuckDB | COPY s | COPY rows/s | COPY % of DuckDB | peak twin RSS MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in table:
        ph = r.get("phase_medians_s", {})
        copy_s = f"{ph['copy']:.2f}" if "copy" in ph else ""
        copy_rate = f"{r['copy_rows_per_s']:,}" if r.get("copy_rows_per_s") else ""
        print(f"| {r['rows']:,} | {r['path']} | {r['median_s']:.2f} | {r['rows_per_s']:,} | "
              f"{100 * r['ratio_to_limit']:.1f} | {copy_s} | {copy_rate} | {r.get('copy_pct_of_duckdb', '')} | "
              f"{r.get('peak_rss_mb', '')} |")
    print("\nphase medians (s)\n")
    print("| rows | path | phases |")
    print("|---:|---|---|")
    for r in (r for r in table if "phase_medians_s" in r):
        print(f"| {r['rows']:,} | {r['path']} | " + ", ".join(f"{k} {v:.2f}" for k, v in r["phase_medians_s"].items())
              + " |")
    if levels:
        print("\nsplitter alone by gzip level\n")
        print("| rows | CSV MB | level | s | CSV MB/s | gz MB | gz/CSV |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for size in levels:
            for lv in size["levels"]:
                print(f"| {size['rows']:,} | {size['mb']} | {lv['level']} | {lv['seconds']:.2f} | {lv['csv_mb_per_s']} | "
                      f"{lv['gz_mb']} | {lv['ratio']} |")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cores": os.cpu_count(), "repeats": args.repeats, "chunk_mb": args.chunk_mb,
                               "poll_seconds": args.poll_seconds, "table": table, "runs": runs,
                               "splitter_gzip_levels": levels}, indent=2))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
