"""Does the published partition depend on random_state? StableKMeans vs KMeans(n_init=10) on the seed file.

The matrix is the segmentation job's for the seed file at the default invoice level (features in
pandas as the warehouse query builds them, redundant columns dropped, FeatureTransformer; see
tests/unit/seed_features.py). For each k (default 3) every contender is fitted with random_state
0 .. ``--seeds`` - 1:

- ensemble: ``StableKMeans(k)`` with the job's defaults (n_runs=20, subsample=0.8, n_init=10), n_jobs=2;
- kmeans-10: ``KMeans(k, n_init=10)``, the best single fit the job could run instead;
- kmeans-200: ``KMeans(k, n_init=200)``, the yardstick: the least inertia found (issue 13: pairwise
  ARI >= 0.997 between its seeds on the seed file at k = 3).

Columns: pairwise ARI between the seeds' partitions (min, mean), how many distinct partitions they
are, the worst seed's ARI with kmeans-200 (seed 0), the inertia range and the worst seed's excess over
kmeans-200's least inertia, and the median seconds per fit (for scale only; bench_ensemble.py
measures cost). Goals at k = 3 (issue 13): ensemble min pairwise ARI >= 0.95, mean >= kmeans-10's,
inertia within 0.1 % of kmeans-200's. Prints a markdown table and saves
bench/results/bench_reproducibility.json.

    python bench/bench_reproducibility.py [--file /work/shared/data/supermarket_sales.csv] [--k 3] [--seeds 10]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from snowseg.clustering import ensemble  # noqa: E402
from snowseg.clustering.ensemble import StableKMeans  # noqa: E402
from snowseg.segmentation import SegmentationParams  # noqa: E402
from tests.unit.seed_features import SEED_CSV, seed_feature_matrix  # noqa: E402

CONTENDERS = ("ensemble", "kmeans-10", "kmeans-200")


def make_model(name: str, k: int, seed: int, params: SegmentationParams, n_jobs: int):
    """A fresh estimator for a contender."""
    if name == "ensemble":
        return StableKMeans(n_clusters=k, n_runs=params.n_runs, subsample=params.subsample, n_init=params.n_init,
                            random_state=seed, n_jobs=n_jobs)
    return KMeans(n_clusters=k, n_init=10 if name == "kmeans-10" else 200, random_state=seed)


def summarize(name: str, k: int, fits: list[dict], yardstick: np.ndarray, least: float) -> dict:
    """One table row: agreement between the seeds, with the yardstick, and inertia."""
    labels = [f["labels"] for f in fits]
    pairs = [adjusted_rand_score(a, b) for a, b in itertools.combinations(labels, 2)]
    distinct = len({_canonical(lab) for lab in labels})
    inertias = [f["inertia"] for f in fits]
    return {
        "k": k, "contender": name, "seeds": len(fits),
        "ari_min": round(min(pairs), 4), "ari_mean": round(statistics.fmean(pairs), 4),
        "distinct_partitions": distinct,
        "ari_vs_kmeans200_min": round(min(adjusted_rand_score(yardstick, lab) for lab in labels), 4),
        "inertia_min": round(min(inertias), 3), "inertia_max": round(max(inertias), 3),
        "inertia_excess_max_pct": round(100 * (max(inertias) / least - 1), 4),
        "median_s": round(statistics.median(f["seconds"] for f in fits), 3),
    }


def _canonical(labels: np.ndarray) -> bytes:
    """A partition's bytes whatever its cluster numbering (clusters renumbered by first row)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse].astype(np.int32).tobytes()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=SEED_CSV)
    parser.add_argument("--k", type=int, nargs="+", default=[3])
    parser.add_argument("--seeds", type=int, default=10, help="random_state 0 .. seeds - 1 (at least 2)")
    parser.add_argument("--n-jobs", type=int, default=2, help="the ensemble's n_jobs (results do not depend on it)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_reproducibility.json")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error(f"--seeds {args.seeds}: pairwise ARI needs at least 2")
    if not args.file.exists():
        parser.error(f"--file {args.file} does not exist: the seed file lives in /work/shared/data")

    params = SegmentationParams()
    Z = seed_feature_matrix(args.file, params)
    seeds = list(range(args.seeds))
    table, runs = [], []
    for k in args.k:
        fits: dict[str, list[dict]] = {name: [] for name in CONTENDERS}
        for seed in seeds:
            for name in CONTENDERS:
                t = time.perf_counter()
                model = make_model(name, k, seed, params, args.n_jobs).fit(Z)
                secs = time.perf_counter() - t
                fit = {"k": k, "contender": name, "seed": seed, "seconds": round(secs, 4),
                       "inertia": float(model.inertia_), "labels": model.labels_}
                if isinstance(model, StableKMeans):
                    fit.update(reference_candidate=model.reference_candidate_,
                               mean_confidence=round(float(model.confidence_.mean()), 4),
                               stability=[round(float(j), 4) for j in model.cluster_stability_],
                               runs_ari=round(model.runs_ari_, 4))
                fits[name].append(fit)
                runs.append({key: v for key, v in fit.items() if key != "labels"})
                print(json.dumps(runs[-1]), flush=True)
        yardstick = fits["kmeans-200"][0]["labels"]
        least = min(f["inertia"] for fs in fits.values() for f in fs)
        table += [summarize(name, k, fits[name], yardstick, least) for name in CONTENDERS]

    print(f"\nSeed file {args.file.name}: {Z.shape[0]} rows x {Z.shape[1]} features (the job's matrix), "
          f"random_state 0-{args.seeds - 1}; ensemble = StableKMeans(n_runs={params.n_runs}, "
          f"subsample={params.subsample}, n_init={params.n_init}, n_jobs={args.n_jobs})\n")
    print("| k | contender | seeds | pairwise ARI min | pairwise ARI mean | distinct partitions "
          "| min ARI vs n_init=200 | inertia min | inertia max | worst excess over least inertia % | median s |")
    print("|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in table:
        print(f"| {r['k']} | {r['contender']} | {r['seeds']} | {r['ari_min']:.4f} | {r['ari_mean']:.4f} "
              f"| {r['distinct_partitions']} | {r['ari_vs_kmeans200_min']:.4f} | {r['inertia_min']:.3f} "
              f"| {r['inertia_max']:.3f} | {r['inertia_excess_max_pct']:.4f} | {r['median_s']:.3f} |")
    goals = {}
    for k in args.k:
        ens = next(r for r in table if r["k"] == k and r["contender"] == "ensemble")
        km10 = next(r for r in table if r["k"] == k and r["contender"] == "kmeans-10")
        goals[k] = {"ari_min_ge_0.95": ens["ari_min"] >= 0.95,
                    "ari_mean_ge_kmeans10": ens["ari_mean"] >= km10["ari_mean"],
                    "inertia_within_0.1pct": ens["inertia_excess_max_pct"] <= 0.1}
        print(f"k={k}: ensemble " + ", ".join(f"{g} {'meets' if ok else 'MISSES'}" for g, ok in goals[k].items()))

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "sklearn": sklearn.__version__, "platform": platform.platform(), "loadavg_end": load},
        "args": {key: str(v) if isinstance(v, Path) else v for key, v in vars(args).items()},
        "design": {"refine_iter": ensemble.REFINE_ITER, "refine_rows": ensemble.REFINE_ROWS,
                   "seed_rows": ensemble.SEED_ROWS},
        "matrix": {"rows": int(Z.shape[0]), "features": int(Z.shape[1])},
        "table": table, "goals": {str(k): v for k, v in goals.items()}, "runs": runs}, indent=2))
    print(f"\nsaved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
