"""Does one binary column split every segment? k-means segments by categorical block weight.

The matrices are the segmentation job's (features as the warehouse query builds them, redundant
columns dropped, :class:`~snowseg.clustering.transform.FeatureTransformer`), with each one-hot block's
total variance set to ``category_weight`` c (a standardised numeric column has 1):

- ``seed invoice``: the seed file, one row per invoice (tests/unit/seed_features.py);
- ``customers``: ``--invoices`` generated invoices of the ``supermarket_customers`` contract, one row
  per customer (RECENCY_DAYS, FREQUENCY, MONETARY, AVG_BASKET, TENURE_DAYS, AVG_<col>, share-of-invoices
  columns), computed in pandas as ``include/sql/features/select_customer_features.sql`` does.

For each matrix, k and c: ``KMeans(k, n_init=50, random_state=0)``; per binary block (GENDER,
CUSTOMER_TYPE) how many segments are pure in it (>= 90 % one value) and the least pure segment's top
share; and the segments' mean amount (TOTAL or MONETARY). Prints a markdown table and saves
bench/results/bench_block_weights.json.

    python bench/bench_block_weights.py [--k 3 4 5] [--weights 1 0.75 0.5 0.25] [--invoices 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO / "devstack"), str(REPO)]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

from snowseg import features as feats  # noqa: E402
from snowseg.clustering.transform import FeatureTransformer  # noqa: E402
from snowseg.config import load_contract  # noqa: E402
from snowseg_samples import generate_sales  # noqa: E402
from tests.unit.seed_features import seed_feature_frame  # noqa: E402

PURE = 0.9  # a segment is pure in a binary column when at least this share has one value


def customer_frame(n_invoices: int, seed: int = 42) -> pd.DataFrame:
    """Generated invoices of the customers contract, as the customer-level feature query returns them."""
    c = load_contract("supermarket_customers")
    raw = generate_sales(n_invoices, seed=seed, contract=c).rename(columns={x.name: x.column for x in c.columns})
    raw["SALE_DATE"] = pd.to_datetime(raw["SALE_DATE"], format="%m/%d/%Y")
    amount = c.column_for_role("amount").column
    for col in c.features.numeric:
        raw[col] = raw[col].astype(float)
    g = raw.groupby(c.column_for_role("entity").column)
    last, first = g["SALE_DATE"].max(), g["SALE_DATE"].min()
    out = pd.DataFrame({
        "RECENCY_DAYS": (raw["SALE_DATE"].max() - last).dt.days.astype(float), "FREQUENCY": g.size().astype(float),
        "MONETARY": g[amount].sum(), "AVG_BASKET": g[amount].mean(), "TENURE_DAYS": (last - first).dt.days.astype(float),
    })
    for col in c.features.numeric:
        if col != amount:
            out[f"AVG_{col}"] = g[col].mean()
    for col in c.features.categorical:
        for v in c.column(col).values:
            out[f"{col}__{feats._slug(v)}"] = (raw[col] == v).groupby(raw[c.column_for_role("entity").column]).mean()
    return out.sort_index()


def measure(name: str, X: pd.DataFrame, amount: str, k: int, weight: float) -> dict:
    """One table row."""
    Z = FeatureTransformer(groups=feats.onehot_groups(X.columns), category_weight=weight).fit_transform(X)
    labels = KMeans(n_clusters=k, n_init=50, random_state=0).fit(Z).labels_
    row = {"matrix": name, "k": k, "category_weight": weight}
    for block in ("GENDER", "CUSTOMER_TYPE"):
        share = X[[c for c in X.columns if c.startswith(block + "__")][0]].groupby(labels).mean()
        top = np.maximum(share, 1 - share)
        row[f"{block}_pure"] = int((top >= PURE).sum())
        row[f"{block}_least_top_share"] = round(float(top.min()), 3)
    row["mean_amount"] = sorted(round(float(v), 1) for v in X[amount].groupby(labels).mean())
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--weights", type=float, nargs="+", default=[1.0, 0.75, 0.5, 0.25])
    parser.add_argument("--invoices", type=int, default=5000, help="generated invoices for the customer-level matrix")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bench_block_weights.json")
    args = parser.parse_args(argv)
    matrices = {
        "seed invoice": (feats.drop_correlated(seed_feature_frame())[0], "TOTAL"),
        "customers": (feats.drop_correlated(customer_frame(args.invoices))[0], "MONETARY"),
    }
    rows = [measure(name, X, amount, k, w) for name, (X, amount) in matrices.items() for k in args.k for w in args.weights]
    print(f"KMeans(n_init=50, random_state=0); pure: >= {PURE:.0%} of the segment has one value; customers: "
          f"{len(matrices['customers'][0])} customers from {args.invoices} generated invoices\n")
    print("| matrix | k | block variance | pure in GENDER | pure in CUSTOMER_TYPE | least pure top share (G / CT) "
          "| mean amount per segment |")
    print("|:---|---:|---:|---:|---:|---:|:---|")
    for r in rows:
        print(f"| {r['matrix']} | {r['k']} | {r['category_weight']} | {r['GENDER_pure']} of {r['k']} | "
              f"{r['CUSTOMER_TYPE_pure']} of {r['k']} | {r['GENDER_least_top_share']:.2f} / "
              f"{r['CUSTOMER_TYPE_least_top_share']:.2f} | {r['mean_amount']} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "invoices": args.invoices}, indent=1))
    print(f"\nsaved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
