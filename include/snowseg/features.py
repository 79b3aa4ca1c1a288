"""Feature SQL generated from the dataset contract, run in the warehouse.

The invoice-level view (the seed's): the contract's numeric feature columns as floats and its
categorical feature columns encoded in SQL -- one-hot (one 0/1 column per contract value) or label
(one integer code per value, as the seed did). Redundant money columns (role ``derived``) never enter.
Scaling is fitted in Python on the result (see :mod:`snowseg.clustering.selection`).

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
from snowseg.config import DatasetContract
from snowseg.quality.gate import published_view_name
from snowseg.warehouse import quote_ident

FEATURE_SET_VERSION = "invoice_v2"  # v2: one-hot blocks weighted by 1/sqrt(width) when scaled


def _slug(value: str) -> str:
    """An identifier-safe, upper-case form of a category value ('Food and beverages' -> 'FOOD_AND_BEVERAGES')."""
    return re.sub(r"[^A-Z0-9]+", "_", value.upper()).strip("_") or "EMPTY"


def feature_sql(contract: DatasetContract, *, database: str, schema: str, encoding: str | None = None) -> tuple[str, dict]:
    """Render the invoice-level feature query for a contract.

    Parameters
    ----------
    contract : DatasetContract
    database, schema : str
        Where the raw table lives.
    encoding : {'onehot', 'label'}, optional
        Overrides the contract's ``features.encoding``.

    Returns
    -------
    (sql, params) : tuple of str and dict
        The query and its bound parameters (the category values).

    Raises
    ------
    ValueError
        If the contract has no invoice_id column, or a categorical feature has no ``values`` list.
    """
    encoding = encoding or contract.features.encoding
    if encoding not in {"onehot", "label"}:
        raise ValueError(f"encoding {encoding!r} is not supported; use 'onehot' or 'label'")
    key = contract.column_for_role("invoice_id")
    if key is None:
        raise ValueError(f"contract {contract.name!r} has no column with role 'invoice_id'")
    numeric = [f"        cast({quote_ident(c)} as float) as {quote_ident(c)}" for c in contract.features.numeric]
    encoded, params = [], {}
    for col in contract.features.categorical:
        spec = contract.column(col)
        if not spec.values:
            raise ValueError(f"categorical feature {col!r} needs a `values` list in contract {contract.name!r}")
        ident = quote_ident(col)
        names = [f"v_{col.lower()}_{i}" for i in range(len(spec.values))]
        params.update(zip(names, spec.values))
        if encoding == "onehot":
            encoded += [
                f"        iff({ident} = %({n})s, 1, 0) as {ident}__{_slug(v)}" for n, v in zip(names, spec.values)
            ]
        else:
            whens = " ".join(f"when %({n})s then {i}" for i, n in enumerate(names))
            encoded.append(f"        case {ident} {whens} end as {ident}")
    sql = wh.render(
        "features/select_invoice_features.sql", database=database, schema=schema, table=published_view_name(contract),
        entity=quote_ident(key.column), numeric=",\n".join(numeric) or "        null as NO_NUMERIC",
        encoded=",\n".join(encoded) or "        null as NO_CATEGORICAL",
    )
    return sql, params


def read_features(cur: Any, contract: DatasetContract, *, database: str, schema: str, encoding: str | None = None) -> pd.DataFrame:
    """Run the feature query; return a frame indexed by ENTITY_ID with float feature columns."""
    sql, params = feature_sql(contract, database=database, schema=schema, encoding=encoding)
    df = wh.fetch_df(cur, sql, params)
    if df.empty:
        raise ValueError(
            f"no published rows in {database}.{schema}.{published_view_name(contract)}: load a file first "
            "(e.g. DAG load_small_file) and let the quality gate publish its batch"
        )
    return df.set_index("ENTITY_ID").astype(float)


def data_snapshot(cur: Any, contract: DatasetContract, *, database: str, schema: str) -> dict:
    """Row count, newest `_LOADED_AT` and batch ids of the published rows, with a short digest of them."""
    row_count, max_loaded_at, batches = wh.run(
        cur, "features/select_data_snapshot.sql", database=database, schema=schema, table=published_view_name(contract)
    )[0]
    digest = hashlib.sha256(f"{row_count}|{max_loaded_at}|{batches}".encode()).hexdigest()[:16]
    return {"row_count": int(row_count), "max_loaded_at": str(max_loaded_at), "batches": batches or "", "digest": digest}


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
