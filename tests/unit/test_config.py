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
    with pytest.raises(ContractError, match=r"known contracts: \['supermarket', 'supermarket_customers'\]"):
        load_contract("nope")
