"""The segment table a person reads after a run: size, mean amount, category shares, per segment.

The mean amount is the amount column's mean per feature row: an invoice's amount at ``invoice`` level, a
customer's total spend (MONETARY) at ``customer`` level, the amount column as it is at ``customer_table``
level; a contract with no ``amount`` column has no spend column.
"""

from __future__ import annotations

import json
from typing import Any

from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.warehouse import Names


def segment_table(cur: Any, names: Names, contract: DatasetContract) -> list[dict]:
    """Rows for the dataset's (the contract's) current model run's segments, with the contract's profile columns."""
    rows = wh.run(cur, "segments/select_current_profiles.sql", {"dataset": contract.name}, database=names.database,
                  schema=names.analytics)
    amount = contract.column_for_role("amount")
    out = []
    for sid, name, size, share, mean_amount, top_json, run_id, stability, band, confidence in rows:
        cats = json.loads(top_json or "{}")
        row = {"segment": int(sid), "name": name, "size": int(size), "share": float(share), "model_run_id": run_id}
        if amount is not None:  # a customer table may have no amount: no spend column then
            row[f"mean {_spend_label(contract)}"] = mean_amount
        for col, value in contract.profile.shares:
            row[f"% {value}"] = cats.get(col, {}).get(value)
        for col in contract.profile.top:
            mix = cats.get(col, {})
            top = max(mix, key=mix.get) if mix else None
            row[f"top {contract.column(col).name}"] = f"{top} ({mix[top]:.0%})" if top else None
        row["stability"] = None if stability is None else f"{stability:.2f} ({band})"
        row["mean confidence"] = confidence
        out.append(row)
    return out


def _spend_label(contract: DatasetContract) -> str:
    """What a segment's mean amount measures at the contract's level.

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> _spend_label(load_contract("supermarket")), _spend_label(load_contract("orders"))
    ('Total', 'spend per customer (amount)')
    """
    amount = contract.column_for_role("amount")
    if amount is None:
        return "amount"
    if contract.features.level == "customer":  # the profiles' mean amount is MONETARY: a customer's total
        return f"spend per customer ({amount.name})"
    return amount.name


def format_table(rows: list[dict]) -> str:
    """A plain-text table (no model_run_id column)."""
    if not rows:
        return "(no segments published yet)"
    cols = [c for c in rows[0] if c != "model_run_id"]

    def fmt(c: str, v: Any) -> str:
        if v is None:
            return "-"
        if c.startswith("%") or c == "share":
            return f"{v:.1%}"
        if isinstance(v, float):
            return f"{v:,.2f}"
        return str(v)

    cells = [[fmt(c, r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    body = ["  ".join(v.ljust(w) if i == 1 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True)))
            for row in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])
