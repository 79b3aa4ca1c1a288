"""Cost of the stability ensemble against one k-means: StableKMeans(k, n_runs=20) vs KMeans(k, n_init=10).

Same data for both: ``make_blobs`` (k=5 centers, 10 features, cluster_std 1, seed 42) at each size.
Contenders (``--contenders``):

- kmeans: ``KMeans(n_clusters=k, n_init=10, random_state=0)`` with sklearn's own OpenMP threads (all
  cores): the baseline of the goal;
- kmeans-1t: the same fit on one thread (``threadpoolctl.threadpool_limits(1)``): the same work as
  the baseline without OpenMP, so the ratio to it is the ensemble's extra work, machine load aside;
- ens-nj1 / ens-nj2: ``StableKMeans(n_clusters=k, n_runs=20, random_state=0, n_jobs=1 | 2)``
  (joblib threads; every fit, the reference's included, on one thread);
- ens-loky2 (opt-in): the same with joblib's loky processes, n_jobs=2.

Time: ``--repeats`` fits per contender and size, interleaved (the order rotates every repetition so
neither side always runs on a warmer or quieter machine); the table shows medians. A size whose first
repetition took more than ``--budget-s`` (any contender) is not repeated; ``runs`` says how many
fits each median is of. Memory: one extra fit per contender and size under ``tracemalloc`` (peak of
traced allocations during the fit, numpy's included) and, on Linux, the fit's peak RSS above the RSS
before it (VmHWM after resetting it through /proc/self/clear_refs). These fits are not timed.

Columns: median seconds, seconds per 1e5 rows (flat across sizes = linear in rows), the ratios to
the medians of kmeans (goal: <= 3) and of kmeans-1t at that size, peak memory, and the ARI of the labels against the
generating blobs with the smallest cluster stability (a check that both did the same job). The
machine is shared and noisy: its load average at the start and end is saved with the results.
Prints a markdown table and saves bench/results/bench_ensemble.json.

    python bench/bench_ensemble.py [--sizes 10000 100000 1000000] [--repeats 3] [--budget-s 60]
    python bench/bench_ensemble.py --sizes 100000 --contenders kmeans ens-nj2 ens-loky2
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include")]

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from snowseg.clustering import ensemble  # noqa: E402
from snowseg.clustering.ensemble import StableKMeans  # noqa: E402

CONTENDERS = ("kmeans", "kmeans-1t", "ens-nj1", "ens-nj2", "ens-loky2")


def make_model(name: str, k: int, n_runs: int):
    """A fresh estimator for a contender."""
    if name in ("kmeans", "kmeans-1t"):
        return KMeans(n_clusters=k, n_init=10, random_state=0)
    n_jobs = 1 if name == "ens-nj1" else 2
    return StableKMeans(n_clusters=k, n_runs=n_runs, random_state=0, n_jobs=n_jobs)


def fit(name: str, model, X):
    """Fit with the contender's threads (one for kmeans-1t) and joblib backend (loky for ens-loky2)."""
    backend = ensemble._BACKEND
    ensemble._BACKEND = "loky" if name == "ens-loky2" else "threading"
    try:
        if name == "kmeans-1t":
            with threadpool_limits(limits=1):
                return model.fit(X)
        return model.fit(X)
    finally:
        ensemble._BACKEND = backend


def _status_kb(field: str) -> int | None:
    """A VmRSS / VmHWM line of /proc/self/status, in kB (None off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def measure_memory(name: str, k: int, n_runs: int, X) -> dict:
    """tracemalloc peak and peak-RSS growth of one fit, in MB."""
    gc.collect()
    rss_reset = False
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        rss_reset = True
    except OSError:
        pass
    rss_before = _status_kb("VmRSS")
    tracemalloc.start()
    try:
        fit(name, make_model(name, k, n_runs), X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    hwm = _status_kb("VmHWM")
    rss_delta = (hwm - rss_before) / 1024 if rss_reset and hwm is not None and rss_before is not None else None
    return {"tracemalloc_peak_mb": round(peak / 1e6, 1),
            "rss_peak_delta_mb": None if rss_delta is None else round(rss_delta, 1)}


def quality(model, truth) -> dict:
    """ARI against the generating blobs; for the ensemble also its stability and confidence."""
    out = {"ari_truth": round(float(adjusted_rand_score(truth, model.labels_)), 4)}
    if isinstance(model, StableKMeans):
        out.update(min_stability=round(float(model.cluster_stability_.min()), 4),
                   mean_confidence=round(float(model.confidence_.mean()), 4), runs_ari=round(model.runs_ari_, 4))
    return out


def loadavg() -> list[float] | None:
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--cluster-std", type=float, default=1.0)
    parser.add_argument("--n-runs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=60.0,
                        help="do not repeat a size whose first repetition of a contender took longer (seconds)")
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=["kmeans", "kmeans-1t", "ens-nj1", "ens-nj2"])
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc / RSS fits")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_ensemble.json")
    args = parser.parse_args()
    if "kmeans" not in args.contenders:
        parser.error("the kmeans contender is the baseline of the ratio")

    load_start = loadavg()
    runs, memory, checks = [], [], {}
    for n in args.sizes:
        X, truth = make_blobs(n_samples=n, n_features=args.features, centers=args.k, cluster_std=args.cluster_std,
                              random_state=42)
        fit("kmeans", make_model("kmeans", args.k, args.n_runs), X[:2000])  # imports, OpenMP pool, joblib
        order = list(args.contenders)
        for rep in range(args.repeats):
            for name in order:
                gc.collect()
                t = time.perf_counter()
                model = fit(name, make_model(name, args.k, args.n_runs), X)
                secs = time.perf_counter() - t
                runs.append({"rows": n, "contender": name, "repeat": rep, "seconds": round(secs, 4),
                             "loadavg_1m": (loadavg() or [None])[0]})
                if rep == 0:
                    checks[(n, name)] = quality(model, truth)
                print(json.dumps(runs[-1]), flush=True)
                del model
            order = order[1:] + order[:1]
            slowest = max(r["seconds"] for r in runs if r["rows"] == n)
            if rep == 0 and slowest > args.budget_s and args.repeats > 1:
                print(f"{n} rows: a fit took {slowest:.0f} s > {args.budget_s:.0f} s, so 1 run each", flush=True)
                break
        if not args.no_memory:
            for name in args.contenders:
                memory.append({"rows": n, "contender": name, **measure_memory(name, args.k, args.n_runs, X)})
                print(json.dumps(memory[-1]), flush=True)
        del X, truth
    load_end = loadavg()

    table = []
    for n in args.sizes:
        base = statistics.median(r["seconds"] for r in runs if r["rows"] == n and r["contender"] == "kmeans")
        one = [r["seconds"] for r in runs if r["rows"] == n and r["contender"] == "kmeans-1t"]
        base_1t = statistics.median(one) if one else None
        for name in args.contenders:
            secs = [r["seconds"] for r in runs if r["rows"] == n and r["contender"] == name]
            med = statistics.median(secs)
            mem = next((m for m in memory if m["rows"] == n and m["contender"] == name), {})
            table.append({"rows": n, "contender": name, "runs": len(secs), "median_s": round(med, 3),
                          "min_s": round(min(secs), 3), "s_per_1e5_rows": round(med / n * 1e5, 3),
                          "ratio_to_kmeans": round(med / base, 2),
                          "ratio_to_kmeans_1t": None if base_1t is None else round(med / base_1t, 2),
                          "tracemalloc_peak_mb": mem.get("tracemalloc_peak_mb"),
                          "rss_peak_delta_mb": mem.get("rss_peak_delta_mb"), **checks[(n, name)]})

    def cell(v, fmt=""):
        return "-" if v is None else f"{v:{fmt}}"

    print(f"\nStableKMeans(k={args.k}, n_runs={args.n_runs}) vs KMeans(k={args.k}, n_init=10), make_blobs "
          f"{args.features} features, {os.cpu_count()} cores, load average {load_start} -> {load_end}\n")
    print("| rows | contender | runs | median s | s / 1e5 rows | x KMeans | x KMeans 1 thread | tracemalloc peak MB "
          "| RSS peak delta MB | ARI truth | min stability |")
    print("|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in table:
        print(f"| {r['rows']} | {r['contender']} | {r['runs']} | {r['median_s']:.3f} | {r['s_per_1e5_rows']:.3f} "
              f"| {r['ratio_to_kmeans']:.2f} | {cell(r['ratio_to_kmeans_1t'], '.2f')} "
              f"| {cell(r['tracemalloc_peak_mb'], '.1f')} "
              f"| {cell(r['rss_peak_delta_mb'], '.1f')} | {r['ari_truth']:.4f} | {cell(r.get('min_stability'), '.3f')} |")
    worst = {name: max(r["ratio_to_kmeans"] for r in table if r["contender"] == name)
             for name in args.contenders if name.startswith("ens")}
    for name, ratio in worst.items():
        print(f"{name}: worst ratio to KMeans {ratio:.2f} ({'meets' if ratio <= 3 else 'misses'} the goal <= 3)")

    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "sklearn": sklearn.__version__, "platform": platform.platform(),
                    "loadavg_start": load_start, "loadavg_end": load_end},
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "design": {"seed_rows": ensemble.SEED_ROWS, "backend": ensemble._BACKEND},
        "table": table, "worst_ratio": worst, "memory": memory, "runs": runs}, indent=2))
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
