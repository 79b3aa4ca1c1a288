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

from snowseg.errors import InputError

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
#: What each role means, for the error messages and the draft contracts (snowseg.contract_draft).
ROLE_MEANINGS = {
    "invoice_id": "the row key: one row per invoice or order id",
    "entity": "the customer id",
    "timestamp_date": "the sale's date or timestamp (type DATE or TIMESTAMP_NTZ)",
    "timestamp_time": "the sale's time of day (type TIME)",
    "amount": "the sale's amount (money)",
    "quantity": "units in the sale",
    "unit_price": "price of one unit",
    "categorical": "a category (list its `values` to use it as a feature)",
    "numeric": "a number (a feature when listed in features.numeric)",
    "derived": "loaded and checked, never a feature (e.g. a redundant money column)",
}
#: The feature levels and the roles each needs (see docs/contracts.md).
LEVELS = {
    "invoice": ("invoice_id",),
    "customer": ("entity", "timestamp_date", "amount"),
    "customer_table": ("entity",),
}
LEVEL_MEANINGS = {
    "invoice": "each row is a feature row, keyed by its invoice id",
    "customer": "transactions aggregated per customer (RFM and behaviour)",
    "customer_table": "one row per customer; its columns are the features",
}
DATE_TYPES = ("DATE", "TIMESTAMP_NTZ")
# Roles that may appear on at most one column.
SINGLE_ROLES = frozenset(
    {"invoice_id", "entity", "timestamp_date", "timestamp_time", "amount", "quantity", "unit_price"}
)
_TYPE_RE = re.compile(
    r"^(VARCHAR(\(\d+\))?|NUMBER\(\d+,\s*\d+\)|NUMBER|FLOAT|DATE|TIME|TIMESTAMP_NTZ|BOOLEAN)$"
)
_IDENT_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
#: Words a column may not be called (columns are unquoted identifiers): Snowflake's reserved keywords, type
#: names and a few words SQL engines treat specially, and the features' own ENTITY_ID.
RESERVED_COLUMNS = frozenset("""
ACCOUNT ALL ALTER AND ANY AS BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION CONSTRAINT CREATE CROSS CURRENT
CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DELETE DISTINCT DROP ELSE EXISTS FALSE FOLLOWING
FOR FROM FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT INTERSECT INTO IS ISSUE JOIN LATERAL LEFT
LIKE LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE
ROW ROWS SAMPLE SCHEMA SELECT SET SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE
USING VALUES VIEW WHEN WHENEVER WHERE WITH DATE TIME TIMESTAMP NUMBER VARCHAR FLOAT BOOLEAN VALUE KEY ENTITY_ID
""".split())
#: A contract's name: the stem of its YAML file in a contracts folder (never a path).
CONTRACT_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")


class ContractError(InputError):
    """A dataset contract is malformed or cannot be found.

    Attributes
    ----------
    path : str or None
        The contract file (None when no file was found).
    field : str or None
        The offending entry, as a path into the YAML (``columns[3] ('Amount').role``, ``features.level``).
    advice : str or None
        What to write instead.

    Examples
    --------
    >>> e = ContractError("role 'amout' is unknown", path="c.yaml", field="columns[3] ('Amount').role",
    ...                   advice="write one of amount, entity")
    >>> str(e)
    "c.yaml: columns[3] ('Amount').role: role 'amout' is unknown; write one of amount, entity"
    >>> (e.field, isinstance(e, ValueError))
    ("columns[3] ('Amount').role", True)
    """

    def __init__(self, problem: str, *, path: str | Path | None = None, field: str | None = None,
                 advice: str | None = None):
        self.path = None if path is None else str(path)
        self.field, self.problem, self.advice = field, problem, advice
        where = ": ".join(x for x in (self.path, field) if x)
        super().__init__((f"{where}: " if where else "") + problem + (f"; {advice}" if advice else ""))


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
class RefitPolicy:
    """When ``segment_customers`` refits (k scores + ensemble) rather than assigning every customer to the last
    refit's centroids in the warehouse (see ``snowseg.clustering.drift`` and docs/contracts.md).

    ``every_days``: refit when the last refit is this many calendar days old or older (0: every run).
    ``max_drift``: refit when drift (the largest shift of a segment's mean since the last refit, root mean
    square over the features in standard deviations) is above it.
    """

    every_days: int = 7
    max_drift: float = 0.25


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
    refit: RefitPolicy = field(default_factory=RefitPolicy)

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
        If the file is missing, or a column has an unknown role or type, a duplicate name, a feature
        refers to an unknown column, or the level lacks a role it needs (:data:`LEVELS`). Its fields
        ``path``, ``field`` and ``advice`` name the file, the entry and what to write.

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
            raise ContractError(f"{c!r} is not a contract column", path=path, field=f"quality.{where}",
                                advice=f"write one of the contract's columns {sorted(known)}")
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
                raise ContractError(f"missing {key!r}", path=path, field=f"quality.identities[{i}]",
                                    advice="an identity has a name, a left and a right side (and a tolerance)")
        for side in ("left", "right"):
            expr = str(d[side]).upper()
            if not _EXPR_RE.match(expr):
                raise ContractError(f"{d[side]!r} is not an expression of columns", path=path,
                                    field=f"quality.identities[{i}].{side}",
                                    advice="use columns, numbers, + - * / and parentheses only")
            for token in re.findall(r"[A-Z_][A-Z0-9_]*", expr):
                column(token, f"identities[{i}].{side}")
        identities.append(Identity(name=str(d["name"]), left=str(d["left"]).upper(), right=str(d["right"]).upper(),
                                   tolerance=float(d.get("tolerance", 0.01)),
                                   severity=_severity(d.get("severity", "error"), path, f"identities[{i}]")))
    expectations = []
    for i, e in enumerate(q.get("expectations") or [], start=1):
        if "type" not in e:
            raise ContractError("missing 'type'", path=path, field=f"quality.expectations[{i}]",
                                advice="write a GX expectation type, e.g. type: expect_column_values_to_not_be_null")
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
        raise ContractError(f"{value!r} is unknown", path=path, field="quality.strategy",
                            advice=f"allowed: {list(QUALITY_STRATEGIES)}")
    return str(value)


def _positive_int(value: Any, path: Path, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ContractError(f"{value!r} is not a whole number of at least 1", path=path, field=f"quality.{where}",
                            advice="write a whole number of at least 1, e.g. 100000")
    return value


def _severity(value: Any, path: Path, where: str) -> str:
    if str(value) not in SEVERITIES:
        raise ContractError(f"severity {value!r} is unknown", path=path, field=f"quality.{where}.severity",
                            advice=f"allowed: {list(SEVERITIES)}")
    return str(value)


def _resolve(path: str | Path | None) -> Path:
    """Turn a path or a bare contract name into an existing file path."""
    if path is None:
        return DEFAULT_CONTRACT
    if isinstance(path, str) and CONTRACT_NAME_RE.match(path):
        return contract_path(path)
    p = Path(path)
    if not p.is_file():
        raise ContractError(f"{str(path)!r} is not a contract file", field="contract",
                            advice=f"known contracts: {known_contracts()}; draft one with `make contract FILE=...`")
    return p


def contract_dirs() -> list[Path]:
    """Where contracts are looked up by name: SNOWSEG_CONTRACTS_DIR's folders, then include/datasets/."""
    from snowseg import settings

    return [*settings.path_list("SNOWSEG_CONTRACTS_DIR"), DATASETS_DIR]


def known_contracts() -> list[str]:
    """The contract names found in :func:`contract_dirs`."""
    return sorted({f.stem for d in contract_dirs() if d.is_dir() for f in d.glob("*.yaml")})


DEFAULT_CONTRACT_NAME = "supermarket"


def contract_param(default: str = DEFAULT_CONTRACT_NAME) -> Any:
    """The ``contract`` Param of a DAG's trigger form: a choice of the contracts known at parse time.

    Its ``enum`` is :func:`known_contracts` (the contract folders are listed, no contract is read), so
    the form offers a drop-down; a contract added later appears when the DAG file is parsed again.

    Parameters
    ----------
    default : str
        The preselected contract (the first known one if it is not known).

    Returns
    -------
    airflow.sdk.Param

    Examples
    --------
    >>> p = contract_param()
    >>> p.value, "orders" in p.schema["enum"]
    ('supermarket', True)
    """
    from airflow.sdk import Param

    names = known_contracts() or [default]
    return Param(default if default in names else names[0], type="string", enum=names, title="Dataset contract",
                 description=f"A YAML contract by name, from {' or '.join(str(d) for d in contract_dirs())} "
                             "(SNOWSEG_CONTRACTS_DIR adds folders). Draft one for a new file with "
                             "`make contract FILE=my.csv` (docs/contracts.md).")


def contract_path(name: str) -> Path:
    """The file of the contract called `name` (a name, never a path); ContractError if there is none.

    Examples
    --------
    >>> contract_path("supermarket").name
    'supermarket.yaml'
    >>> contract_path("/etc/passwd")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.config.ContractError: contract: '/etc/passwd' is not a contract name; give the name of a YAML contract ...
    """
    if not CONTRACT_NAME_RE.match(str(name)):
        raise ContractError(
            f"{str(name)!r} is not a contract name", field="contract",
            advice=f"give the name of a YAML contract (letters, digits, '_' and '-'; no folder, no '.yaml') in "
                   f"{[str(d) for d in contract_dirs()]}; known: {known_contracts()}")
    for folder in contract_dirs():
        if (candidate := folder / f"{name}.yaml").is_file():
            return candidate
    raise ContractError(f"no dataset contract named {name!r} in {[str(d) for d in contract_dirs()]}", field="contract",
                        advice=f"known contracts: {known_contracts()}; draft one with `make contract FILE=...`")


def _read_yaml(path: Path) -> dict[str, Any]:
    """Load one YAML mapping."""
    with path.open(encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    if not isinstance(raw, dict):
        raise ContractError(f"a contract must be a YAML mapping, got {type(raw).__name__}", path=path,
                            advice="see docs/contracts.md, or draft one with `make contract FILE=...`")
    return raw


def _apply_extends(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Merge a contract that extends another: base columns plus `add_columns` after `insert_after`."""
    base_name = str(raw["extends"])
    if Path(base_name).name != base_name or base_name.startswith("."):
        raise ContractError(f"extends {base_name!r} is not a file name", path=path, field="extends",
                            advice="give the file name of a contract in the same folder")
    base = _read_yaml(path.parent / base_name)
    columns = list(base["columns"])
    after = raw.get("insert_after")
    names = [c["name"] for c in columns]
    if after is not None and after not in names:
        raise ContractError(f"insert_after {after!r} is not a column of {raw['extends']}", path=path,
                            field="insert_after", advice=f"write one of {names}")
    at = names.index(after) + 1 if after is not None else len(columns)
    columns[at:at] = raw.get("add_columns", [])
    merged = {**base, **{k: v for k, v in raw.items() if k not in {"extends", "insert_after", "add_columns"}}}
    merged["columns"] = columns
    return merged


def _build(raw: dict[str, Any], path: Path) -> DatasetContract:
    """Validate the raw mapping and type it; each refusal names the field and says what to write."""
    for key, what in (("name", "the dataset's name"), ("table", "the raw table (e.g. ORDERS_RAW)"),
                      ("columns", "the file's columns, in order")):
        if key not in raw:
            raise ContractError(f"missing required key {key!r}", path=path, field=key, advice=f"add `{key}:` ({what})")
    table = str(raw["table"]).upper()
    if not _IDENT_RE.match(table):
        raise ContractError(f"table {raw['table']!r} is not a plain identifier", path=path, field="table",
                            advice="use A-Z, 0-9 and _ (e.g. ORDERS_RAW)")
    if not isinstance(raw["columns"], list) or not raw["columns"]:
        raise ContractError("columns must be a non-empty list", path=path, field="columns",
                            advice="list the file's columns in order, each with name, column, type and role")
    columns = [_column(c, i, path) for i, c in enumerate(raw["columns"], start=1)]

    _check_unique(path, "name", [c.name for c in columns])
    _check_unique(path, "column", [c.column for c in columns])
    for role in SINGLE_ROLES:
        holders = [c.column for c in columns if c.role == role]
        if len(holders) > 1:
            raise ContractError(f"role {role!r} is held by several columns {holders}; it allows one", path=path,
                                field="columns", advice=f"keep `role: {role}` on one of them and give the others "
                                "another role (numeric, categorical or derived)")

    csv_raw = raw.get("csv") or {}
    unknown = sorted(set(csv_raw) - set(CsvSpec.__dataclass_fields__))
    if unknown:
        raise ContractError(f"unknown csv keys {unknown}", path=path, field="csv",
                            advice=f"allowed: {sorted(CsvSpec.__dataclass_fields__)}")
    csv_spec = CsvSpec(**csv_raw)
    features = _features(raw.get("features") or {}, columns, path)

    prof = raw.get("profile") or {}
    profile = ProfileSpec(
        shares=tuple((str(c).upper(), str(v)) for c, v in (prof.get("shares") or {}).items()),
        top=tuple(str(c).upper() for c in prof.get("top", ())),
    )
    feature_cats = set(features.categorical)
    for col in [c for c, _ in profile.shares] + list(profile.top):
        if col not in feature_cats:
            raise ContractError(f"profile column {col!r} is not a categorical feature", path=path, field="profile",
                                advice=f"use one of features.categorical {sorted(feature_cats)}")

    quality = _quality(raw.get("quality") or {}, path, {c.column for c in columns})
    refit = _refit(raw.get("refit"), path)

    return DatasetContract(
        name=str(raw["name"]),
        version=int(raw.get("version", 1)),
        table=table,
        columns=tuple(columns),
        csv=csv_spec,
        features=features,
        profile=profile, quality=quality,
        source=path, refit=refit,
    )


def _refit(value: Any, path: Path) -> RefitPolicy:
    """The contract's ``refit:`` mapping (every_days, max_drift), defaults for what it leaves out.

    Examples
    --------
    >>> _refit({"every_days": 14}, Path("c.yaml"))
    RefitPolicy(every_days=14, max_drift=0.25)
    >>> _refit({"max_drift": 0}, Path("c.yaml"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.config.ContractError: c.yaml: refit.max_drift: 0 is not a positive number; ...
    """
    if value is None:
        return RefitPolicy()
    if not isinstance(value, dict):
        raise ContractError(f"refit must be a mapping, got {type(value).__name__}", path=path, field="refit",
                            advice="write e.g. `refit: {every_days: 7, max_drift: 0.25}`")
    unknown = sorted(set(value) - set(RefitPolicy.__dataclass_fields__))
    if unknown:
        raise ContractError(f"unknown refit keys {unknown}", path=path, field="refit",
                            advice=f"allowed: {sorted(RefitPolicy.__dataclass_fields__)}")
    every = value.get("every_days", RefitPolicy.every_days)
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ContractError(f"{every!r} is not a whole number of days >= 0", path=path, field="refit.every_days",
                            advice="write e.g. 7 (0 refits on every run)")
    drift = value.get("max_drift", RefitPolicy.max_drift)
    if isinstance(drift, bool) or not isinstance(drift, int | float) or not 0 < drift < float("inf"):
        raise ContractError(f"{drift!r} is not a positive number", path=path, field="refit.max_drift",
                            advice="write the largest drift (standard deviations) to tolerate, e.g. 0.25")
    return RefitPolicy(every_days=every, max_drift=float(drift))


def _column(c: Any, i: int, path: Path) -> ColumnSpec:
    """Validate one entry of ``columns``."""
    if not isinstance(c, dict):
        raise ContractError(f"{c!r} is not a mapping", path=path, field=f"columns[{i}]",
                            advice="write {name: <CSV header>, column: <SNOWFLAKE_NAME>, type: <type>, role: <role>}")
    where = f"columns[{i}] ({c.get('name', '?')!r})"
    missing = [k for k in ("name", "column", "type", "role") if k not in c]
    if missing:
        raise ContractError(f"missing {missing}", path=path, field=where,
                            advice="each column has name (the CSV header), column (the Snowflake name), type and role")
    column, type_, role = str(c["column"]).upper(), str(c["type"]).upper(), str(c["role"])
    if not _IDENT_RE.match(column):
        raise ContractError(f"column {c['column']!r} is not a plain identifier", path=path, field=f"{where}.column",
                            advice="use A-Z, 0-9 and _, starting with a letter or _ (e.g. ORDER_DATE)")
    if column in RESERVED_COLUMNS or column.startswith("_"):
        raise ContractError(f"column {column!r} is a reserved word or starts with '_' (kept for the load's lineage)",
                            path=path, field=f"{where}.column",
                            advice=f"name it otherwise, e.g. {column.strip('_')}_COL")
    if not _TYPE_RE.match(type_):
        raise ContractError(f"type {c['type']!r} is not supported", path=path, field=f"{where}.type",
                            advice="write VARCHAR(n), NUMBER(p,s), FLOAT, DATE, TIME, TIMESTAMP_NTZ or BOOLEAN")
    if role not in ROLES:
        raise ContractError(f"unknown role {role!r}", path=path, field=f"{where}.role",
                            advice=f"write one of {', '.join(sorted(ROLES))}")
    if role == "timestamp_date" and type_ not in DATE_TYPES:
        raise ContractError(f"role 'timestamp_date' on type {type_}", path=path, field=f"{where}.type",
                            advice="write type DATE (a date) or TIMESTAMP_NTZ (a date and time)")
    values = c.get("values", ())
    if not isinstance(values, (list, tuple)):
        raise ContractError(f"values {values!r} is not a list", path=path, field=f"{where}.values",
                            advice="write the category values as a YAML list, e.g. values: [Female, Male]")
    return ColumnSpec(name=str(c["name"]), column=column, type=type_, role=role,
                      nullable=bool(c.get("nullable", True)), values=tuple(str(v) for v in values))


def _features(feats: dict[str, Any], columns: list[ColumnSpec], path: Path) -> FeatureSpec:
    """Validate the ``features`` section against the columns and the level's needs (:data:`LEVELS`)."""
    features = FeatureSpec(
        level=str(feats.get("level", "invoice")),
        numeric=tuple(str(x).upper() for x in feats.get("numeric", ())),
        categorical=tuple(str(x).upper() for x in feats.get("categorical", ())),
        encoding=str(feats.get("encoding", "onehot")),
    )
    if features.level not in LEVELS:
        raise ContractError(f"features.level {features.level!r} is unknown", path=path, field="features.level",
                            advice="write one of " + "; ".join(f"{k} ({v})" for k, v in LEVEL_MEANINGS.items()))
    by_column = {c.column: c for c in columns}
    for kind, listed in (("numeric", features.numeric), ("categorical", features.categorical)):
        for col in listed:
            if col not in by_column:
                raise ContractError(f"feature column {col!r} is not a contract column", path=path,
                                    field=f"features.{kind}", advice=f"write one of {sorted(by_column)}")
    for col in features.categorical:
        if not by_column[col].values:
            raise ContractError(f"categorical feature {col!r} has no `values` list", path=path,
                                field="features.categorical", advice="list its values on the column, e.g. "
                                "values: [A, B, C] (one-hot columns are made per value)")
    if features.encoding not in {"onehot", "label"}:
        raise ContractError(f"features.encoding {features.encoding!r} is unknown", path=path,
                            field="features.encoding", advice="allowed: 'onehot', 'label'")
    roles = {c.role for c in columns}
    for role in LEVELS[features.level]:
        if role not in roles:
            raise ContractError(
                f"features.level {features.level!r} needs a column with role {role!r} ({ROLE_MEANINGS[role]})",
                path=path, field="features.level",
                advice=f"add `role: {role}` to that column" + (
                    ", or use level customer (transactions aggregated per customer) when there is no invoice id"
                    if role == "invoice_id" else ""))
    entity = next((c.column for c in columns if c.role == "entity"), None)
    if features.level != "invoice" and entity in (*features.numeric, *features.categorical):
        raise ContractError(f"the entity column {entity!r} is listed as a feature", path=path, field="features",
                            advice="remove it from features.numeric / features.categorical (it is the row's id)")
    if features.level == "customer_table" and not (features.numeric or features.categorical):
        raise ContractError("level 'customer_table' has no feature columns", path=path, field="features",
                            advice="list the customer table's numeric and categorical columns in "
                                   "features.numeric and features.categorical")
    return features


def _check_unique(path: Path, what: str, values: list[str]) -> None:
    """Raise if a column attribute repeats."""
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ContractError(f"duplicate column {what} {v!r}", path=path, field="columns",
                                advice=f"each column's {what} must be unique")
        seen.add(v)
