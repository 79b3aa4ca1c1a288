"""The dataset contract: a YAML file that maps a sales file's columns onto roles.

A contract says which CSV header becomes which Snowflake column, with which type, and what each
column means to the pipeline (row key, customer id, date, amount, category...). Everything
downstream -- the file checks, the table DDL, the COPY column list, the feature SQL -- is derived
from it, so a user with another schema writes a contract, not code.

Examples
--------
>>> contract = load_contract()
>>> contract.table, len(contract.columns)
('SALES_RAW', 17)
>>> contract.column_for_role("amount").column
'TOTAL'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"
DEFAULT_CONTRACT = DATASETS_DIR / "supermarket.yaml"

ROLES = frozenset(
    {
        "invoice_id",
        "entity",
        "timestamp_date",
        "timestamp_time",
        "amount",
        "quantity",
        "unit_price",
        "categorical",
        "numeric",
        "derived",
    }
)
# Roles that may appear on at most one column.
SINGLE_ROLES = frozenset(
    {"invoice_id", "entity", "timestamp_date", "timestamp_time", "amount", "quantity", "unit_price"}
)
_TYPE_RE = re.compile(
    r"^(VARCHAR(\(\d+\))?|NUMBER\(\d+,\s*\d+\)|NUMBER|FLOAT|DATE|TIME|TIMESTAMP_NTZ|BOOLEAN)$"
)
_IDENT_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
#: A contract's name: the stem of its YAML file in a contracts folder (never a path).
CONTRACT_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")


class ContractError(ValueError):
    """A dataset contract is malformed; the message names the file and the offending entry."""


@dataclass(frozen=True)
class ColumnSpec:
    """One source column: CSV header `name`, Snowflake `column` and `type`, and its `role`."""

    name: str
    column: str
    type: str
    role: str
    nullable: bool = True
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class CsvSpec:
    """How the CSV is written: delimiter, quote, encoding, date/time formats, size limit."""

    delimiter: str = ","
    quote: str = '"'
    encoding: str = "UTF-8"
    date_format: str = "AUTO"
    time_format: str = "AUTO"
    max_file_mb: float = 50.0


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns feed the model and how categoricals are encoded."""

    level: str = "invoice"
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    encoding: str = "onehot"


@dataclass(frozen=True)
class ProfileSpec:
    """What a segment summary shows besides size and mean amount."""

    shares: tuple[tuple[str, str], ...] = ()  # (column, value): share of rows with that value
    top: tuple[str, ...] = ()  # columns whose most frequent value is shown


# an identity's expression: column names, numbers, + - * / and parentheses only (it is put into SQL)
_EXPR_RE = re.compile(r"^[A-Z0-9_ .+\-*/()]+$")
SEVERITIES = ("error", "warn")


@dataclass(frozen=True)
class Identity:
    """A row-level rule ``|left - (right)| <= tolerance`` between columns (e.g. total = cogs + tax)."""

    name: str
    left: str
    right: str
    tolerance: float
    severity: str = "error"


@dataclass(frozen=True)
class QualitySpec:
    """The quality gate's settings and the contract's own rules (see ``snowseg.quality``)."""

    ranges: tuple[tuple[str, float | None, float | None, bool], ...] = ()  # (column, min, max, strict_min)
    dates: tuple[str | None, str | None] = (None, "today")  # (min ISO date, max ISO date | 'today')
    identities: tuple[Identity, ...] = ()
    expectations: tuple[dict, ...] = ()  # extra GX expectations: {type, kwargs, severity}
    quarantine_share_max: float = 0.05
    rejected_share_max: float = 0.05
    freshness_hours: float = 48.0
    strategy: str = "sql"  # "sql": GX validates in the warehouse; "fetch": rows fetched once, GX on pandas
    picture_rows: int = 100_000  # the report's pictures use a sample of at most this many rows


QUALITY_STRATEGIES = ("sql", "fetch")


@dataclass(frozen=True)
class DatasetContract:
    """A typed dataset contract.

    Attributes
    ----------
    name, version : contract identity, recorded with every model run.
    table : the raw table the files load into (in the RAW schema).
    columns : source columns in file order.
    csv : the file's format.
    features : the feature view's inputs.
    source : the YAML file it was read from.
    """

    name: str
    version: int
    table: str
    columns: tuple[ColumnSpec, ...]
    csv: CsvSpec = field(default_factory=CsvSpec)
    features: FeatureSpec = field(default_factory=FeatureSpec)
    profile: ProfileSpec = field(default_factory=ProfileSpec)
    quality: QualitySpec = field(default_factory=QualitySpec)
    source: Path | None = None

    @property
    def header(self) -> list[str]:
        """The CSV header the contract expects, in order."""
        return [c.name for c in self.columns]

    @property
    def column_names(self) -> list[str]:
        """The Snowflake column names, in file order."""
        return [c.column for c in self.columns]

    def column_for_role(self, role: str) -> ColumnSpec | None:
        """The column carrying a single-valued role, or None if the contract has none."""
        if role not in SINGLE_ROLES:
            raise ValueError(f"role {role!r} can be held by several columns; use columns_for_role")
        return next((c for c in self.columns if c.role == role), None)

    def columns_for_role(self, role: str) -> list[ColumnSpec]:
        """All columns carrying `role`."""
        return [c for c in self.columns if c.role == role]

    def column(self, column: str) -> ColumnSpec:
        """The spec of a Snowflake column; KeyError names the known columns."""
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(f"column {column!r} is not in contract {self.name!r}; known: {self.column_names}")


def load_contract(path: str | Path | None = None) -> DatasetContract:
    """Read and validate a dataset contract.

    Parameters
    ----------
    path : str or Path, optional
        A contract YAML file; a bare name (``"supermarket"``) is looked up in ``include/datasets/``.
        Defaults to the supermarket contract.

    Returns
    -------
    DatasetContract

    Raises
    ------
    ContractError
        If the file is missing, or a column has an unknown role or type, a duplicate name, or a
        feature refers to an unknown column. The message names the file and the entry.

    Examples
    --------
    >>> load_contract("supermarket").header[:3]
    ['Invoice ID', 'Branch', 'City']
    >>> load_contract("supermarket_customers").column_for_role("entity").column
    'CUSTOMER_ID'
    """
    resolved = _resolve(path)
    raw = _read_yaml(resolved)
    if "extends" in raw:
        raw = _apply_extends(raw, resolved)
    return _build(raw, resolved)


def _quality(q: dict[str, Any], path: Path, known: set[str]) -> QualitySpec:
    """Validate the contract's ``quality`` section."""

    def column(c: Any, where: str) -> str:
        col = str(c).upper()
        if col not in known:
            raise ContractError(f"{path}: quality.{where}: {c!r} is not a contract column; known: {sorted(known)}")
        return col

    ranges = []
    for c, r in (q.get("ranges") or {}).items():
        r = r or {}
        ranges.append((column(c, "ranges"), r.get("min"), r.get("max"), bool(r.get("strict_min", False))))
    dates = q.get("dates") or {}
    identities = []
    for i, d in enumerate(q.get("identities") or [], start=1):
        for key in ("name", "left", "right"):
            if key not in d:
                raise ContractError(f"{path}: quality.identities[{i}]: missing {key!r}")
        for side in ("left", "right"):
            expr = str(d[side]).upper()
            if not _EXPR_RE.match(expr):
                raise ContractError(f"{path}: quality.identities[{i}].{side} {d[side]!r}: use columns, numbers, "
                                    "+ - * / and parentheses only")
            for token in re.findall(r"[A-Z_][A-Z0-9_]*", expr):
                column(token, f"identities[{i}].{side}")
        identities.append(Identity(name=str(d["name"]), left=str(d["left"]).upper(), right=str(d["right"]).upper(),
                                   tolerance=float(d.get("tolerance", 0.01)),
                                   severity=_severity(d.get("severity", "error"), path, f"identities[{i}]")))
    expectations = []
    for i, e in enumerate(q.get("expectations") or [], start=1):
        if "type" not in e:
            raise ContractError(f"{path}: quality.expectations[{i}]: missing 'type' (a GX expectation type)")
        expectations.append({"type": str(e["type"]), "kwargs": dict(e.get("kwargs") or {}),
                             "severity": _severity(e.get("severity", "error"), path, f"expectations[{i}]")})
    return QualitySpec(
        ranges=tuple(ranges), dates=(dates.get("min"), dates.get("max", "today")), identities=tuple(identities),
        expectations=tuple(expectations), quarantine_share_max=float(q.get("quarantine_share_max", 0.05)),
        rejected_share_max=float(q.get("rejected_share_max", 0.05)),
        freshness_hours=float(q.get("freshness_hours", 48.0)), strategy=_strategy(q.get("strategy", "sql"), path),
        picture_rows=_positive_int(q.get("picture_rows", 100_000), path, "picture_rows"),
    )


def _strategy(value: Any, path: Path) -> str:
    if str(value) not in QUALITY_STRATEGIES:
        raise ContractError(f"{path}: quality.strategy {value!r}; allowed: {list(QUALITY_STRATEGIES)}")
    return str(value)


def _positive_int(value: Any, path: Path, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ContractError(f"{path}: quality.{where} {value!r}: a whole number of at least 1")
    return value


def _severity(value: Any, path: Path, where: str) -> str:
    if str(value) not in SEVERITIES:
        raise ContractError(f"{path}: quality.{where}: severity {value!r}; allowed: {list(SEVERITIES)}")
    return str(value)


def _resolve(path: str | Path | None) -> Path:
    """Turn a path or a bare contract name into an existing file path."""
    if path is None:
        return DEFAULT_CONTRACT
    if isinstance(path, str) and CONTRACT_NAME_RE.match(path):
        return contract_path(path)
    p = Path(path)
    if not p.is_file():
        raise ContractError(f"dataset contract {str(path)!r} not found; known contracts: {known_contracts()}")
    return p


def contract_dirs() -> list[Path]:
    """Where contracts are looked up by name: SNOWSEG_CONTRACTS_DIR's folders, then include/datasets/."""
    from snowseg import settings

    return [*settings.path_list("SNOWSEG_CONTRACTS_DIR"), DATASETS_DIR]


def known_contracts() -> list[str]:
    """The contract names found in :func:`contract_dirs`."""
    return sorted({f.stem for d in contract_dirs() if d.is_dir() for f in d.glob("*.yaml")})


def contract_path(name: str) -> Path:
    """The file of the contract called `name` (a name, never a path); ContractError if there is none.

    Examples
    --------
    >>> contract_path("supermarket").name
    'supermarket.yaml'
    >>> contract_path("/etc/passwd")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.config.ContractError: contract '/etc/passwd' is not a contract name: ...
    """
    if not CONTRACT_NAME_RE.match(str(name)):
        raise ContractError(
            f"contract {str(name)!r} is not a contract name: give the name of a YAML contract (letters, digits, "
            f"'_' and '-'; no folder, no '.yaml') in {[str(d) for d in contract_dirs()]}; known: {known_contracts()}")
    for folder in contract_dirs():
        if (candidate := folder / f"{name}.yaml").is_file():
            return candidate
    raise ContractError(f"no dataset contract named {name!r} in {[str(d) for d in contract_dirs()]}; "
                        f"known contracts: {known_contracts()}")


def _read_yaml(path: Path) -> dict[str, Any]:
    """Load one YAML mapping."""
    with path.open(encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    if not isinstance(raw, dict):
        raise ContractError(f"{path}: a contract must be a YAML mapping, got {type(raw).__name__}")
    return raw


def _apply_extends(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Merge a contract that extends another: base columns plus `add_columns` after `insert_after`."""
    base_name = str(raw["extends"])
    if Path(base_name).name != base_name or base_name.startswith("."):
        raise ContractError(f"{path}: extends {base_name!r}: give the file name of a contract in the same folder")
    base = _read_yaml(path.parent / base_name)
    columns = list(base["columns"])
    after = raw.get("insert_after")
    names = [c["name"] for c in columns]
    if after is not None and after not in names:
        raise ContractError(f"{path}: insert_after {after!r} is not a column of {raw['extends']}")
    at = names.index(after) + 1 if after is not None else len(columns)
    columns[at:at] = raw.get("add_columns", [])
    merged = {**base, **{k: v for k, v in raw.items() if k not in {"extends", "insert_after", "add_columns"}}}
    merged["columns"] = columns
    return merged


def _build(raw: dict[str, Any], path: Path) -> DatasetContract:
    """Validate the raw mapping and type it."""
    for key in ("name", "table", "columns"):
        if key not in raw:
            raise ContractError(f"{path}: missing required key {key!r}")
    table = str(raw["table"]).upper()
    if not _IDENT_RE.match(table):
        raise ContractError(f"{path}: table {raw['table']!r} is not a plain identifier (A-Z, 0-9, _)")

    columns = []
    for i, c in enumerate(raw["columns"], start=1):
        where = f"{path}: columns[{i}] ({c.get('name', '?')!r})"
        missing = {"name", "column", "type", "role"} - set(c)
        if missing:
            raise ContractError(f"{where}: missing {sorted(missing)}")
        column, type_, role = str(c["column"]).upper(), str(c["type"]).upper(), str(c["role"])
        if not _IDENT_RE.match(column):
            raise ContractError(f"{where}: column {c['column']!r} is not a plain identifier (A-Z, 0-9, _)")
        if not _TYPE_RE.match(type_):
            raise ContractError(
                f"{where}: type {c['type']!r} is not supported; use VARCHAR(n), NUMBER(p,s), FLOAT, "
                "DATE, TIME, TIMESTAMP_NTZ or BOOLEAN"
            )
        if role not in ROLES:
            raise ContractError(f"{where}: unknown role {role!r}; roles are {sorted(ROLES)}")
        columns.append(
            ColumnSpec(
                name=str(c["name"]),
                column=column,
                type=type_,
                role=role,
                nullable=bool(c.get("nullable", True)),
                values=tuple(str(v) for v in c.get("values", ())),
            )
        )

    _check_unique(path, "name", [c.name for c in columns])
    _check_unique(path, "column", [c.column for c in columns])
    for role in SINGLE_ROLES:
        holders = [c.column for c in columns if c.role == role]
        if len(holders) > 1:
            raise ContractError(f"{path}: role {role!r} is held by several columns {holders}; it allows one")

    csv_spec = CsvSpec(**(raw.get("csv") or {}))
    feats = raw.get("features") or {}
    features = FeatureSpec(
        level=str(feats.get("level", "invoice")),
        numeric=tuple(str(x).upper() for x in feats.get("numeric", ())),
        categorical=tuple(str(x).upper() for x in feats.get("categorical", ())),
        encoding=str(feats.get("encoding", "onehot")),
    )
    known = {c.column for c in columns}
    for col in (*features.numeric, *features.categorical):
        if col not in known:
            raise ContractError(f"{path}: feature column {col!r} is not a contract column; known: {sorted(known)}")
    if features.encoding not in {"onehot", "label"}:
        raise ContractError(f"{path}: features.encoding {features.encoding!r}; allowed: 'onehot', 'label'")
    if features.level not in {"invoice", "customer"}:
        raise ContractError(f"{path}: features.level {features.level!r}; allowed: 'invoice', 'customer'")
    if features.level == "customer":
        missing = [r for r in ("entity", "invoice_id", "timestamp_date", "amount") if not any(c.role == r for c in columns)]
        if missing:
            raise ContractError(f"{path}: features.level 'customer' needs columns with roles {missing} "
                                "(customer id, invoice id, sale date, amount)")

    prof = raw.get("profile") or {}
    profile = ProfileSpec(
        shares=tuple((str(c).upper(), str(v)) for c, v in (prof.get("shares") or {}).items()),
        top=tuple(str(c).upper() for c in prof.get("top", ())),
    )
    feature_cats = set(features.categorical)
    for col in [c for c, _ in profile.shares] + list(profile.top):
        if col not in feature_cats:
            raise ContractError(f"{path}: profile column {col!r} must be one of features.categorical {sorted(feature_cats)}")

    quality = _quality(raw.get("quality") or {}, path, known)

    return DatasetContract(
        name=str(raw["name"]),
        version=int(raw.get("version", 1)),
        table=table,
        columns=tuple(columns),
        csv=csv_spec,
        features=features,
        profile=profile, quality=quality,
        source=path,
    )


def _check_unique(path: Path, what: str, values: list[str]) -> None:
    """Raise if a column attribute repeats."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ContractError(f"{path}: duplicate column {what} {v!r}")
        seen.add(v)
