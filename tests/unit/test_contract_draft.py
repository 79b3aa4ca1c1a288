"""`make contract`: a contract drafted from a CSV's header and sample rows, every guess commented."""

from __future__ import annotations

from typing import NamedTuple

import pytest
import yaml
from snowseg_twin.shapes import write_customers_csv, write_orders_csv

from snowseg.config import load_contract
from snowseg.contract_draft import DraftError, draft_contract, main, render_yaml


def _drafted(tmp_path, csv_path, **kw):
    out = tmp_path / "contracts" / f"{csv_path.stem}.yaml"
    out.parent.mkdir(exist_ok=True)
    out.write_text(render_yaml(draft_contract(csv_path, **kw), csv_path))
    return load_contract(out), out.read_text()


def _shape(contract) -> list[tuple]:
    return [(c.name, c.type, c.role, c.values) for c in contract.columns]


def test_orders_draft_is_the_orders_contract_up_to_widths(tmp_path):
    path, _ = write_orders_csv(tmp_path / "orders.csv")
    got, text = _drafted(tmp_path, path)
    want = load_contract("orders")
    assert [(c.name, c.column, c.role) for c in got.columns] == [(c.name, c.column, c.role) for c in want.columns]
    assert [c.type for c in got.columns] == ["VARCHAR(16)", "DATE", "NUMBER(5,0)", "NUMBER(8,2)"]
    assert (got.features.level, got.features.numeric, got.csv.date_format) == ("customer", ("QUANTITY", "AMOUNT"),
                                                                             "YYYY-MM-DD")
    assert (got.name, got.table) == ("orders", "ORDERS_RAW")
    assert "# role entity: name matches customer/client/user id; 61 distinct of 793 rows" in text
    assert "# level customer: the customer id repeats (transactions)" in text


def test_customer_table_draft_guesses_the_level_and_the_categories(tmp_path):
    path, _ = write_customers_csv(tmp_path / "mall.csv")
    got, text = _drafted(tmp_path, path)
    assert _shape(got) == [
        ("CustomerID", "VARCHAR(16)", "entity", ()), ("Gender", "VARCHAR(16)", "categorical", ("Female", "Male")),
        ("Age", "NUMBER(5,0)", "numeric", ()), ("Annual Income (k$)", "NUMBER(6,0)", "numeric", ()),
        ("Spending Score (1-100)", "NUMBER(5,0)", "numeric", ())]
    assert got.features.level == "customer_table" and got.features.categorical == ("GENDER",)
    assert "customer id is unique in the sample (150 rows, 150 customers)" in text
    # a level given wins over the guess, and the draft says what that level lacks
    forced = draft_contract(path, level="customer")
    assert forced.level == "customer" and any("needs a column with role timestamp_date" in n for n in forced.notes)


def test_the_seed_drafts_as_invoices_without_a_customer_id(tmp_path, seed_csv):
    got, text = _drafted(tmp_path, seed_csv)
    assert got.features.level == "invoice" and got.column_for_role("invoice_id").name == "Invoice ID"
    assert (got.column("DATE_COL").type, got.csv.date_format, got.csv.time_format) == ("DATE", "MM/DD/YYYY", "HH24:MI")
    assert got.column_for_role("amount").name == "Total" and got.column_for_role("unit_price").name == "Unit price"
    assert "# NOTE: no column looks like the customer id" in text


def test_values_from_the_file_are_quoted_yaml_scalars_never_raw(tmp_path):
    """A header or a category that looks like YAML (a key, a comment, a newline) reads back as the same text."""
    evil_header = 'note: x\n  role: entity #'
    path = tmp_path / "evil.csv"
    rows = ["\"customer id\",\"" + evil_header.replace('"', '""') + "\",kind"]
    rows += [f"{i},v{i},\"{'yes' if i % 2 else 'a: [b]'}\"" for i in range(30)]
    path.write_text("\n".join(rows) + "\n")
    got, text = _drafted(tmp_path, path)
    assert got.header == ["customer id", evil_header, "kind"]
    assert got.column("KIND").values == ("a: [b]", "yes")
    assert [c.role for c in got.columns] == ["entity", "derived", "categorical"]
    assert "\n  role: entity #" not in text


class Unreadable(NamedTuple):
    content: bytes
    line: int | None
    message: str


UNREADABLE = [
    pytest.param(Unreadable(b"a,b\n1,2\n3,\xe9\n", 3, "bytes that are not valid UTF-8"), id="not-utf8"),
    pytest.param(Unreadable(b"a,b\n1,2\n3,4,5\n", 3, "3 fields where the header has 2"), id="ragged"),
    pytest.param(Unreadable(b"\n1,2\n", 1, "the header is empty"), id="empty-header"),
    pytest.param(Unreadable(b"a,,c\n1,2,3\n", 1, "column 2 of the header has no name"), id="unnamed-column"),
    pytest.param(Unreadable(b"a,b,a\n1,2,3\n", 1, "column 3 repeats the header name of column 1"), id="repeated"),
    pytest.param(Unreadable(b"a,b\n", 2, "no records under the header"), id="no-rows"),
]


@pytest.mark.parametrize("case", UNREADABLE)
def test_unreadable_input_names_the_file_and_line(tmp_path, case: Unreadable):
    path = tmp_path / "bad.csv"
    path.write_bytes(case.content)
    with pytest.raises(DraftError) as err:
        draft_contract(path)
    assert (err.value.path, err.value.line) == (str(path), case.line)
    assert str(err.value).startswith(f"{path}: line {case.line}: {case.message}")


def test_cli_writes_the_draft_where_out_says(tmp_path, capsys):
    path, _ = write_orders_csv(tmp_path / "orders.csv")
    assert main([str(path), "--out", str(tmp_path / "contracts")]) == 0
    assert "drafted" in capsys.readouterr().err
    assert load_contract(tmp_path / "contracts" / "orders.yaml").features.level == "customer"
    assert main([str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert main([str(path)]) == 0 and yaml.safe_load(capsys.readouterr().out)["name"] == "orders"
