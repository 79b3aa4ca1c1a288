"""The dataset contract: typed from YAML, refused with a message naming the file and entry."""

from __future__ import annotations

from typing import NamedTuple

import pytest
import yaml

from snowseg.config import ContractError, load_contract


def test_default_contract_is_the_seed_schema(seed_csv):
    c = load_contract()
    assert (c.name, c.table, len(c.columns)) == ("supermarket_sales", "SALES_RAW", 17)
    assert ",".join(c.header) == seed_csv.read_text().splitlines()[0]
    assert [x.column for x in c.columns_for_role("derived")] == ["TAX_5_PCT", "COGS", "GROSS_MARGIN_PCT", "GROSS_INCOME"]
    assert c.column_for_role("amount").column == "TOTAL"
    assert c.features.categorical == ("BRANCH", "CUSTOMER_TYPE", "GENDER", "PRODUCT_LINE", "PAYMENT")


def test_customer_contract_adds_entity_after_invoice():
    c = load_contract("supermarket_customers")
    assert c.header[:3] == ["Invoice ID", "Customer ID", "Branch"]
    assert c.column_for_role("entity").column == "CUSTOMER_ID"


class Bad(NamedTuple):
    change: dict
    message: str


def _base() -> dict:
    return yaml.safe_load(load_contract().source.read_text())


BAD = [
    pytest.param(Bad({"columns": [{"name": "a", "column": "A", "type": "VARCHAR", "role": "shoe_size"}]}, "unknown role 'shoe_size'"), id="role"),
    pytest.param(Bad({"columns": [{"name": "a", "column": "A", "type": "TEXT", "role": "numeric"}]}, "type 'TEXT' is not supported"), id="type"),
    pytest.param(Bad({"columns": [{"name": "a", "column": "A;DROP", "type": "VARCHAR", "role": "numeric"}]}, "is not a plain identifier"), id="ident"),
    pytest.param(Bad({"table": "SALES RAW"}, "table 'SALES RAW' is not a plain identifier"), id="table"),
    pytest.param(Bad({"features": {"numeric": ["NOPE"]}}, "feature column 'NOPE' is not a contract column"), id="feature"),
    pytest.param(Bad({"features": {"encoding": "binary"}}, "features.encoding 'binary'"), id="encoding"),
]


@pytest.mark.parametrize("case", BAD)
def test_bad_contracts(tmp_path, case: Bad):
    raw = {**_base(), **case.change}
    if "columns" in case.change:
        raw["features"], raw["profile"] = {}, {}
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(ContractError) as err:
        load_contract(p)
    assert str(p) in str(err.value) and case.message in str(err.value)


def test_unknown_contract_lists_known():
    with pytest.raises(ContractError, match=r"known contracts: \['customers', 'orders', 'supermarket', "
                                            r"'supermarket_customers'\]; draft one with `make contract FILE=...`"):
        load_contract("nope")


def test_the_example_contracts_load_at_their_levels():
    orders, customers = load_contract("orders"), load_contract("customers")
    assert (orders.features.level, orders.column_for_role("invoice_id"), orders.column_for_role("quantity").column) == (
        "customer", None, "QUANTITY")
    assert orders.header == ["customer_id", "order_date", "quantity", "amount"]
    assert customers.features.level == "customer_table"
    assert customers.header == ["CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"]


ORDERS_COLUMNS = [
    {"name": "customer_id", "column": "CUSTOMER_ID", "type": "VARCHAR(32)", "role": "entity"},
    {"name": "order_date", "column": "ORDER_DATE", "type": "DATE", "role": "timestamp_date"},
    {"name": "Amount", "column": "AMOUNT", "type": "NUMBER(12,2)", "role": "amount"},
]


class Fielded(NamedTuple):
    raw: dict
    field: str
    message: str


def _orders(columns=ORDERS_COLUMNS, **features) -> dict:
    return {"name": "t", "table": "T_RAW", "columns": columns, "features": {"level": "customer", **features}}


FIELDED = [
    pytest.param(Fielded(_orders([*ORDERS_COLUMNS[:2], {**ORDERS_COLUMNS[2], "role": "amout"}]), "columns[3] ('Amount').role",
                         "columns[3] ('Amount').role: unknown role 'amout'; write one of amount, categorical, derived"),
                 id="unknown-role"),
    pytest.param(Fielded(_orders(ORDERS_COLUMNS[1:]), "features.level",
                         "features.level: features.level 'customer' needs a column with role 'entity' (the customer id); "
                         "add `role: entity` to that column"), id="customer-needs-entity"),
    pytest.param(Fielded({**_orders(), "features": {"level": "invoice"}}, "features.level",
                         "needs a column with role 'invoice_id' (the row key: one row per invoice or order id); add "
                         "`role: invoice_id` to that column, or use level customer"), id="invoice-needs-invoice-id"),
    pytest.param(Fielded(_orders([ORDERS_COLUMNS[0], {**ORDERS_COLUMNS[1], "type": "VARCHAR(10)"}, ORDERS_COLUMNS[2]]),
                         "columns[2] ('order_date').type",
                         "role 'timestamp_date' on type VARCHAR(10); write type DATE (a date) or TIMESTAMP_NTZ"),
                 id="date-type"),
    pytest.param(Fielded(_orders(level="rfm"), "features.level", "features.level 'rfm' is unknown; write one of invoice ("),
                 id="unknown-level"),
    pytest.param(Fielded(_orders(numeric=["CUSTOMER_ID"]), "features",
                         "the entity column 'CUSTOMER_ID' is listed as a feature"), id="entity-as-feature"),
    pytest.param(Fielded({**_orders(), "features": {"level": "customer_table"}}, "features",
                         "level 'customer_table' has no feature columns"), id="customer-table-without-features"),
    pytest.param(Fielded({k: v for k, v in _orders().items() if k != "table"}, "table",
                         "missing required key 'table'; add `table:` (the raw table"), id="missing-table"),
]


@pytest.mark.parametrize("case", FIELDED)
def test_contract_errors_name_the_field_and_say_what_to_write(tmp_path, case: Fielded):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(case.raw))
    with pytest.raises(ContractError) as err:
        load_contract(p)
    assert (err.value.path, err.value.field) == (str(p), case.field)
    assert err.value.advice and case.message in str(err.value), str(err.value)


def test_transactions_load_without_invoice_id_or_quantity(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(_orders(numeric=["AMOUNT"])))
    c = load_contract(p)
    assert (c.features.level, c.column_for_role("invoice_id"), c.column_for_role("quantity")) == ("customer", None, None)


def test_the_contract_param_offers_the_known_contracts(monkeypatch, tmp_path):
    from snowseg.config import contract_param

    (tmp_path / "my_sales.yaml").write_text(yaml.safe_dump(_orders()))
    monkeypatch.setenv("SNOWSEG_CONTRACTS_DIR", str(tmp_path))
    p = contract_param()
    assert p.value == "supermarket"
    assert p.schema["enum"] == ["customers", "my_sales", "orders", "supermarket", "supermarket_customers"]
    assert "make contract FILE=" in p.description and str(tmp_path) in p.description
