"""Synthetic files of the data shapes teams bring, with planted customer groups (dev and tests only).

Two shapes beyond the supermarket seed, matching the example contracts ``include/datasets/``:

- **orders** (``orders.yaml``, level ``customer``): order lines ``customer_id,order_date,quantity,amount``
  with no invoice id. Three groups of customers buy in clearly different ways (frequent small baskets
  bought lately; rare big baskets; a few mid baskets long ago), plus one hand-written customer
  ``KNOWN-1`` whose features are computed by hand in the tests (two orders on one day count as one
  purchase day).
- **customers** (``customers.yaml``, level ``customer_table``): a "Mall Customers"-like table
  ``CustomerID,Gender,Age,Annual Income (k$),Spending Score (1-100)`` with three groups of customers.

Both are deterministic for a seed and return the planted group of every customer, so a test can check
that the published segments recover them (adjusted Rand index).

Examples
--------
>>> frame, groups = orders_frame(seed=1, per_group=4)
>>> list(frame.columns), len(set(groups.values()))
(['customer_id', 'order_date', 'quantity', 'amount'], 3)
>>> frame2, _ = orders_frame(seed=1, per_group=4)
>>> frame.equals(frame2)
True
>>> table, groups = customers_frame(seed=1, per_group=5)
>>> list(table.columns)[:2], len(table), table["CustomerID"].is_unique
(['CustomerID', 'Gender'], 15, True)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

#: The newest order date of every orders file: recency is measured from it.
AS_OF = dt.date(2026, 6, 30)
#: The hand-written customer of the orders file: (date, quantity, amount) per order line.
KNOWN_ORDERS = (("2026-06-02", 1, "10.00"), ("2026-06-02", 3, "30.00"), ("2026-06-17", 2, "20.00"))
KNOWN_TIMES = ("09:00:00", "17:30:00", "12:00:00")  # its times of day, in a file with timestamps
#: Its features, by hand: 2 purchase days (two orders on 2 June), 60.00 spent, 30.00 per purchase day,
#: 6 units over 2 days, 15 days from first to last purchase, 13 days before AS_OF.
KNOWN_FEATURES = {"FREQUENCY": 2.0, "MONETARY": 60.0, "AVG_BASKET": 30.0, "AVG_QUANTITY": 3.0,
                  "TENURE_DAYS": 15.0, "RECENCY_DAYS": 13.0}

# per group: purchase days, (first, last) day offset before AS_OF, basket amount mean, units per order
_ORDER_GROUPS = {
    "frequent small": (24, (150, 0), 18.0, (1, 2)),
    "rare big": (3, (170, 20), 420.0, (8, 12)),
    "lapsed mid": (6, (178, 120), 95.0, (3, 5)),
}
# per group: age, annual income (k$), spending score: means; spread is small against the gaps
_CUSTOMER_GROUPS = {
    "young spenders": (24, 35, 80),
    "rich savers": (44, 105, 20),
    "older middle": (63, 90, 70),
}


def orders_frame(seed: int = 7, per_group: int = 20, timestamps: bool = False) -> tuple[pd.DataFrame, dict[str, str]]:
    """Order lines of three planted customer groups (plus ``KNOWN-1``), and each customer's group.

    Parameters
    ----------
    seed : int
        Everything random comes from ``numpy.random.default_rng(seed)``.
    per_group : int
        Customers per group.
    timestamps : bool
        Instead of ``order_date``, an ``ordered_at`` date and time (ISO, ``2026-06-02 09:00:00``): the same
        orders at a time of day (``KNOWN-1``'s two orders of 2 June at 09:00 and 17:30).

    Returns
    -------
    (frame, groups) : the order lines (the orders contract's header, rows sorted by date then customer),
    and the planted group of each customer id (``KNOWN-1`` is in no group).
    """
    rng = np.random.default_rng(seed)
    rows, groups = [], {}
    for g, (name, (days, (first, last), basket, (q_lo, q_hi))) in enumerate(_ORDER_GROUPS.items()):
        for i in range(per_group):
            cid = f"C{g + 1}{i + 1:03d}"
            groups[cid] = name
            offsets = sorted(rng.choice(np.arange(last, first + 1), size=days, replace=False), reverse=True)
            for off in offsets:
                for _ in range(1 + int(rng.random() < 0.2)):  # a fifth of the days have a second order
                    amount = max(1.0, rng.normal(basket, basket * 0.1))
                    rows.append((cid, AS_OF - dt.timedelta(days=int(off)), int(rng.integers(q_lo, q_hi + 1)),
                                 f"{amount:.2f}"))
    rows.append(("C1001", AS_OF, 1, "18.00"))  # the newest date in the data is AS_OF
    for day, qty, amount in KNOWN_ORDERS:
        rows.append(("KNOWN-1", dt.date.fromisoformat(day), qty, amount))
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "quantity", "amount"])
    frame["order_date"] = frame["order_date"].map(lambda d: d.isoformat())
    if timestamps:  # drawn last, so the orders are those of the date-only file
        times = [f"{h:02d}:{m:02d}:00" for h, m in zip(rng.integers(8, 21, len(frame)), rng.integers(0, 60, len(frame)))]
        times[-len(KNOWN_ORDERS):] = [t for t in KNOWN_TIMES]
        frame.insert(1, "ordered_at", [f"{d} {t}" for d, t in zip(frame.pop("order_date"), times)])
        return frame.sort_values(["ordered_at", "customer_id"], kind="stable").reset_index(drop=True), groups
    return frame.sort_values(["order_date", "customer_id"], kind="stable").reset_index(drop=True), groups


def customers_frame(seed: int = 7, per_group: int = 50) -> tuple[pd.DataFrame, dict[str, str]]:
    """A "Mall Customers"-like table of three planted groups, and each customer's group.

    Returns
    -------
    (frame, groups) : one row per customer (the customers contract's header; Gender drawn at random, so
    it separates nothing), and the planted group of each ``CustomerID``.
    """
    rng = np.random.default_rng(seed)
    rows, groups = [], {}
    n = 0
    for name, (age, income, score) in _CUSTOMER_GROUPS.items():
        for _ in range(per_group):
            n += 1
            cid = f"{n:04d}"
            groups[cid] = name
            rows.append((cid, rng.choice(["Female", "Male"]), int(round(rng.normal(age, 3))),
                         int(round(rng.normal(income, 6))), int(np.clip(round(rng.normal(score, 5)), 1, 100))))
    frame = pd.DataFrame(rows, columns=["CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"])
    order = rng.permutation(len(frame))  # the groups interleaved, as a real table would be
    return frame.iloc[order].reset_index(drop=True), groups


def write_orders_csv(path: str | Path, seed: int = 7, per_group: int = 20,
                     timestamps: bool = False) -> tuple[Path, dict[str, str]]:
    """:func:`orders_frame` written as CSV; returns (path, groups)."""
    frame, groups = orders_frame(seed, per_group, timestamps)
    return _write(frame, path), groups


def write_customers_csv(path: str | Path, seed: int = 7, per_group: int = 50) -> tuple[Path, dict[str, str]]:
    """:func:`customers_frame` written as CSV; returns (path, groups)."""
    frame, groups = customers_frame(seed, per_group)
    return _write(frame, path), groups


def _write(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path
