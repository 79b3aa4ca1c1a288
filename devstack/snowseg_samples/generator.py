"""Seeded sample data shaped like the supermarket seed file, at any size.

The generator writes invoice rows whose columns come from a dataset contract (see
:mod:`snowseg.config`), with the seed file's exact money identities and text formats, and with a
latent customer segment so that k-means has structure to find.

Model
-----
Every invoice belongs to a latent shopper segment that drives the basket:

==========  =====  ===================  ========
segment     share  unit price           quantity
==========  =====  ===================  ========
budget      35 %   10.00 -- 45.00       1 -- 5
regular     40 %   25.00 -- 80.00       3 -- 8
premium     25 %   55.00 -- 99.99       6 -- 10
==========  =====  ===================  ========

(uniform within each range; the overlap keeps the segments from being trivially separable).
Branch A/B/C is drawn 34/33/33 % with City tied to it (Yangon, Mandalay, Naypyitaw); Customer type
and Gender are 50/50; the six product lines are uniform; Payment is Ewallet/Cash/Credit card
34.5/34.4/31.1 %; Rating is uniform on 4.0--10.0 in steps of 0.1; Date is uniform on
``[start, end]`` printed ``M/D/YYYY``; Time is uniform on 10:00--20:59; Invoice ID is ``ddd-dd-dddd``,
unique within a file (a keyed permutation of the row number).

With customers (``n_customers``, or a contract with an ``entity`` column such as
``supermarket_customers``), each invoice is bought by one of ``n_customers`` customers drawn with a
skewed (log-normal) frequency, so some customers shop often. A customer keeps one membership, one
gender, one home branch (where they always shop) and one latent segment, which drives their baskets.

Money is computed in integer cents: ``cogs = unit price x quantity``, ``Tax 5% = 5 % of cogs``
(exact at 4 decimals), ``Total = cogs + tax``, ``gross income = tax``, and ``gross margin
percentage`` is the constant ``4.761904762``. Numbers are printed like the seed file: the shortest
exact decimal, trailing zeros dropped (``76.4``, ``37``, ``548.9715``).

Rows are generated in fixed blocks of :data:`BLOCK_ROWS`, block ``b`` from a random stream seeded by
``(seed, b)``, so a file written in chunks is byte-identical to the whole frame written at once,
whatever the chunk size, and a small file is the head of a larger one with the same seed (and the
same ``n_customers``).

Command line::

    python -m snowseg_samples --rows 1000 --seed 42 --out data/sample.csv [--customers 200]
        [--contract supermarket]

Examples
--------
>>> df = generate_sales(3, seed=7)
>>> df.shape
(3, 17)
>>> from decimal import Decimal
>>> row = df.iloc[0]
>>> Decimal(row["Unit price"]) * int(row["Quantity"]) == Decimal(row["cogs"])
True
>>> Decimal(row["cogs"]) + Decimal(row["Tax 5%"]) == Decimal(row["Total"])
True
>>> list(generate_sales(2, n_customers=10).columns[:2])
['Invoice ID', 'Customer ID']
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from snowseg.config import DatasetContract, load_contract

BLOCK_ROWS = 50_000
"""Rows per independently seeded block; a fixed constant so output does not depend on chunking."""

MAX_ROWS = 1_000_000_000
"""Invoice IDs have 9 digits, so one file holds at most this many unique invoices."""

GROSS_MARGIN_PCT = "4.761904762"

BRANCHES = ("A", "B", "C")
CITIES = ("Yangon", "Mandalay", "Naypyitaw")
BRANCH_P = (0.34, 0.33, 0.33)
CUSTOMER_TYPES = ("Member", "Normal")
GENDERS = ("Female", "Male")
PRODUCT_LINES = (
    "Electronic accessories",
    "Fashion accessories",
    "Food and beverages",
    "Health and beauty",
    "Home and lifestyle",
    "Sports and travel",
)
PAYMENTS = ("Ewallet", "Cash", "Credit card")
PAYMENT_P = (0.345, 0.344, 0.311)


@dataclass(frozen=True)
class Segment:
    """A latent shopper segment: its share and the ranges its baskets are drawn from."""

    name: str
    share: float
    price_cents: tuple[int, int]  # inclusive
    quantity: tuple[int, int]  # inclusive


SEGMENTS = (
    Segment("budget", 0.35, (1_000, 4_500), (1, 5)),
    Segment("regular", 0.40, (2_500, 8_000), (3, 8)),
    Segment("premium", 0.25, (5_500, 9_999), (6, 10)),
)

# Spawn keys keep the streams for blocks, customers and invoice ids independent.
_BLOCK_STREAM, _CUSTOMER_STREAM, _INVOICE_STREAM = 0, 1, 2
_MINUTE_LO, _MINUTE_HI = 10 * 60, 20 * 60 + 59
_RATING_LO, _RATING_HI = 40, 100  # tenths


# --------------------------------------------------------------------------- public API


def generate_sales(
    n_rows: int,
    *,
    seed: int = 42,
    contract: DatasetContract | str | Path | None = None,
    n_customers: int | None = None,
    start: str | dt.date = "2019-01-01",
    end: str | dt.date = "2019-03-30",
) -> pd.DataFrame:
    """Generate ``n_rows`` supermarket invoices as the text the CSV will hold.

    Parameters
    ----------
    n_rows : int
        Number of invoices, 0 to 1e9.
    seed : int, default 42
        Non-negative seed; the same arguments always give the same frame.
    contract : DatasetContract, str or Path, optional
        The dataset contract whose header (names and order) the frame follows. A str or Path is
        passed to :func:`snowseg.config.load_contract`. Defaults to ``"supermarket"``, or to
        ``"supermarket_customers"`` when ``n_customers`` is given.
    n_customers : int, optional
        Number of distinct customers. Defaults to ``max(1, n_rows // 5)`` when the contract has an
        ``entity`` column, else customers are not modelled.
    start, end : str (``YYYY-MM-DD``) or datetime.date
        Inclusive date range of the ``Date`` column.

    Returns
    -------
    pandas.DataFrame
        One column per contract column, named by ``contract.header``, in order. Values are the
        exact CSV text (``str``), so ``frame.to_csv(index=False)`` is the file
        :func:`write_sales_csv` writes.

    Raises
    ------
    ValueError
        If an argument is out of range, or the contract has a column the generator cannot fill
        (the message names the column).

    Examples
    --------
    >>> df = generate_sales(2, seed=1)
    >>> df.columns[:4].tolist()
    ['Invoice ID', 'Branch', 'City', 'Customer type']
    >>> df["gross margin percentage"].tolist()
    ['4.761904762', '4.761904762']
    """
    source = _Source(n_rows, seed=seed, contract=contract, n_customers=n_customers, start=start, end=end)
    return source.rows(0, n_rows)


def write_sales_csv(
    path: str | Path,
    n_rows: int,
    *,
    seed: int = 42,
    contract: DatasetContract | str | Path | None = None,
    n_customers: int | None = None,
    start: str | dt.date = "2019-01-01",
    end: str | dt.date = "2019-03-30",
    chunk_rows: int = 200_000,
) -> Path:
    """Write ``n_rows`` generated invoices to a CSV file, ``chunk_rows`` at a time.

    Memory stays bounded by ``chunk_rows``, so 1e6--1e7 rows are fine. The bytes equal
    ``generate_sales(...).to_csv(path, index=False, lineterminator="\\n")`` with the contract's
    delimiter, quote and encoding, for any ``chunk_rows``.

    Parameters
    ----------
    path : str or Path
        Output file; parent directories are created.
    n_rows, seed, contract, n_customers, start, end
        As in :func:`generate_sales`.
    chunk_rows : int, default 200_000
        Rows generated and written per step (at least 1).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        As in :func:`generate_sales`, or if ``chunk_rows`` < 1.

    Examples
    --------
    >>> import tempfile
    >>> out = write_sales_csv(Path(tempfile.mkdtemp()) / "s.csv", 5, chunk_rows=2)
    >>> len(out.read_text().splitlines())
    6
    """
    _check_int("chunk_rows", chunk_rows, lo=1)
    source = _Source(n_rows, seed=seed, contract=contract, n_customers=n_customers, start=start, end=end)
    csv = source.contract.csv
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding=csv.encoding, newline="") as f:
        if n_rows == 0:
            _to_csv(source.rows(0, 0), f, csv.delimiter, csv.quote, header=True)
        for lo in range(0, n_rows, chunk_rows):
            frame = source.rows(lo, min(lo + chunk_rows, n_rows))
            _to_csv(frame, f, csv.delimiter, csv.quote, header=lo == 0)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring. Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m snowseg_samples", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="number of invoices")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--customers", type=int, default=None, help="number of distinct customers")
    parser.add_argument("--contract", default=None, help="contract name or YAML path (default: supermarket)")
    parser.add_argument("--start", default="2019-01-01", help="first date, YYYY-MM-DD")
    parser.add_argument("--end", default="2019-03-30", help="last date, YYYY-MM-DD")
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        out = write_sales_csv(
            args.out,
            args.rows,
            seed=args.seed,
            contract=args.contract,
            n_customers=args.customers,
            start=args.start,
            end=args.end,
            chunk_rows=args.chunk_rows,
        )
    except ValueError as exc:
        parser.error(str(exc))
    secs = time.perf_counter() - t0
    rate = args.rows / secs if secs > 0 else float("inf")
    print(f"wrote {args.rows:,} rows to {out} in {secs:.2f} s ({rate:,.0f} rows/s)", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- the row source


class _Source:
    """Validated arguments plus the state shared by all blocks (customers, invoice keys, tables)."""

    def __init__(self, n_rows, *, seed, contract, n_customers, start, end):
        _check_int("n_rows", n_rows, lo=0, hi=MAX_ROWS)
        _check_int("seed", seed, lo=0)
        if n_customers is not None:
            _check_int("n_customers", n_customers, lo=1)
        self.contract = _resolve_contract(contract, n_customers)
        has_entity = self.contract.column_for_role("entity") is not None
        if n_customers is not None and not has_entity:
            raise ValueError(
                f"n_customers={n_customers} needs a contract with an 'entity' (customer id) column; "
                f"contract {self.contract.name!r} has none -- use contract='supermarket_customers'"
            )
        if has_entity and n_customers is None:
            n_customers = max(1, n_rows // 5)
        self.n_rows, self.seed, self.n_customers = n_rows, seed, n_customers
        self.first_day, self.n_days = _date_range(start, end)
        self.customers = _Customers.draw(seed, n_customers) if n_customers else None
        self.invoice_keys = np.random.SeedSequence(seed, spawn_key=(_INVOICE_STREAM,)).generate_state(4, np.uint64)
        self.fillers = _fillers_for(self.contract)
        self._cached: tuple[int, dict[str, np.ndarray]] | None = None

    def rows(self, lo: int, hi: int) -> pd.DataFrame:
        """Rows ``[lo, hi)`` as a frame in contract order."""
        parts: list[dict[str, np.ndarray]] = []
        for b in range(lo // BLOCK_ROWS, -(-hi // BLOCK_ROWS)):
            block = self._block(b)
            a, z = max(lo - b * BLOCK_ROWS, 0), min(hi - b * BLOCK_ROWS, BLOCK_ROWS)
            parts.append({k: v[a:z] for k, v in block.items()})
        data = {}
        for spec in self.contract.columns:
            pieces = [p[spec.name] for p in parts]
            data[spec.name] = np.concatenate(pieces) if pieces else np.array([], dtype=object)
        return pd.DataFrame(data, columns=self.contract.header)

    def _block(self, b: int) -> dict[str, np.ndarray]:
        """Block ``b`` (rows ``b*BLOCK_ROWS`` onward), keyed by CSV header; the last block is kept."""
        if self._cached is not None and self._cached[0] == b:
            return self._cached[1]
        lo = b * BLOCK_ROWS
        n = min(BLOCK_ROWS, self.n_rows - lo)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_BLOCK_STREAM, b)))
        draws = self._draw(rng, lo, n)
        block = {spec.name: fill(draws, spec) for spec, fill in self.fillers}
        self._cached = (b, block)
        return block

    def _draw(self, rng: np.random.Generator, lo: int, n: int) -> _Draws:
        """All random choices for ``n`` rows starting at global row ``lo``, in a fixed order.

        A whole block is always drawn and then cut to ``n``, so a block's rows never depend on
        ``n_rows``: a small file is the head of a large one with the same seed.
        """
        full = self._draw_codes(rng, BLOCK_ROWS)
        return _Draws(
            **{k: None if v is None else v[:n] for k, v in full.items()},
            row=np.arange(lo, lo + n, dtype=np.uint64),
            invoice=_permute_invoice(np.arange(lo, lo + n, dtype=np.uint64), self.invoice_keys),
            source=self,
        )

    def _draw_codes(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray | None]:
        """Integer codes for one whole block."""
        customers = self.customers
        if customers is None:
            customer = None
            segment = rng.choice(len(SEGMENTS), size=n, p=[s.share for s in SEGMENTS])
            branch = rng.choice(len(BRANCHES), size=n, p=BRANCH_P)
            member = rng.integers(0, 2, size=n)
            gender = rng.integers(0, 2, size=n)
        else:
            customer = np.searchsorted(customers.cum_weight, rng.random(n), side="right")
            customer = np.minimum(customer, len(customers.segment) - 1)
            segment, branch = customers.segment[customer], customers.branch[customer]
            member, gender = customers.member[customer], customers.gender[customer]
        price = np.empty(n, dtype=np.int64)
        quantity = np.empty(n, dtype=np.int64)
        u_price, u_qty = rng.random(n), rng.random(n)
        for i, s in enumerate(SEGMENTS):
            m = segment == i
            price[m] = s.price_cents[0] + (u_price[m] * (s.price_cents[1] - s.price_cents[0] + 1)).astype(np.int64)
            quantity[m] = s.quantity[0] + (u_qty[m] * (s.quantity[1] - s.quantity[0] + 1)).astype(np.int64)
        return {
            "customer": customer,
            "segment": segment,
            "branch": branch,
            "member": member,
            "gender": gender,
            "product": rng.integers(0, len(PRODUCT_LINES), size=n),
            "payment": rng.choice(len(PAYMENTS), size=n, p=PAYMENT_P),
            "price_cents": price,
            "quantity": quantity,
            "day": rng.integers(0, self.n_days, size=n),
            "minute": rng.integers(_MINUTE_LO, _MINUTE_HI + 1, size=n),
            "rating": rng.integers(_RATING_LO, _RATING_HI + 1, size=n),
        }


@dataclass
class _Draws:
    """The random choices of one block, as integer codes."""

    row: np.ndarray
    customer: np.ndarray | None
    segment: np.ndarray
    branch: np.ndarray
    member: np.ndarray
    gender: np.ndarray
    product: np.ndarray
    payment: np.ndarray
    price_cents: np.ndarray
    quantity: np.ndarray
    day: np.ndarray
    minute: np.ndarray
    rating: np.ndarray
    invoice: np.ndarray
    source: _Source


@dataclass(frozen=True)
class _Customers:
    """Stable per-customer attributes, indexed by customer number (0-based)."""

    segment: np.ndarray
    member: np.ndarray
    gender: np.ndarray
    branch: np.ndarray
    cum_weight: np.ndarray
    ids: np.ndarray

    @classmethod
    def draw(cls, seed: int, n: int) -> _Customers:
        """Draw ``n`` customers from their own stream, so every block sees the same ones."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_CUSTOMER_STREAM,)))
        segment = rng.choice(len(SEGMENTS), size=n, p=[s.share for s in SEGMENTS])
        member = rng.integers(0, 2, size=n)
        gender = rng.integers(0, 2, size=n)
        branch = rng.choice(len(BRANCHES), size=n, p=BRANCH_P)
        # Log-normal visit rates: a long tail of frequent shoppers, many occasional ones.
        weight = rng.lognormal(mean=0.0, sigma=1.0, size=n)
        cum = np.cumsum(weight)
        width = max(5, len(str(n)))
        ids = np.array([f"C{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
        return cls(segment, member, gender, branch, cum / cum[-1], ids)


# --------------------------------------------------------------------------- column fillers

_Filler = Callable[[_Draws, "object"], np.ndarray]


def _lut(values) -> np.ndarray:
    """An object array of strings to index with integer codes."""
    return np.array(list(values), dtype=object)


def _categorical(values: tuple[str, ...], attr: str) -> _Filler:
    """A filler that maps the integer codes in ``draws.<attr>`` onto ``values``."""
    table = _lut(values)
    return lambda d, spec: table[getattr(d, attr)]


def _fill_cogs(d: _Draws, spec) -> np.ndarray:
    return _money_tables()[0][d.price_cents * d.quantity]


def _fill_tax(d: _Draws, spec) -> np.ndarray:
    return _money_tables()[1][d.price_cents * d.quantity]


def _fill_total(d: _Draws, spec) -> np.ndarray:
    return _money_tables()[2][d.price_cents * d.quantity]


def _fill_price(d: _Draws, spec) -> np.ndarray:
    return _price_table()[d.price_cents]


def _fill_quantity(d: _Draws, spec) -> np.ndarray:
    return _lut(str(q) for q in range(11))[d.quantity]


def _fill_margin(d: _Draws, spec) -> np.ndarray:
    return np.full(len(d.row), GROSS_MARGIN_PCT, dtype=object)


def _fill_rating(d: _Draws, spec) -> np.ndarray:
    return _lut(_decimal_text(r, 1) for r in range(_RATING_HI + 1))[d.rating]


def _fill_date(d: _Draws, spec) -> np.ndarray:
    first = d.source.first_day
    days = (first + dt.timedelta(days=i) for i in range(d.source.n_days))
    return _lut(f"{x.month}/{x.day}/{x.year}" for x in days)[d.day]


def _fill_time(d: _Draws, spec) -> np.ndarray:
    return _time_table()[d.minute]


def _fill_invoice(d: _Draws, spec) -> np.ndarray:
    x = d.invoice.astype(np.int64)
    t3, t2, t4 = _invoice_tables()
    return t3[x // 1_000_000] + t2[(x // 10_000) % 100] + t4[x % 10_000]


def _fill_customer(d: _Draws, spec) -> np.ndarray:
    return d.source.customers.ids[d.customer]


# Fillers for the single-valued roles, whatever the column is called.
_BY_ROLE: dict[str, _Filler] = {
    "invoice_id": _fill_invoice,
    "entity": _fill_customer,
    "unit_price": _fill_price,
    "quantity": _fill_quantity,
    "amount": _fill_total,
    "timestamp_date": _fill_date,
    "timestamp_time": _fill_time,
}
# Fillers for the other columns, by Snowflake column name: (filler, the values it can emit).
_BY_COLUMN: dict[str, tuple[_Filler, tuple[str, ...]]] = {
    "BRANCH": (_categorical(BRANCHES, "branch"), BRANCHES),
    "CITY": (_categorical(CITIES, "branch"), CITIES),
    "CUSTOMER_TYPE": (_categorical(CUSTOMER_TYPES, "member"), CUSTOMER_TYPES),
    "GENDER": (_categorical(GENDERS, "gender"), GENDERS),
    "PRODUCT_LINE": (_categorical(PRODUCT_LINES, "product"), PRODUCT_LINES),
    "PAYMENT": (_categorical(PAYMENTS, "payment"), PAYMENTS),
    "COGS": (_fill_cogs, ()),
    "TAX_5_PCT": (_fill_tax, ()),
    "GROSS_INCOME": (_fill_tax, ()),
    "GROSS_MARGIN_PCT": (_fill_margin, ()),
    "RATING": (_fill_rating, ()),
}


def _fillers_for(contract: DatasetContract) -> list[tuple[object, _Filler]]:
    """Pair each contract column with its filler; raise ValueError naming any column we cannot fill."""
    pairs = []
    where = f"contract {contract.name!r}" + (f" ({contract.source})" if contract.source else "")
    for spec in contract.columns:
        if spec.role in _BY_ROLE:
            pairs.append((spec, _BY_ROLE[spec.role]))
            continue
        if spec.column in _BY_COLUMN:
            fill, emits = _BY_COLUMN[spec.column]
            unknown = sorted(set(emits) - set(spec.values)) if spec.values else []
            if unknown:
                raise ValueError(
                    f"{where}: column {spec.name!r} ({spec.column}) lists values {list(spec.values)}, "
                    f"but the generator also emits {unknown}; add them to the contract"
                )
            pairs.append((spec, fill))
            continue
        raise ValueError(
            f"{where}: the generator cannot fill column {spec.name!r} ({spec.column}, role {spec.role!r}); "
            f"it fills roles {sorted(_BY_ROLE)} and columns {sorted(_BY_COLUMN)}"
        )
    return pairs


# --------------------------------------------------------------------------- lookup tables


def _decimal_text(units: int, scale: int) -> str:
    """``units / 10**scale`` as the shortest exact decimal, like the seed file (``76.4``, ``37``)."""
    whole, frac = divmod(units, 10**scale)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:0{scale}d}".rstrip("0")


@lru_cache(maxsize=1)
def _money_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cogs, tax and total text indexed by cogs in cents (tax = 5 cogs, total = 105 cogs, in 1e-4)."""
    top = SEGMENTS[-1].price_cents[1] * max(s.quantity[1] for s in SEGMENTS) + 1
    cents = range(top)
    return (
        _lut(_decimal_text(c, 2) for c in cents),
        _lut(_decimal_text(5 * c, 4) for c in cents),
        _lut(_decimal_text(105 * c, 4) for c in cents),
    )


@lru_cache(maxsize=1)
def _price_table() -> np.ndarray:
    """Unit price text indexed by cents."""
    return _lut(_decimal_text(c, 2) for c in range(max(s.price_cents[1] for s in SEGMENTS) + 1))


@lru_cache(maxsize=1)
def _time_table() -> np.ndarray:
    """``HH:MM`` indexed by minute of the day."""
    return _lut(f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60))


@lru_cache(maxsize=1)
def _invoice_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three zero-padded parts of ``ddd-dd-dddd``, dashes included."""
    return (
        _lut(f"{i:03d}-" for i in range(1000)),
        _lut(f"{i:02d}-" for i in range(100)),
        _lut(f"{i:04d}" for i in range(10_000)),
    )


# --------------------------------------------------------------------------- helpers

_FEISTEL_MASK = np.uint64((1 << 15) - 1)


def _permute_invoice(x: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """A keyed bijection of ``[0, 1e9)``: a 4-round Feistel network on 30 bits, cycle-walked below 1e9."""
    out = x.copy()
    todo = np.ones(len(out), dtype=bool)
    while todo.any():
        v = out[todo]
        v = _feistel30(v, keys)
        out[todo] = v
        todo[todo] = v >= MAX_ROWS
    return out


def _feistel30(v: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """One pass of a balanced Feistel permutation over 15-bit halves."""
    left, right = v >> np.uint64(15), v & _FEISTEL_MASK
    with np.errstate(over="ignore"):
        for k in keys:
            mixed = (right * np.uint64(0x9E3779B97F4A7C15) + k) >> np.uint64(29)
            left, right = right, (left ^ mixed) & _FEISTEL_MASK
    return (left << np.uint64(15)) | right


def _to_csv(frame: pd.DataFrame, f, delimiter: str, quote: str, *, header: bool) -> None:
    """Append ``frame`` to an open text file the one way both writers use."""
    frame.to_csv(f, index=False, header=header, sep=delimiter, quotechar=quote, lineterminator="\n")


def _resolve_contract(contract, n_customers: int | None) -> DatasetContract:
    """The contract object for a name, path or None (customers choose the customer contract)."""
    if isinstance(contract, DatasetContract):
        return contract
    if contract is None:
        contract = "supermarket_customers" if n_customers is not None else "supermarket"
    return load_contract(contract)


def _check_int(name: str, value, *, lo: int, hi: int | None = None) -> None:
    """Raise ValueError naming ``name`` unless ``lo <= value <= hi`` is an int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        upper = f" and at most {hi:,}" if hi is not None else ""
        raise ValueError(f"{name} must be at least {lo}{upper}, got {value!r}")


def _date_range(start, end) -> tuple[dt.date, int]:
    """First day and number of days of the inclusive range; ValueError names the bad bound."""
    days = []
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value))
            except ValueError:
                raise ValueError(f"{name} must be a date or 'YYYY-MM-DD', got {value!r}") from None
        days.append(value)
    if days[1] < days[0]:
        raise ValueError(f"end {days[1].isoformat()!r} is before start {days[0].isoformat()!r}")
    return days[0], (days[1] - days[0]).days + 1


if __name__ == "__main__":
    raise SystemExit(main())
