"""Draft a dataset contract from a CSV file: ``make contract FILE=my.csv [LEVEL=customer] [OUT=...]``.

Reads the header and a sample of rows (the first ``rows``, default 10,000) and writes a contract YAML in
which every guess is commented with its reason, so a person reviews it instead of writing it:

- **types**: whole numbers -> ``NUMBER(p,0)``; decimals -> ``NUMBER(p,s)``; dates in one of
  :data:`DATE_FORMATS` -> ``DATE`` (the format goes to ``csv.date_format``); ISO date-times ->
  ``TIMESTAMP_NTZ``; times of day -> ``TIME``; anything else ``VARCHAR(n)``. Id columns are text
  whatever they look like (leading zeros matter, nobody adds ids).
- **roles**, by name and data: customer/client/user/member id -> ``entity``; invoice/order/
  transaction/receipt id -> ``invoice_id``; the first date or date-time -> ``timestamp_date``;
  amount/total/sales/revenue/spend -> ``amount``; qty/quantity/units -> ``quantity``; price ->
  ``unit_price``; text with few distinct values -> ``categorical`` with its ``values``; other numbers
  -> ``numeric``; anything else -> ``derived`` (loaded and checked, never a feature).
- **level** when not given: the customer id unique in the sample -> ``customer_table``; else
  ``customer`` when there is a customer id, else ``invoice`` (see docs/contracts.md).

Values from the file reach the YAML only as quoted YAML scalars (:func:`yaml_scalar`), never raw.

Examples
--------
>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "shop.csv"
>>> _ = f.write_text("CustomerID,Gender,Age\\n1,Female,30\\n2,Male,41\\n3,Female,25\\n")
>>> draft = draft_contract(f)
>>> draft.level
'customer_table'
>>> [(c.column, c.type, c.role) for c in draft.columns]  # doctest: +NORMALIZE_WHITESPACE
[('CUSTOMER_ID', 'VARCHAR(16)', 'entity'), ('GENDER', 'VARCHAR(16)', 'categorical'),
 ('AGE', 'NUMBER(5,0)', 'numeric')]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from snowseg.config import CONTRACT_NAME_RE, LEVELS, RESERVED_COLUMNS, ROLE_MEANINGS
from snowseg.errors import InputError
from snowseg.objects import raw_table_name

SAMPLE_ROWS = 10_000
SAMPLE_BYTES = 64 * 1024 * 1024
CATEGORY_MAX = 20  # a text column with at most this many distinct values (and repeats) is a category
#: Date formats the draft recognises: (Python strptime, Snowflake DATE_FORMAT), tried in order.
DATE_FORMATS = (("%Y-%m-%d", "YYYY-MM-DD"), ("%m/%d/%Y", "MM/DD/YYYY"), ("%d/%m/%Y", "DD/MM/YYYY"),
                ("%Y/%m/%d", "YYYY/MM/DD"), ("%d.%m.%Y", "DD.MM.YYYY"), ("%d-%m-%Y", "DD-MM-YYYY"))
_TIME_FORMATS = (("%H:%M", "HH24:MI"), ("%H:%M:%S", "HH24:MI:SS"))
# ISO date-times, which Snowflake's AUTO timestamp format reads
_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_DEC_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)$")
_DELIMITERS = (",", ";", "\t", "|")

# role by name: (role, pattern over the snake-cased header, what the comment says matched)
_ID_WORDS = "id|no|nr|num|number|key|code|ref"
_ID_SUFFIX = rf"_?({_ID_WORDS})"
_NAME_ROLES = (
    ("entity", re.compile(rf"^(customer|client|user|member|buyer|shopper|account|cust)s?{_ID_SUFFIX}$"),
     "customer/client/user id"),
    ("invoice_id", re.compile(rf"^(invoice|order|transaction|txn|receipt|sale|ticket|basket)s?{_ID_SUFFIX}$"),
     "invoice/order/transaction id"),
    ("amount", re.compile(r"(^|_)(amount|amt|total|sales|revenue|spend|spent|turnover|line_total|net_sales)(_|$)"),
     "amount/total/sales/revenue/spend"),
    ("quantity", re.compile(r"(^|_)(qty|quantity|units|unit_count|items|n_items)(_|$)"), "qty/quantity/units"),
    ("unit_price", re.compile(r"(^|_)(unit_price|price|price_each)(_|$)"), "price"),
)


class DraftError(InputError):
    """The file cannot be drafted from: ``path`` and ``line`` (1-based, header = 1) say where."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None):
        self.path, self.line = str(path), line
        super().__init__(f"{path}: " + (f"line {line}: " if line else "") + message)


@dataclass
class DraftColumn:
    """One drafted column with the reasons for its guesses."""

    name: str
    column: str
    type: str
    role: str
    values: tuple[str, ...] = ()
    why: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """A drafted contract: its columns, level, CSV format and the notes for the reviewer."""

    name: str
    table: str
    columns: list[DraftColumn]
    level: str
    level_why: str
    delimiter: str
    date_format: str | None
    time_format: str | None
    rows: int
    notes: list[str] = field(default_factory=list)

    def features(self) -> tuple[list[str], list[str]]:
        """(numeric, categorical) feature columns: every number with a model role, every listed category."""
        numeric = [c.column for c in self.columns if c.role in ("numeric", "amount", "quantity", "unit_price")]
        categorical = [c.column for c in self.columns if c.role == "categorical" and c.values]
        return numeric, categorical


def yaml_scalar(value: str) -> str:
    """A string as a YAML scalar: plain when that reads back as the same string, else double-quoted (JSON
    escaping, which is YAML's): nothing from the file is ever written raw.

    Examples
    --------
    >>> [yaml_scalar(v) for v in ("Annual Income (k$)", "Tax 5%", "yes", "a: b", "x\\ny #z")]
    ['Annual Income (k$)', '"Tax 5%"', '"yes"', '"a: b"', '"x\\\\ny #z"']
    """
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ()$.\-/]*", value) and not value.endswith(" "):
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value)


def column_identifier(header: str) -> str:
    """A Snowflake column name for a CSV header: upper snake case, A-Z 0-9 _.

    Examples
    --------
    >>> headers = ("CustomerID", "Annual Income (k$)", "Spending Score (1-100)", "2nd visit", "Date")
    >>> [column_identifier(h) for h in headers]
    ['CUSTOMER_ID', 'ANNUAL_INCOME_K', 'SPENDING_SCORE_1_100', 'C_2ND_VISIT', 'DATE_COL']
    """
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", header.strip())
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    ident = re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_") or "COLUMN"
    ident = ident if re.match(r"[A-Z]", ident) else f"C_{ident}"
    return f"{ident}_COL" if ident in RESERVED_COLUMNS else ident


def _snake(header: str) -> str:
    return column_identifier(header).lower()


def read_sample(path: str | Path, rows: int = SAMPLE_ROWS) -> tuple[str, list[str], list[list[str]]]:
    """(delimiter, header, up to `rows` records) of a UTF-8 CSV.

    Raises
    ------
    DraftError
        Naming the file and the line: missing or empty file, bytes that are not UTF-8, an empty or
        repeated header name, a record with another number of fields than the header.
    """
    p = Path(path)
    if not p.is_file():
        raise DraftError(p, "no such file; give the path of a CSV file (FILE=...)")
    with p.open("rb") as f:
        data = f.read(SAMPLE_BYTES + 1)  # a sample: the first SAMPLE_BYTES at most
    cut = len(data) > SAMPLE_BYTES
    data = data[:SAMPLE_BYTES]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if not (cut and e.start >= len(data) - 3):  # not only a character cut by the sample's end
            raise DraftError(p, "bytes that are not valid UTF-8; re-save the file as UTF-8",
                             line=data.count(b"\n", 0, e.start) + 1) from None
        text = data[: e.start].decode("utf-8")
    if cut:  # the sample ends inside a record: drop it
        text = text[: text.rfind("\n") + 1]
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise DraftError(p, "the header is empty; the first line must name the columns", line=1)
    delimiter = max(_DELIMITERS, key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    header = [h.strip() for h in next(reader)]
    for i, h in enumerate(header, start=1):
        if not h:
            raise DraftError(p, f"column {i} of the header has no name; name every column", line=1)
        if header.index(h) != i - 1:
            raise DraftError(p, f"column {i} repeats the header name of column {header.index(h) + 1}; "
                             "header names must be unique", line=1)
    records = []
    for record in reader:
        if not record or record == [""]:
            continue
        if len(record) != len(header):
            raise DraftError(p, f"{len(record)} fields where the header has {len(header)} (delimiter "
                             f"{yaml_scalar(delimiter)}); fix the record or its quoting", line=reader.line_num)
        records.append(record)
        if len(records) >= rows:
            break
    if not records:
        raise DraftError(p, "no records under the header; a draft needs sample rows", line=2)
    return delimiter, header, records


def _date_format(values: list[str], formats=DATE_FORMATS) -> tuple[str, str] | None:
    for py, sf in formats:
        try:
            for v in values:
                dt.datetime.strptime(v, py)
        except ValueError:
            continue
        return py, sf
    return None


def _time_format(values: list[str]) -> str | None:
    for py, sf in _TIME_FORMATS:
        try:
            for v in values:
                dt.datetime.strptime(v, py)
        except ValueError:
            continue
        return sf
    return None


def _number_type(values: list[str]) -> tuple[str, str] | None:
    """NUMBER(p,s) with headroom for the sample's widest value, or None if a value is not a number."""
    if all(_INT_RE.match(v) for v in values):
        digits = max(len(v.lstrip("+-")) for v in values)
        return f"NUMBER({min(38, max(digits + 3, 5))},0)", "whole numbers"
    if all(_INT_RE.match(v) or _DEC_RE.match(v) for v in values):
        scale = max(len(v.split(".", 1)[1]) if "." in v else 0 for v in values)
        whole = max(len(v.lstrip("+-").split(".", 1)[0]) for v in values)
        return f"NUMBER({min(38, whole + scale + 3)},{scale})", f"decimals, up to {scale} places"
    return None


def _varchar(values: list[str]) -> str:
    longest = max((len(v) for v in values), default=1)
    return f"VARCHAR({max(16, 2 ** math.ceil(math.log2(max(longest, 1) * 2)))})"


def draft_contract(path: str | Path, *, level: str | None = None, rows: int = SAMPLE_ROWS,
                   name: str | None = None) -> Draft:
    """Guess a contract for a CSV file from its header and a sample of rows.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8, a header line).
    level : {'invoice', 'customer', 'customer_table'}, optional
        The feature level; guessed when not given (see the module's docstring).
    rows : int
        Records read for the guesses.
    name : str, optional
        The contract's name; default the file's stem.

    Returns
    -------
    Draft
        Render it with :func:`render_yaml`.

    Raises
    ------
    DraftError
        The file cannot be read (names the file and line).
    InputError
        An unknown `level`.
    """
    if level is not None and level not in LEVELS:
        raise InputError(f"level {level!r} is unknown; write one of {list(LEVELS)}")
    p = Path(path)
    delimiter, header, records = read_sample(p, rows)
    n = len(records)
    stem = name or re.sub(r"[^A-Za-z0-9_-]+", "_", p.stem).strip("_-").lower() or "dataset"
    if not CONTRACT_NAME_RE.match(stem):
        stem = f"d_{stem}"[:64]
    columns: list[DraftColumn] = []
    used: set[str] = set()
    date_format = time_format = None
    notes: list[str] = []
    for i, h in enumerate(header):
        values = [r[i] for r in records if r[i] != ""]
        ident = column_identifier(h)
        while ident in used:
            ident = f"{ident}_{i + 1}"
        used.add(ident)
        col = DraftColumn(name=h, column=ident, type="VARCHAR(16)", role="derived")
        distinct = len(set(values))
        by_name = next(((role, what) for role, pattern, what in _NAME_ROLES if pattern.search(_snake(h))), None)
        empty = f"; {n - len(values)} empty of {n}" if len(values) < n else ""

        if by_name and by_name[0] in ("entity", "invoice_id"):
            col.type, col.role = _varchar(values), by_name[0]
            col.why.append(f"role {by_name[0]}: name matches {by_name[1]}; {distinct} distinct of {n} rows{empty}")
            col.why.append(f"type {col.type}: an id is text (leading zeros kept, never added up)")
        elif values and (fmt := _date_format(values)) and date_format in (None, fmt[1]):
            date_format, col.type = fmt[1], "DATE"
            also = [sf for py, sf in DATE_FORMATS if sf != fmt[1] and _date_format(values, [(py, sf)])]
            col.why.append(f"type DATE: every value reads as {fmt[1]} (csv.date_format)"
                           + (f"; they read as {', '.join(also)} too: check which one the file uses" if also else ""))
        elif values and all(_TIMESTAMP_RE.match(v) for v in values):
            col.type = "TIMESTAMP_NTZ"
            col.why.append("type TIMESTAMP_NTZ: every value is an ISO date and time (read by Snowflake's AUTO format)")
        elif values and (tf := _time_format(values)) and time_format in (None, tf):
            time_format, col.type, col.role = tf, "TIME", "timestamp_time"
            col.why.append(f"type TIME, role timestamp_time: every value is a time of day {tf} (csv.time_format)")
        elif values and (num := _number_type(values)):
            col.type = num[0]
            col.why.append(f"type {col.type}: {num[1]}{empty}")
        else:
            col.type = _varchar(values)
            col.why.append(f"type {col.type}: text, the longest value has {max((len(v) for v in values), default=0)} "
                           f"characters{empty}")

        if col.type in ("DATE", "TIMESTAMP_NTZ"):
            if not any(c.role == "timestamp_date" for c in columns):
                col.role = "timestamp_date"
                col.why.append("role timestamp_date: the first date column (the sale's date)")
            else:
                col.why.append("role derived: a second date column (the first one is the sale's date)")
        elif col.role in ("entity", "invoice_id", "timestamp_time"):
            pass
        elif col.type.startswith("NUMBER"):
            role = by_name[0] if by_name and not any(c.role == by_name[0] for c in columns) else None
            if role and by_name:
                col.role = role
                col.why.append(f"role {role}: name matches {by_name[1]}")
            elif re.search(rf"(^|_)({_ID_WORDS})$", _snake(h)) and distinct == n:
                col.why.append("role derived: looks like an id (name ends in id, every value distinct), not a measure")
            else:
                col.role = "numeric"
                col.why.append("role numeric: a number that is no id, amount, quantity or price by its name")
        elif values and distinct <= CATEGORY_MAX and distinct < len(values):
            col.role, col.values = "categorical", tuple(sorted(set(values)))
            col.why.append(f"role categorical: {distinct} distinct values in {n} rows; `values` lists them "
                           "(a value not listed is quarantined by the gate)")
        else:
            col.why.append(f"role derived: text with {distinct} distinct values in {n} rows (too many for a "
                           "category), loaded but no feature")
        columns.append(col)

    entity = next((c for c in columns if c.role == "entity"), None)
    if entity is None:
        notes.append("no column looks like the customer id: add `role: entity` to it (levels customer and "
                     "customer_table need one)")
    unique = entity is not None and len({r[columns.index(entity)] for r in records}) == n
    if level is not None:
        why = f"level {level}: given (LEVEL=...)"
        if level == "customer_table" and entity is not None and not unique:
            notes.append(f"level customer_table, but {yaml_scalar(entity.name)} repeats in the sample: the gate "
                         "quarantines a customer id seen twice in one file")
    elif unique:
        level, why = "customer_table", (f"level customer_table: the customer id is unique in the sample "
                                        f"({n} rows, {n} customers): one row per customer")
    elif entity is not None:
        level, why = "customer", ("level customer: the customer id repeats (transactions): they are aggregated "
                                  "per customer")
    elif any(c.role == "invoice_id" for c in columns):
        level, why = "invoice", "level invoice: no customer id, an invoice id: each row is a feature row"
    else:
        level, why = "customer", "level customer: a guess; no customer id was recognised (see the note above)"
    for role in LEVELS[level]:
        if not any(c.role == role for c in columns):
            notes.append(f"level {level} needs a column with role {role} ({ROLE_MEANINGS[role]}): set it on "
                         "the right column")
    base = column_identifier(stem)
    return Draft(name=stem, table=raw_table_name(base), columns=columns, level=level,
                 level_why=why, delimiter=delimiter, date_format=date_format, time_format=time_format, rows=n,
                 notes=notes)


def render_yaml(draft: Draft, source: str | Path | None = None) -> str:
    """The draft as a contract YAML, each guess commented (loads with :func:`snowseg.config.load_contract`)."""
    numeric, categorical = draft.features()
    if draft.level != "invoice":
        entity = next((c.column for c in draft.columns if c.role == "entity"), None)
        numeric = [c for c in numeric if c != entity]
    out = [
        f"# Drafted by `make contract` from {yaml_scalar(Path(source).name) if source else 'a CSV file'} "
        f"({draft.rows} sample rows). Review every commented guess; docs/contracts.md explains each field.",
        *(f"# NOTE: {n}" for n in draft.notes),
        f"name: {yaml_scalar(draft.name)}",
        "version: 1",
        f"table: {draft.table}",
        "csv:",
        f"  delimiter: {json.dumps(draft.delimiter)}",
        "  quote: '\"'",
        "  encoding: UTF-8",
    ]
    if draft.date_format:
        out.append(f"  date_format: {draft.date_format}")
    if draft.time_format:
        out.append(f"  time_format: {draft.time_format}")
    out.append("columns:")
    for c in draft.columns:
        out += [f"  # {w}" for w in c.why]
        out.append(f"  - name: {yaml_scalar(c.name)}")
        out.append(f"    column: {c.column}")
        out.append(f"    type: {json.dumps(c.type)}")
        out.append(f"    role: {c.role}")
        if c.values:
            out.append(f"    values: [{', '.join(yaml_scalar(v) for v in c.values)}]")
    out += [
        "features:",
        f"  # {draft.level_why}",
        f"  level: {draft.level}",
        "  # every number with a model role; at level customer the amount becomes MONETARY and AVG_BASKET",
        f"  numeric: [{', '.join(numeric)}]",
        "  # every category with its values, one-hot encoded",
        f"  categorical: [{', '.join(categorical)}]",
        "  encoding: onehot",
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snowseg.contract_draft",
                                     description="Draft a dataset contract YAML from a CSV's header and sample rows.")
    parser.add_argument("file", type=Path, help="the CSV file")
    parser.add_argument("--level", choices=list(LEVELS), help="feature level (default: guessed)")
    parser.add_argument("--rows", type=int, default=SAMPLE_ROWS, help=f"sample rows (default {SAMPLE_ROWS})")
    parser.add_argument("--out", type=Path, help="write the YAML here (a folder: <folder>/<file stem>.yaml); "
                        "default: stdout")
    args = parser.parse_args(argv)
    try:
        draft = draft_contract(args.file, level=args.level, rows=args.rows)
    except DraftError as e:
        print(f"make contract: {e}", file=sys.stderr)
        return 2
    text = render_yaml(draft, args.file)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out = args.out / f"{draft.name}.yaml" if args.out.is_dir() or not args.out.suffix else args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"drafted {out} (contract {draft.name!r}, level {draft.level}); review it, then load a file with it: "
          f"make demo FILE={args.file} CONTRACT={out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
