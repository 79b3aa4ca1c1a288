"""Feature SQL generated from the dataset contract, run in the warehouse, one query per ``features.level``.

- ``invoice`` (the seed's view): one row per invoice id, the contract's numeric feature columns as
  floats and its categorical feature columns encoded in SQL -- one-hot (one 0/1 column per contract
  value) or label (one integer code per value, as the seed did);
- ``customer``: transactions aggregated per customer, with or without an invoice id
  (:func:`customer_feature_sql`);
- ``customer_table``: one row per customer, its columns as they are (:func:`customer_table_feature_sql`).

Redundant money columns (role ``derived``) never enter. Scaling is fitted in Python on the result
(see :mod:`snowseg.clustering.transform`). docs/contracts.md describes every level's features.

Examples
--------
>>> from snowseg.config import load_contract
>>> sql, params = feature_sql(load_contract(), database="SNOWSEG", schema="RAW")
>>> "iff(BRANCH = %(v_branch_0)s, 1, 0) as BRANCH__A" in sql, params["v_branch_0"]
(True, 'A')
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pandas as pd

from snowseg import warehouse as wh
from snowseg.config import ContractError, DatasetContract
from snowseg.errors import InputError, NoPublishedRows
from snowseg.objects import dataset_objects
from snowseg.warehouse import quote_ident

FEATURE_SET_VERSION = "invoice_v3"  # v3: one-hot blocks weighted to total variance 0.5 (transform.CATEGORY_WEIGHT)


def _slug(value: str) -> str:
    """An identifier-safe, upper-case form of a category value ('Food and beverages' -> 'FOOD_AND_BEVERAGES')."""
    return re.sub(r"[^A-Z0-9]+", "_", value.upper()).strip("_") or "EMPTY"


def _encoded(contract: DatasetContract, encoding: str) -> tuple[list[str], dict]:
    """The categorical feature columns encoded in SQL (one-hot or label), and their bound values."""
    encoded: list[str] = []
    params: dict[str, Any] = {}
    for col in contract.features.categorical:
        spec = contract.column(col)
        if not spec.values:
            raise ContractError(f"categorical feature {col!r} needs a `values` list in contract {contract.name!r}")
        ident = quote_ident(col)
        names = [f"v_{col.lower()}_{i}" for i in range(len(spec.values))]
        params.update(zip(names, spec.values, strict=True))
        if encoding == "onehot":
            encoded += [
                f"        iff({ident} = %({n})s, 1, 0) as {ident}__{_slug(v)}"
                for n, v in zip(names, spec.values, strict=True)
            ]
        else:
            whens = " ".join(f"when %({n})s then {i}" for i, n in enumerate(names))
            encoded.append(f"        case {ident} {whens} end as {ident}")
    return encoded, params


def feature_sql(contract: DatasetContract, *, database: str, schema: str, encoding: str | None = None,
                as_of: str | None = None) -> tuple[str, dict]:
    """Render the feature query of the contract's ``features.level``.

    - ``invoice``: one row per invoice id, its numeric columns and encoded categoricals;
    - ``customer``: transactions aggregated per customer (:func:`customer_feature_sql`);
    - ``customer_table``: one row per customer id, its columns as they are (:func:`customer_table_feature_sql`).

    Parameters
    ----------
    contract : DatasetContract
    database, schema : str
        Where the raw table lives.
    encoding : {'onehot', 'label'}, optional
        Overrides the contract's ``features.encoding`` (invoice and customer-table levels).

    Returns
    -------
    (sql, params) : tuple of str and dict
        The query and its bound parameters (the category values).

    Raises
    ------
    ContractError
        If the contract lacks a role its level needs, or a categorical feature has no ``values`` list.
    """
    encoding = encoding or contract.features.encoding
    if encoding not in {"onehot", "label"}:
        raise InputError(f"encoding {encoding!r} is not supported; use 'onehot' or 'label'")
    if contract.features.level == "customer":
        return customer_feature_sql(contract, database=database, schema=schema, as_of=as_of)
    if contract.features.level == "customer_table":
        return customer_table_feature_sql(contract, database=database, schema=schema, encoding=encoding)
    key = contract.column_for_role("invoice_id")
    if key is None:
        raise ContractError(f"contract {contract.name!r} has no column with role 'invoice_id'")
    encoded, params = _encoded(contract, encoding)
    columns = [",\n".join(_numeric(contract)) or "        null as NO_NUMERIC",
               ",\n".join(encoded) or "        null as NO_CATEGORICAL"]
    return _entity_feature_sql(contract, key.column, columns, database=database, schema=schema), params


def customer_table_feature_sql(contract: DatasetContract, *, database: str, schema: str,
                               encoding: str | None = None) -> tuple[str, dict]:
    """Render the customer-table feature query (``features.level: customer_table``): no aggregation.

    One row per customer (the ``entity`` column) of the published rows: the numeric feature columns as
    floats and the categorical ones encoded as at invoice level. A customer sent again in a later batch
    (a refreshed table) is read from its newest row.

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> sql, params = customer_table_feature_sql(load_contract("customers"), database="D", schema="RAW")
    >>> "CUSTOMER_ID as ENTITY_ID" in sql, "iff(GENDER = %(v_gender_0)s, 1, 0) as GENDER__FEMALE" in sql
    (True, True)
    """
    entity = contract.column_for_role("entity")
    if entity is None:
        raise ContractError(f"contract {contract.name!r}: customer-table features need a column with role 'entity'")
    encoded, params = _encoded(contract, encoding or contract.features.encoding)
    return _entity_feature_sql(contract, entity.column, _numeric(contract) + encoded, database=database,
                               schema=schema), params


def _numeric(contract: DatasetContract) -> list[str]:
    """The contract's numeric feature columns as floats, one select line each."""
    return [f"        cast({quote_ident(c)} as float) as {quote_ident(c)}" for c in contract.features.numeric]


def _entity_feature_sql(contract: DatasetContract, entity: str, columns: list[str], *, database: str,
                        schema: str) -> str:
    """The one-row-per-entity feature query (invoice and customer-table levels) over the published rows."""
    return wh.render("features/select_entity_features.sql", database=database, schema=schema,
                     table=dataset_objects(contract).published, entity=quote_ident(entity),
                     features=",\n".join(columns))


def customer_feature_sql(contract: DatasetContract, *, database: str, schema: str,
                         as_of: str | None = None) -> tuple[str, dict]:
    """Render the customer-level feature query (``features.level: customer``): RFM plus behaviour.

    One row per customer (the ``entity`` column) over the published transactions. A *purchase* is an
    invoice when the contract has an ``invoice_id`` column, else a calendar day with sales (the
    ``timestamp_date`` column; a TIMESTAMP_NTZ is counted by its date, so two orders of one day are one
    purchase). ``RECENCY_DAYS`` (days from the customer's last sale to `as_of`, an ISO date -- the run's
    date, so recency ages without new sales -- or, when None, to the newest sale in the data),
    ``FREQUENCY`` (purchases), ``MONETARY`` (total spend), ``AVG_BASKET`` (spend per purchase),
    ``TENURE_DAYS`` (first to last sale); for each numeric feature other than the amount ``AVG_<col>``,
    the mean per row, except the ``quantity`` column, whose ``AVG_<col>`` is units per purchase; and for
    each categorical feature one share-of-rows column per value (``PAYMENT__CASH``: the share of the
    customer's rows paid in cash), so the payment mix, the membership and the product-line shares are
    features. Shares of one categorical sum to 1, like a one-hot block, and are weighted as one (see
    :func:`onehot_groups`). With an invoice id, a re-sent invoice replaces the earlier one; without one,
    every published row counts (see docs/contracts.md for the gate's rule).

    Examples
    --------
    >>> from snowseg.config import load_contract
    >>> sql, params = customer_feature_sql(load_contract("supermarket_customers"), database="D", schema="RAW")
    >>> "count(distinct INVOICE_ID) as float) as FREQUENCY" in sql
    True
    >>> "avg(iff(PAYMENT = %(v_payment_0)s, 1, 0)) as PAYMENT__CASH" in sql
    True
    >>> sql, _ = customer_feature_sql(load_contract("orders"), database="D", schema="RAW")
    >>> "count(distinct cast(ORDER_DATE as date)) as float) as FREQUENCY" in sql
    True
    """
    roles = {r: contract.column_for_role(r) for r in ("entity", "timestamp_date", "amount")}
    missing = [r for r, c in roles.items() if c is None]
    if missing:
        raise ContractError(f"contract {contract.name!r}: customer-level features need columns with roles {missing}")
    entity_spec, date_spec, amount_spec = roles["entity"], roles["timestamp_date"], roles["amount"]
    assert entity_spec and date_spec and amount_spec  # none is missing (checked above)
    amount = amount_spec.column
    invoice, quantity = contract.column_for_role("invoice_id"), contract.column_for_role("quantity")
    sale_date = quote_ident(date_spec.column)
    if invoice is not None:
        purchase = quote_ident(invoice.column)
        dedup = f"qualify row_number() over (partition by {purchase} order by _LOADED_AT desc, _ROW desc) = 1"
    else:
        purchase, dedup = f"cast({sale_date} as date)", ""
    purchases = f"count(distinct {purchase})"
    numeric = []
    for c in contract.features.numeric:
        if c == amount:
            continue
        if quantity is not None and c == quantity.column:
            numeric.append(f"        cast(sum({quote_ident(c)}) as float) / {purchases} as {quote_ident('AVG_' + c)}")
        else:
            numeric.append(f"        avg(cast({quote_ident(c)} as float)) as {quote_ident('AVG_' + c)}")
    mix: list[str] = []
    params: dict[str, Any] = {}
    for col in contract.features.categorical:
        spec = contract.column(col)
        if not spec.values:
            raise ContractError(f"categorical feature {col!r} needs a `values` list in contract {contract.name!r}")
        names = [f"v_{col.lower()}_{i}" for i in range(len(spec.values))]
        params.update(zip(names, spec.values, strict=True))
        mix += [f"        avg(iff({quote_ident(col)} = %({n})s, 1, 0)) as {quote_ident(col)}__{_slug(v)}"
                for n, v in zip(names, spec.values, strict=True)]
    sql = wh.render(
        "features/select_customer_features.sql", database=database, schema=schema,
        table=dataset_objects(contract).published,
        entity=quote_ident(entity_spec.column), purchases=purchases, dedup=dedup,
        sale_date=sale_date, amount=quote_ident(amount),
        features="".join(",\n" + f for f in numeric + mix),
    )
    return sql, {**params, "as_of": _iso_date(as_of)}


def _iso_date(value: str | None) -> str | None:
    """An as-of date, checked: ``YYYY-MM-DD`` (it is bound as a parameter, never put into the SQL text)."""
    if value is None:
        return None
    import datetime

    return datetime.date.fromisoformat(str(value)[:10]).isoformat()


def read_features(cur: Any, contract: DatasetContract, *, database: str, schema: str, encoding: str | None = None,
                  as_of: str | None = None) -> pd.DataFrame:
    """Run the feature query; return a frame indexed by ENTITY_ID with float feature columns."""
    sql, params = feature_sql(contract, database=database, schema=schema, encoding=encoding, as_of=as_of)
    df = wh.fetch_df(cur, sql, params)
    if df.empty:
        raise NoPublishedRows(f"{database}.{schema}.{dataset_objects(contract).published}")
    return df.set_index("ENTITY_ID").astype(float)


def data_snapshot(cur: Any, contract: DatasetContract, *, database: str, schema: str) -> dict:
    """Row count, newest `_LOADED_AT` and batch ids of the published rows, with a short digest of them."""
    row_count, max_loaded_at, batches = wh.run(
        cur, "features/select_data_snapshot.sql", database=database, schema=schema,
        table=dataset_objects(contract).published
    )[0]
    digest = hashlib.sha256(f"{row_count}|{max_loaded_at}|{batches}".encode()).hexdigest()[:16]
    return {"row_count": int(row_count), "max_loaded_at": str(max_loaded_at), "batches": batches or "",
            "digest": digest}


def onehot_groups(columns) -> list[list[int]]:
    """Indices of the one-hot blocks in a feature frame's columns (``COL__VALUE`` share ``COL``).

    Examples
    --------
    >>> onehot_groups(["TOTAL", "BRANCH__A", "BRANCH__B", "GENDER__FEMALE", "GENDER__MALE"])
    [[1, 2], [3, 4]]
    """
    blocks: dict[str, list[int]] = {}
    for i, c in enumerate(columns):
        if "__" in c:
            blocks.setdefault(c.split("__", 1)[0], []).append(i)
    return list(blocks.values())


def drop_correlated(X: pd.DataFrame, threshold: float = 0.95) -> tuple[pd.DataFrame, list[dict]]:
    """Drop redundant features: a column (or a whole one-hot block) that correlates at ``|r| >= threshold``
    with a column kept before it, in column order.

    Columns of one one-hot block (``COL__VALUE``) are compared with other columns, never with each
    other (a block's values are dependent by construction). A block is dropped only as a whole, when
    every one of its columns has a twin among the kept columns (e.g. City, which is 1:1 with Branch).
    Constant numeric columns are dropped too (they carry nothing and have no correlation); a constant
    one-hot column stays, so its block stays whole for the profiles.

    Returns
    -------
    (kept, dropped) : the frame without the dropped columns, and one ``{"column", "twin", "r"}`` per
    dropped column (``twin`` None and ``r`` None for a constant column), recorded in MODEL_RUNS.

    Examples
    --------
    >>> X = pd.DataFrame({"A": [1.0, 2, 3, 4], "B": [2.0, 4, 6, 8.5], "C": [1.0, 0, 1, 0], "K": [5.0] * 4})
    >>> kept, dropped = drop_correlated(X)
    >>> list(kept.columns), [(d["column"], d["twin"]) for d in dropped]
    (['A', 'C'], [('B', 'A'), ('K', None)])
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"correlation threshold must be in (0, 1], got {threshold}")
    std = X.std(axis=0, ddof=0)
    constant = [c for c in X.columns if not std[c] > 0 and "__" not in c]
    varying = X.drop(columns=constant)
    r = varying.corr().abs() if len(varying.columns) else pd.DataFrame()
    units: list[list[str]] = []  # a numeric column, or a one-hot block, in column order
    blocks: dict[str, list[str]] = {}
    for c in varying.columns:
        if "__" in c:
            base = c.split("__", 1)[0]
            if base not in blocks:
                blocks[base] = []
                units.append(blocks[base])
            blocks[base].append(c)
        else:
            units.append([c])
    corr: dict[Any, dict[Any, float]] = r.to_dict()  # |r| is symmetric: corr[k][c] is r.loc[c, k]
    kept: list[str] = []
    dropped: list[dict] = []
    for unit in units:
        twins = []
        for c in unit:
            cands = [(float(corr[k][c]), k) for k in kept if corr[k][c] >= threshold]
            if not cands:
                break
            twins.append((c, *max(cands)))
        if len(twins) == len(unit) and kept:
            dropped += [{"column": c, "twin": k, "r": round(v, 4)} for c, v, k in twins]
        else:
            kept += unit
    dropped += [{"column": c, "twin": None, "r": None} for c in constant]
    return X[[c for c in X.columns if c in kept]], dropped
