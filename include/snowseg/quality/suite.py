"""The expectation suite, as code, derived from the dataset contract.

Each rule has a severity: ``error`` rules block (a row that fails a row-level ``error`` rule is
quarantined; a batch that fails a batch-level ``error`` rule is held), ``warn`` rules are reported.
From the contract, for any schema:

- schema: the table's columns are the contract's plus the load lineage, nothing else (batch, error);
- completeness: not null on required columns (``nullable: false``, and the roles a model needs:
  invoice id, entity, date, amount, quantity, unit price, categoricals) (row, error);
- uniqueness of the row key (:func:`row_key`: the invoice id; at ``customer_table`` level the customer
  id; none for transactions without an invoice id) (row, error); at ``customer_table`` level the numeric
  features are required too;
- value sets of categoricals that list their ``values`` (row, error);
- ``quality.ranges`` and ``quality.dates`` (a date not in the future by default) (row, error);
- ``quality.identities``: ``|left - (right)| <= tolerance``, computed in the warehouse (row, error);
- ``quality.expectations``: any GX expectation by type, with its kwargs and severity;
- batch: the row count equals LOAD_AUDIT's loaded rows for the batch (error); the newest
  ``_LOADED_AT`` within ``freshness_hours`` (warn).

GX is imported only by :func:`to_gx`, inside tasks: parsing the DAGs never imports it.

Examples
--------
>>> from snowseg.config import load_contract
>>> rules = contract_rules(load_contract(), expected_rows=1000, today="2026-11-27", now="2026-11-27 12:00:00")
>>> [r.name for r in rules if r.column == "QUANTITY"]
['not_null:QUANTITY', 'range:QUANTITY']
>>> sorted({r.severity for r in rules})
['error', 'warn']
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from snowseg.config import DatasetContract

LINEAGE = ("_FILE", "_ROW", "_LOAD_PATH", "_LOADED_AT", "_BATCH_ID")
ROW_KEY = ("_FILE", "_ROW")  # identifies a raw row within a batch
REQUIRED_ROLES = frozenset({"invoice_id", "entity", "timestamp_date", "amount", "quantity", "unit_price",
                            "categorical"})
# expectation types whose failures are individual rows (they can be quarantined)
_ROW_LEVEL_PREFIXES = ("expect_column_values_", "expect_column_pair_values_", "expect_multicolumn_values_",
                       "expect_compound_columns_", "expect_select_column_values_")


@dataclass(frozen=True)
class Rule:
    """One expectation: a stable name, its GX type and kwargs, severity, and whether failures are rows."""

    name: str
    type: str
    kwargs: dict[str, Any] = field(hash=False)
    severity: str
    column: str | None = None
    rows: bool | None = None  # row-level or not, for rules that are not GX expectations

    @property
    def row_level(self) -> bool:
        return self.rows if self.rows is not None else self.type.startswith(_ROW_LEVEL_PREFIXES)


def identity_column(name: str) -> str:
    """The computed column holding an identity's residual, e.g. ``_ID_TOTAL_IS_COGS_PLUS_TAX``.

    Examples
    --------
    >>> identity_column("total_is_cogs_plus_tax")
    '_ID_TOTAL_IS_COGS_PLUS_TAX'
    """
    return "_ID_" + "".join(ch if ch.isalnum() else "_" for ch in name).upper()


def identity_sql(contract: DatasetContract, unchecked: Mapping[str, str] | None = None) -> str:
    """The select-list items computing each identity's residual (validated expressions from the contract).

    An identity whose column is in `unchecked` (see :func:`unchecked_columns`) is not computed: its
    residual column is NULL, so the query runs and its rule is reported as not checked.
    """
    unchecked = unchecked or {}
    return "".join(
        f",\n    cast(null as float) as {identity_column(i.name)}" if identity_column(i.name) in unchecked
        else f",\n    abs(({i.left}) - ({i.right})) as {identity_column(i.name)}" for i in contract.quality.identities
    )


def unchecked_columns(contract: DatasetContract, present: set[str], mismatches: list[str]) -> dict[str, str]:
    """Columns whose rules cannot run, with the reason: missing from the table, of another type than
    the contract's (see :func:`type_mismatches`), and identity residuals that depend on either.

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> c = load_contract()
    >>> mismatch = ["RATING: contract NUMBER(4,1), table TEXT(16)"]
    >>> out = unchecked_columns(c, set(c.column_names) - {"TAX_5_PCT"}, mismatch)
    >>> out["TAX_5_PCT"], out["RATING"]
    ('column TAX_5_PCT is missing', 'not checked: RATING: contract NUMBER(4,1), table TEXT(16)')
    >>> sorted(k for k in out if k.startswith("_ID_"))
    ['_ID_GROSS_INCOME_IS_TAX', '_ID_TAX_IS_5_PCT_OF_COGS', '_ID_TOTAL_IS_COGS_PLUS_TAX']
    """
    out = {c: f"column {c} is missing" for c in contract.column_names if c not in present}
    for m in mismatches:
        out[m.split(":", 1)[0]] = f"not checked: {m}"
    for i in contract.quality.identities:
        used = set(re.findall(r"[A-Z_][A-Z0-9_]*", f"{i.left} {i.right}"))
        if bad := sorted(used & out.keys()):
            out[identity_column(i.name)] = f"not computed: {', '.join(bad)} missing or of another type"
    return out


def row_key(contract: DatasetContract) -> str | None:
    """The column that must be unique within a batch, or None (see docs/contracts.md, "The gate's rules").

    The invoice id when the contract has one (one row per invoice); at ``customer_table`` level the
    customer id (one row per customer); transactions without an invoice id have no row key: two equal
    rows (same customer, date and amount) can be two real purchases, so none is quarantined.

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> [row_key(load_contract(c)) for c in ("supermarket", "orders", "customers")]
    ['INVOICE_ID', None, 'CUSTOMER_ID']
    """
    if (key := contract.column_for_role("invoice_id")) is not None:
        return key.column
    if contract.features.level == "customer_table" and (entity := contract.column_for_role("entity")) is not None:
        return entity.column
    return None


def contract_rules(contract: DatasetContract, *, expected_rows: int | None, today: str, now: str) -> list[Rule]:
    """Every rule for one batch of the contract's raw table.

    Parameters
    ----------
    contract : DatasetContract
    expected_rows : int or None
        The batch's loaded rows according to LOAD_AUDIT (None: no batch row-count rule).
    today, now : str
        ISO date and timestamp the date and freshness rules compare with.
    """
    q = contract.quality
    rules: list[Rule] = []
    identity_cols = [identity_column(i.name) for i in q.identities]
    rules.append(Rule("schema:columns", "expect_table_columns_to_match_set",
                      {"column_set": [*contract.column_names, *LINEAGE, *identity_cols], "exact_match": True}, "error"))
    for c in contract.columns:
        if not c.nullable or c.role in REQUIRED_ROLES:
            rules.append(Rule(f"not_null:{c.column}", "expect_column_values_to_not_be_null", {"column": c.column},
                              "error", c.column))
    if contract.features.level == "customer_table":  # the rows are the feature rows: a feature must be there
        for col in contract.features.numeric:
            if not any(r.name == f"not_null:{col}" for r in rules):
                rules.append(Rule(f"not_null:{col}", "expect_column_values_to_not_be_null", {"column": col}, "error",
                                  col))
    if key := row_key(contract):
        rules.append(Rule(f"unique:{key}", "expect_column_values_to_be_unique", {"column": key}, "error", key))
    for c in contract.columns:
        if c.values:
            rules.append(Rule(f"value_set:{c.column}", "expect_column_values_to_be_in_set",
                              {"column": c.column, "value_set": list(c.values)}, "error", c.column))
    for column, lo, hi, strict_min in q.ranges:
        kwargs: dict[str, Any] = {"column": column}
        if lo is not None:
            kwargs["min_value"], kwargs["strict_min"] = lo, strict_min
        if hi is not None:
            kwargs["max_value"] = hi
        rules.append(Rule(f"range:{column}", "expect_column_values_to_be_between", kwargs, "error", column))
    if date := contract.column_for_role("timestamp_date"):
        first, last = q.dates
        kwargs = {"column": date.column}
        if first:
            kwargs["min_value"] = f"{first}T00:00:00"
        if last:
            kwargs["max_value"] = f"{today if str(last) == 'today' else last}T23:59:59"
        rules.append(Rule(f"date_window:{date.column}", "expect_column_values_to_be_between", kwargs, "error",
                          date.column))
    for i in q.identities:
        col = identity_column(i.name)
        rules.append(Rule(f"identity:{i.name}", "expect_column_values_to_be_between",
                          {"column": col, "min_value": 0, "max_value": i.tolerance}, i.severity, col))
    for n, e in enumerate(q.expectations, start=1):
        column = e["kwargs"].get("column")
        rules.append(Rule(f"contract:{e['type']}:{column or n}", e["type"], dict(e["kwargs"]), e["severity"], column))
    if expected_rows is not None:
        rules.append(Rule("batch:row_count_equals_load_audit", "expect_table_row_count_to_equal",
                          {"value": int(expected_rows)}, "error"))
    oldest_fresh = (dt.datetime.fromisoformat(now) - dt.timedelta(hours=q.freshness_hours)).isoformat(sep=" ")
    rules.append(Rule("batch:freshness", "expect_column_max_to_be_between",
                      {"column": "_LOADED_AT", "min_value": oldest_fresh}, "warn", "_LOADED_AT"))
    return rules


def type_mismatches(contract: DatasetContract, columns: list[tuple]) -> list[str]:
    """Contract columns whose warehouse type differs, from INFORMATION_SCHEMA.COLUMNS rows
    (name, data type, precision, scale, length); a missing column is left to the ``schema:columns`` rule.

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> c = load_contract()
    >>> type_mismatches(c, [("QUANTITY", "NUMBER", 6, 0, None), ("RATING", "TEXT", None, None, 16)])
    ['RATING: contract NUMBER(4,1), table TEXT(16)']
    """
    found = {str(name).upper(): (str(t).upper(), p, s, n) for name, t, p, s, n in columns}
    out = []
    for c in contract.columns:
        if c.column not in found:
            continue
        data_type, precision, scale, length = found[c.column]
        want = c.type.replace(" ", "")
        if want.startswith("VARCHAR"):
            ok = data_type == "TEXT" and (want == "VARCHAR" or f"VARCHAR({length})" == want)
        elif want.startswith("NUMBER"):
            ok = data_type == "NUMBER" and (want == "NUMBER" or f"NUMBER({precision},{scale})" == want)
        else:
            ok = data_type == want
        if not ok:
            shown = data_type + (f"({length})" if length else f"({precision},{scale})" if precision is not None else "")
            out.append(f"{c.column}: contract {c.type.replace(' ', '')}, table {shown}")
    return out


def to_gx(rule: Rule) -> Any:
    """The rule as a GX 1.x expectation object (GX is imported here, not at module import)."""
    import great_expectations as gx

    class_name = "".join(part.capitalize() if part not in {"a", "b"} else part.upper() for part in rule.type.split("_"))
    cls = getattr(gx.expectations, class_name, None)
    if cls is None:
        raise ValueError(f"rule {rule.name!r}: {rule.type!r} is not a GX expectation type (no {class_name})")
    return cls(**rule.kwargs, meta={"name": rule.name, "severity": rule.severity})
