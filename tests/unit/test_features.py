"""Feature SQL generated from the contract: exact text for a tiny contract, binds for values."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from snowseg.config import load_contract
from snowseg.features import feature_sql

TINY = """
name: tiny
table: T
columns:
  - {name: id, column: ID, type: VARCHAR(8), role: invoice_id}
  - {name: amt, column: AMT, type: "NUMBER(8,2)", role: amount}
  - {name: tier, column: TIER, type: VARCHAR(8), role: categorical, values: [gold, silver plus]}
  - {name: tax, column: TAX, type: "NUMBER(8,2)", role: derived}
features: {numeric: [AMT], categorical: [TIER]}
"""


@pytest.fixture()
def tiny(tmp_path: Path):
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return load_contract(p)


def test_onehot_sql_exact(tiny):
    sql, params = feature_sql(tiny, database="DB", schema="RAW")
    assert params == {"v_tier_0": "gold", "v_tier_1": "silver plus"}
    assert sql.splitlines()[-12:] == [
        "renamed as (",
        "    select",
        "        ID as ENTITY_ID,",
        "        cast(AMT as float) as AMT,",
        "        iff(TIER = %(v_tier_0)s, 1, 0) as TIER__GOLD,",
        "        iff(TIER = %(v_tier_1)s, 1, 0) as TIER__SILVER_PLUS",
        "    from deduped",
        "),",
        "final as (",
        "    select * from renamed",
        ")",
        "select * from final order by ENTITY_ID",
    ]
    assert "TAX" not in sql  # derived money columns never enter


def test_label_encoding(tiny):
    sql, _ = feature_sql(tiny, database="DB", schema="RAW", encoding="label")
    assert "case TIER when %(v_tier_0)s then 0 when %(v_tier_1)s then 1 end as TIER" in sql


def test_supermarket_features_parse_as_snowflake():
    sql, params = feature_sql(load_contract(), database="SNOWSEG", schema="RAW")
    bound = sql % {k: f"'{v}'" for k, v in params.items()}
    tree = sqlglot.parse_one(bound, read="snowflake")
    assert len(tree.selects) == 1  # select * from final
    assert sql.count("iff(") == 3 + 2 + 2 + 6 + 3


def test_unknown_encoding(tiny):
    with pytest.raises(ValueError, match="encoding 'binary' is not supported"):
        feature_sql(tiny, database="DB", schema="RAW", encoding="binary")


ORDER_LINES = """
name: lines
table: LINES_RAW
columns:
  - {name: cust, column: CUST, type: VARCHAR(8), role: entity}
  - {name: at, column: AT_TS, type: TIMESTAMP_NTZ, role: timestamp_date}
  - {name: amt, column: AMT, type: "NUMBER(8,2)", role: amount}
features: {level: customer, numeric: [AMT]}
"""


def test_order_lines_without_invoice_or_quantity_count_purchase_days(tmp_path):
    """No invoice id: nothing deduplicated, a purchase is a calendar day of the timestamp; no quantity, no
    AVG_ column (the amount is MONETARY)."""
    p = tmp_path / "lines.yaml"
    p.write_text(ORDER_LINES)
    sql, params = feature_sql(load_contract(p), database="DB", schema="RAW")
    body = " ".join(sql.split())
    assert params == {"as_of": None} and "qualify" not in body  # recency to the newest sale
    assert "coalesce(cast(%(as_of)s as date), cast(max(AT_TS) as date)) as AS_OF_DATE" in body
    assert feature_sql(load_contract(p), database="DB", schema="RAW", as_of="2026-12-05T06:00:00")[1] == {
        "as_of": "2026-12-05"}  # recency to the run's date, bound as an ISO date
    with pytest.raises(ValueError):
        feature_sql(load_contract(p), database="DB", schema="RAW", as_of="next monday")
    assert ("cast(count(distinct cast(AT_TS as date)) as float) as FREQUENCY, cast(sum(AMT) as float) as MONETARY, "
            "cast(sum(AMT) as float) / count(distinct cast(AT_TS as date)) as AVG_BASKET, "
            "cast(datediff('day', min(AT_TS), max(AT_TS)) as float) as TENURE_DAYS from deduped") in body
    sqlglot.parse_one(sql.replace("%(", "(").replace(")s", ")"), read="snowflake")


def test_customer_table_features_are_its_columns(tmp_path):
    sql, params = feature_sql(load_contract("customers"), database="DB", schema="RAW", encoding="label")
    body = " ".join(sql.split())
    assert ("qualify row_number() over (partition by CUSTOMER_ID order by _LOADED_AT desc, _ROW desc) = 1 ), "
            "renamed as ( select CUSTOMER_ID as ENTITY_ID, cast(AGE as float) as AGE, cast(ANNUAL_INCOME_K as float) "
            "as ANNUAL_INCOME_K, cast(SPENDING_SCORE as float) as SPENDING_SCORE, case GENDER when %(v_gender_0)s "
            "then 0 when %(v_gender_1)s then 1 end as GENDER from deduped )") in body
    assert params == {"v_gender_0": "Female", "v_gender_1": "Male"}
