"""Tests for the seeded sample-data generator (snowseg_samples.generator, a dev-only package under devstack/)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from snowseg.config import ColumnSpec, load_contract
from snowseg_samples import generator
from snowseg_samples.generator import generate_sales, main, write_sales_csv

SEED_FILE = Path("/work/shared/data/supermarket_sales.csv")
SUPERMARKET = load_contract("supermarket")
CUSTOMERS = load_contract("supermarket_customers")

DATE_RE = re.compile(r"^(1[0-2]|[1-9])/(3[01]|[12]\d|[1-9])/\d{4}$")
TIME_RE = re.compile(r"^(1\d|20):[0-5]\d$")
INVOICE_RE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
CUSTOMER_RE = re.compile(r"^C\d{5}$")
# The seed file prints the shortest exact decimal: no trailing zeros, no bare trailing dot.
PRICE_RE = re.compile(r"^\d{2}(\.\d?[1-9])?$")
MONEY4_RE = re.compile(r"^\d+(\.\d{0,3}[1-9])?$")
MONEY2_RE = re.compile(r"^\d+(\.\d?[1-9])?$")
RATING_RE = re.compile(r"^(\d|10)(\.[1-9])?$")


def whole_csv(frame) -> bytes:
    """What writing the whole frame at once produces."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def money_errors(row: dict[str, str]) -> list[str]:
    """The money identities a row breaks, checked exactly on the CSV text."""
    price, qty = Decimal(row["Unit price"]), int(row["Quantity"])
    cogs, tax, total = Decimal(row["cogs"]), Decimal(row["Tax 5%"]), Decimal(row["Total"])
    checks = {
        "price in [10.00, 99.99] at 2 decimals": Decimal("10.00") <= price <= Decimal("99.99")
        and price.as_tuple().exponent >= -2,
        "quantity in 1..10": 1 <= qty <= 10,
        "cogs = price x quantity": cogs == price * qty,
        "tax = 5% of cogs at 4 decimals": tax == (cogs * Decimal("0.05")).quantize(Decimal("0.0001"))
        and tax.as_tuple().exponent >= -4,
        "total = cogs + tax": total == cogs + tax,
        "gross income = tax": row["gross income"] == row["Tax 5%"],
        "margin constant": row["gross margin percentage"] == "4.761904762",
    }
    return [name for name, ok in checks.items() if not ok]


# --------------------------------------------------------------------------- shape and header


class ShapeCase(NamedTuple):
    n_rows: int
    kwargs: dict
    header: list[str]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ShapeCase(0, {}, SUPERMARKET.header), id="empty"),
        pytest.param(ShapeCase(1, {}, SUPERMARKET.header), id="one-row"),
        pytest.param(ShapeCase(57, {}, SUPERMARKET.header), id="default-contract"),
        pytest.param(ShapeCase(57, {"contract": "supermarket"}, SUPERMARKET.header), id="by-name"),
        pytest.param(ShapeCase(57, {"contract": SUPERMARKET}, SUPERMARKET.header), id="by-object"),
        pytest.param(ShapeCase(57, {"n_customers": 9}, CUSTOMERS.header), id="n-customers"),
        pytest.param(ShapeCase(57, {"contract": "supermarket_customers"}, CUSTOMERS.header), id="customer-contract"),
    ],
)
def test_shape_and_header_follow_the_contract(case):
    df = generate_sales(case.n_rows, seed=3, **case.kwargs)
    assert df.shape == (case.n_rows, len(case.header))
    assert list(df.columns) == case.header


def test_customer_id_comes_right_after_invoice_id():
    assert CUSTOMERS.header[:2] == ["Invoice ID", "Customer ID"]
    assert CUSTOMERS.header[2:] == SUPERMARKET.header[1:]


def test_seed_file_header_equals_generator_header():
    if not SEED_FILE.is_file():
        pytest.skip(f"seed file {SEED_FILE} is absent on this machine; header comparison needs it")
    with SEED_FILE.open(encoding="utf-8", newline="") as f:
        seed_header = next(csv.reader(f))
    assert list(generate_sales(1).columns) == seed_header


def test_seed_file_rows_satisfy_the_identities_we_generate():
    """The identity checker itself is right: the real seed file passes it on every row."""
    if not SEED_FILE.is_file():
        pytest.skip(f"seed file {SEED_FILE} is absent on this machine; nothing to check")
    with SEED_FILE.open(encoding="utf-8", newline="") as f:
        broken = [(i, money_errors(r)) for i, r in enumerate(csv.DictReader(f), start=2) if money_errors(r)]
    assert broken == []


# --------------------------------------------------------------------------- determinism and chunking


@pytest.mark.parametrize("kwargs", [pytest.param({}, id="invoices"), pytest.param({"n_customers": 7}, id="customers")])
def test_same_seed_same_bytes_and_other_seed_other_bytes(tmp_path, kwargs):
    a = write_sales_csv(tmp_path / "a.csv", 300, seed=11, **kwargs).read_bytes()
    b = write_sales_csv(tmp_path / "b.csv", 300, seed=11, **kwargs).read_bytes()
    c = write_sales_csv(tmp_path / "c.csv", 300, seed=12, **kwargs).read_bytes()
    assert a == b
    assert a != c


class ChunkCase(NamedTuple):
    n_rows: int
    chunk_rows: int
    kwargs: dict


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ChunkCase(0, 5, {}), id="empty"),
        pytest.param(ChunkCase(100, 1, {}), id="row-by-row"),
        pytest.param(ChunkCase(100, 7, {}), id="chunks-straddle-blocks"),
        pytest.param(ChunkCase(100, 16, {}), id="chunks-equal-blocks"),
        pytest.param(ChunkCase(100, 1000, {}), id="one-chunk"),
        pytest.param(ChunkCase(100, 13, {"n_customers": 5}), id="customers"),
    ],
)
def test_chunked_write_equals_whole_frame(tmp_path, monkeypatch, case):
    monkeypatch.setattr(generator, "BLOCK_ROWS", 16)  # many seeded blocks on a tiny file
    path = write_sales_csv(tmp_path / "s.csv", case.n_rows, seed=5, chunk_rows=case.chunk_rows, **case.kwargs)
    assert path.read_bytes() == whole_csv(generate_sales(case.n_rows, seed=5, **case.kwargs))


def test_prefix_is_stable_when_more_rows_are_asked_for():
    small, large = generate_sales(30, seed=8), generate_sales(60_000, seed=8)
    assert whole_csv(small) == whole_csv(large.head(30))


# --------------------------------------------------------------------------- money, formats, ids


@pytest.mark.parametrize("kwargs", [pytest.param({}, id="invoices"), pytest.param({"n_customers": 50}, id="customers")])
def test_money_identities_hold_exactly_in_the_csv_text(tmp_path, kwargs):
    path = write_sales_csv(tmp_path / "s.csv", 3000, seed=21, chunk_rows=1000, **kwargs)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3000
    assert [(i, money_errors(r)) for i, r in enumerate(rows, start=2) if money_errors(r)] == []


@pytest.mark.parametrize(
    ("column", "pattern"),
    [
        pytest.param("Unit price", PRICE_RE, id="unit-price"),
        pytest.param("Quantity", re.compile(r"^([1-9]|10)$"), id="quantity"),
        pytest.param("cogs", MONEY2_RE, id="cogs"),
        pytest.param("Tax 5%", MONEY4_RE, id="tax"),
        pytest.param("Total", MONEY4_RE, id="total"),
        pytest.param("Rating", RATING_RE, id="rating"),
        pytest.param("Time", TIME_RE, id="time"),
        pytest.param("Date", DATE_RE, id="date"),
        pytest.param("Invoice ID", INVOICE_RE, id="invoice-id"),
    ],
)
def test_text_formats_match_the_seed_file(column, pattern):
    values = generate_sales(2000, seed=4)[column]
    assert [v for v in values if not pattern.match(v)] == []


def test_invoice_ids_are_unique():
    ids = generate_sales(20_000, seed=9)["Invoice ID"]
    assert ids.is_unique


def test_invoice_permutation_is_a_bijection_below_1e9():
    keys = np.random.SeedSequence(1).generate_state(4, np.uint64)
    out = generator._permute_invoice(np.arange(300_000, dtype=np.uint64), keys)
    assert len(np.unique(out)) == 300_000
    assert out.max() < generator.MAX_ROWS


class DateCase(NamedTuple):
    start: str | dt.date
    end: str | dt.date
    first: dt.date
    last: dt.date


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(DateCase("2019-01-01", "2019-03-30", dt.date(2019, 1, 1), dt.date(2019, 3, 30)), id="default"),
        pytest.param(DateCase("2020-02-28", "2020-03-01", dt.date(2020, 2, 28), dt.date(2020, 3, 1)), id="leap-day"),
        pytest.param(DateCase(dt.date(2021, 7, 4), dt.date(2021, 7, 4), *[dt.date(2021, 7, 4)] * 2), id="one-day"),
    ],
)
def test_dates_are_in_range_and_unpadded(case):
    dates = generate_sales(3000, seed=2, start=case.start, end=case.end)["Date"]
    assert all(DATE_RE.match(d) for d in dates)
    parsed = {dt.datetime.strptime(d, "%m/%d/%Y").date() for d in dates}
    assert min(parsed) == case.first
    assert max(parsed) == case.last
    assert len(parsed) == (case.last - case.first).days + 1  # 3000 draws hit every day


@pytest.mark.parametrize("contract", [SUPERMARKET, CUSTOMERS], ids=["supermarket", "customers"])
def test_categorical_values_are_within_the_contract(contract):
    df = generate_sales(2000, seed=6, contract=contract)
    for spec in contract.columns:
        if spec.values:
            assert set(df[spec.name]) <= set(spec.values), spec.name


# --------------------------------------------------------------------------- customers


def test_customer_mode_keeps_stable_attributes_and_skewed_frequency():
    df = generate_sales(20_000, seed=13, n_customers=400)
    assert df["Customer ID"].map(lambda c: bool(CUSTOMER_RE.match(c))).all()
    per_customer = df.groupby("Customer ID")[["Customer type", "Gender", "Branch", "City"]].nunique()
    assert (per_customer == 1).all().all()
    counts = df["Customer ID"].value_counts()
    assert len(counts) <= 400
    top_tenth = counts.head(40).sum() / len(df)
    assert top_tenth > 0.25, f"the busiest 10% of customers buy {top_tenth:.0%}; expected a skew"


def test_customer_segment_drives_baskets():
    """A customer's mean spend in one half of their invoices predicts the other half."""
    df = generate_sales(20_000, seed=13, n_customers=200)
    spend = df["Total"].astype(float)
    half = np.arange(len(df)) % 2
    means = spend.groupby([df["Customer ID"], half]).mean().unstack().dropna()
    assert np.corrcoef(means[0], means[1])[0, 1] > 0.8


def test_customer_contract_without_n_customers_defaults_to_a_fifth_of_rows():
    df = generate_sales(1000, seed=1, contract="supermarket_customers")
    assert 1 < df["Customer ID"].nunique() <= 200


# --------------------------------------------------------------------------- distributions


def test_distributions_are_close_to_the_seed():
    df = generate_sales(20_000, seed=42)

    def shares(col):
        return df[col].value_counts(normalize=True).to_dict()

    expected = {
        "Branch": {"A": 0.34, "B": 0.33, "C": 0.33},
        "Customer type": {"Member": 0.5, "Normal": 0.5},
        "Gender": {"Female": 0.5, "Male": 0.5},
        "Payment": {"Ewallet": 0.345, "Cash": 0.344, "Credit card": 0.311},
        "Product line": {p: 1 / 6 for p in generator.PRODUCT_LINES},
    }
    for col, want in expected.items():
        got = shares(col)
        assert set(got) == set(want), col
        assert all(abs(got[k] - want[k]) < 0.02 for k in want), (col, got)
    assert set(zip(df["Branch"], df["City"])) == {("A", "Yangon"), ("B", "Mandalay"), ("C", "Naypyitaw")}

    rating = df["Rating"].astype(float)
    assert (rating.min(), rating.max()) == (4.0, 10.0)
    assert rating.nunique() == 61
    assert abs(rating.mean() - 7.0) < 0.1
    price = df["Unit price"].astype(float)
    assert 10.0 <= price.min() and price.max() <= 99.99
    assert 45 < price.mean() < 65
    assert set(df["Quantity"].astype(int)) == set(range(1, 11))
    hours = Counter(t[:2] for t in df["Time"])
    assert sorted(hours) == [f"{h}" for h in range(10, 21)]


# --------------------------------------------------------------------------- errors


def _contract_with(**changes):
    return dataclasses.replace(SUPERMARKET, **changes)


LOYALTY = ColumnSpec(name="Loyalty tier", column="LOYALTY_TIER", type="VARCHAR(8)", role="categorical")
TWO_BRANCHES = tuple(
    dataclasses.replace(c, values=("A", "B")) if c.column == "BRANCH" else c for c in SUPERMARKET.columns
)


class ErrorCase(NamedTuple):
    call: str  # "generate" or "write"
    kwargs: dict
    message: str


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            ErrorCase("generate", {"n_rows": -1}, "n_rows must be at least 0 and at most 1,000,000,000, got -1"),
            id="negative-rows",
        ),
        pytest.param(ErrorCase("generate", {"n_rows": 2.5}, "n_rows must be an int, got 2.5"), id="float-rows"),
        pytest.param(
            ErrorCase("generate", {"n_rows": 5, "seed": -3}, "seed must be at least 0, got -3"), id="negative-seed"
        ),
        pytest.param(
            ErrorCase("generate", {"n_rows": 5, "n_customers": 0}, "n_customers must be at least 1, got 0"),
            id="no-customers",
        ),
        pytest.param(
            ErrorCase("write", {"n_rows": 5, "chunk_rows": 0}, "chunk_rows must be at least 1, got 0"), id="zero-chunk"
        ),
        pytest.param(
            ErrorCase(
                "generate",
                {"n_rows": 5, "start": "2019-13-01"},
                "start must be a date or 'YYYY-MM-DD', got '2019-13-01'",
            ),
            id="bad-start",
        ),
        pytest.param(
            ErrorCase(
                "generate",
                {"n_rows": 5, "start": "2019-03-02", "end": "2019-03-01"},
                "end '2019-03-01' is before start '2019-03-02'",
            ),
            id="end-before-start",
        ),
        pytest.param(
            ErrorCase(
                "generate",
                {"n_rows": 5, "n_customers": 3, "contract": "supermarket"},
                "n_customers=3 needs a contract with an 'entity' (customer id) column; contract "
                "'supermarket_sales' has none -- use contract='supermarket_customers'",
            ),
            id="customers-without-entity-column",
        ),
        pytest.param(
            ErrorCase(
                "generate",
                {"n_rows": 5, "contract": _contract_with(columns=(*SUPERMARKET.columns, LOYALTY), source=None)},
                "contract 'supermarket_sales': the generator cannot fill column 'Loyalty tier' (LOYALTY_TIER, "
                "role 'categorical')",
            ),
            id="unknown-column",
        ),
        pytest.param(
            ErrorCase(
                "generate",
                {"n_rows": 5, "contract": _contract_with(columns=TWO_BRANCHES, source=None)},
                "contract 'supermarket_sales': column 'Branch' (BRANCH) lists values ['A', 'B'], but the "
                "generator also emits ['C']; add them to the contract",
            ),
            id="values-narrower-than-generator",
        ),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(tmp_path, case):
    kwargs = dict(case.kwargs)
    n_rows = kwargs.pop("n_rows")
    with pytest.raises(ValueError, match=re.escape(case.message)):
        if case.call == "write":
            write_sales_csv(tmp_path / "x.csv", n_rows, **kwargs)
        else:
            generate_sales(n_rows, **kwargs)


# --------------------------------------------------------------------------- command line


def test_cli_writes_the_same_bytes_as_the_function(tmp_path, capsys):
    out = tmp_path / "data" / "sample.csv"
    assert main(["--rows", "25", "--seed", "42", "--out", str(out), "--customers", "4"]) == 0
    expected = write_sales_csv(tmp_path / "ref.csv", 25, seed=42, n_customers=4).read_bytes()
    assert out.read_bytes() == expected
    assert "wrote 25 rows" in capsys.readouterr().err


def test_cli_reports_bad_arguments_as_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--rows", "-1", "--out", str(tmp_path / "x.csv")])
    assert exc.value.code == 2
    assert "n_rows must be at least 0" in capsys.readouterr().err


def test_csv_text_round_trips_through_the_csv_module():
    text = whole_csv(generate_sales(50, seed=1)).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 51
    assert {len(r) for r in rows} == {17}
