"""The quality gate: write-audit-publish for load batches, with Great Expectations 1.x.

Every load writes its rows under a ``_BATCH_ID``. :func:`run_gate` (the first task of
``segment_customers``) finds the batches it has not judged yet and validates each with the contract's
suite (:mod:`snowseg.quality.suite`). By default (``quality.strategy: sql``) GX's SQL datasource runs
the rules in the warehouse, through the same Airflow connection, on a query of the batch's rows with
each money identity's residual computed in SQL; only metrics and the failing rows' keys come back.
``fetch`` fetches the rows once and validates a pandas batch instead (``bench/bench_gate.py`` measures
both: docs/benchmarks.md; the SQL strategy moves no rows out of the warehouse). Then, per batch:

- rows failing a row-level ``error`` rule go to ``RAW.<TABLE>_QUARANTINE`` with the rule's name;
- the batch is ``HELD`` if a batch-level ``error`` rule fails (row count vs LOAD_AUDIT, schema,
  rejected share over ``quality.rejected_share_max``) or if its quarantined share is over
  ``quality.quarantine_share_max``; otherwise it is ``PUBLISHED``;
- one row per rule goes to ``AUDIT.DQ_RESULTS``, and the verdict to ``AUDIT.BATCH_GATE``, all in one
  transaction. The view ``RAW.<TABLE>_PUBLISHED`` (published batches minus quarantined rows) is what
  the features read. For a published batch, quarantined + published = loaded.

A held batch fails the run (:class:`GateFailed`, carrying the held verdicts and what to do); it stays held (it
is not judged again), so later runs publish new batches without it. The run's page (every rule's
result) and the batch's pictures go to the run's report folder. GX's Data Docs are not built: they
load scripts from CDNs and put raw values of the batch into HTML, which no report of ours may carry.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowseg import migrations
from snowseg import warehouse as wh
from snowseg.config import DatasetContract
from snowseg.errors import InputError
from snowseg.objects import dataset_objects, raw_table
from snowseg.quality.suite import ROW_KEY, Rule, contract_rules, identity_sql, to_gx, type_mismatches, unchecked_columns
from snowseg.warehouse import Names, quote_ident, quote_literal

log = logging.getLogger(__name__)

SUITE = "raw_batch"


@dataclass
class RuleResult:
    """One rule's outcome on one batch."""

    rule: Rule
    success: bool
    unexpected_count: int | None = None
    element_count: int | None = None
    observed_value: Any = None
    unexpected_rows: list[dict] = field(default_factory=list)


@dataclass
class BatchVerdict:
    """The gate's decision on one batch."""

    batch_id: str
    status: str
    rows: int
    quarantined: int
    results: list[RuleResult]

    @property
    def failed_errors(self) -> list[RuleResult]:
        return [r for r in self.results if not r.success and r.rule.severity == "error"]

    @property
    def failed_warnings(self) -> list[RuleResult]:
        return [r for r in self.results if not r.success and r.rule.severity == "warn"]

    @property
    def failed_rules(self) -> str:
        """The failed error rules with their counts, e.g. ``value_set:BRANCH (20 rows)`` ('none' if none failed)."""
        return ", ".join(f"{r.rule.name} ({_count(r)})" for r in self.failed_errors) or "none"

    def describe(self) -> str:
        warns = ", ".join(f"{r.rule.name} ({_count(r)})" for r in self.failed_warnings) or "none"
        return (f"batch {self.batch_id}: {self.status}; {self.rows} rows, {self.quarantined} quarantined; "
                f"failed error rules: {self.failed_rules}; warnings: {warns}")


def _count(r: RuleResult) -> str:
    if r.unexpected_count is not None:
        return f"{r.unexpected_count} rows"
    return f"observed {r.observed_value}"


class GateFailed(InputError):
    """Batches held back by the gate: their data broke an error rule (a retry cannot change that).

    ``held`` (the held :class:`BatchVerdict` s: batch id, rows, quarantined, failed rules), ``judged`` (how many new
    batches the run judged), ``run_id``, ``report_path`` (the run's quality report, if written), where the results
    are (``audit_schema``, ``quarantine_table``) and ``what_to_do``.

    Examples
    --------
    >>> from snowseg.quality.suite import Rule
    >>> rule = Rule(name="value_set:BRANCH", type="expect_column_values_to_be_in_set", kwargs={}, severity="error")
    >>> e = GateFailed([BatchVerdict("b1", "HELD", 200, 20, [RuleResult(rule, False, unexpected_count=20)])],
    ...                judged=1, run_id="r1", quarantine_share_max=0.05, report_path="/q/r1/index.html")
    >>> [(v.batch_id, v.rows, v.quarantined, v.failed_rules) for v in e.held]
    [('b1', 200, 20, 'value_set:BRANCH (20 rows)')]
    >>> e.what_to_do.split(" (")[0]
    'See the quality report /q/r1/index.html and AUDIT.BATCH_GATE / AUDIT.DQ_RESULTS for batch b1'
    """

    def __init__(self, held: list[BatchVerdict], *, judged: int, run_id: str, quarantine_share_max: float,
                 report_path: str | None = None, audit_schema: str = "AUDIT",
                 quarantine_table: str = "RAW.SALES_QUARANTINE"):
        self.held, self.judged, self.run_id, self.report_path = list(held), judged, run_id, report_path
        self.audit_schema, self.quarantine_table = audit_schema, quarantine_table
        ids = [v.batch_id for v in self.held]
        report = report_path or f"of run {run_id}"
        self.what_to_do = (
            f"See the quality report {report} and {audit_schema}.BATCH_GATE / {audit_schema}.DQ_RESULTS for batch "
            f"{', '.join(ids) or '?'} (its file: select FILE_NAME from {audit_schema}.LOAD_AUDIT where BATCH_ID = "
            f"'{ids[0] if ids else '?'}'). Fix the file and load it again (a new batch), or after a look set the "
            f"batch's {audit_schema}.BATCH_GATE row to PUBLISHED and re-run segment_customers.")
        super().__init__(
            f"{len(self.held)} of {judged} new batch(es) held back by the quality gate "
            f"(quarantine share max {quarantine_share_max:.0%}):\n"
            + "\n".join("  - " + v.describe() for v in self.held)
            + f"\nDetails: {audit_schema}.DQ_RESULTS (run {run_id}), quarantined rows in {quarantine_table}"
            + (f", report file://{report_path}" if report_path else "") + ". A held batch stays held. What to do: "
            + self.what_to_do)


@dataclass
class GateResult:
    """What one gate run decided."""

    run_id: str
    verdicts: list[BatchVerdict]
    report_path: str | None = None

    @property
    def held(self) -> list[BatchVerdict]:
        return [v for v in self.verdicts if v.status == "HELD"]

    def summary(self) -> dict:
        """A JSON-safe summary (for XCom)."""
        return {"run_id": self.run_id, "report_path": self.report_path,
                "batches": [{"batch_id": v.batch_id, "status": v.status, "rows": v.rows, "quarantined": v.quarantined,
                             "failed_errors": [r.rule.name for r in v.failed_errors],
                             "failed_warnings": [r.rule.name for r in v.failed_warnings]} for v in self.verdicts]}


def _target(names: Names, contract: DatasetContract) -> str:
    return raw_table(names, contract)


def new_batches(cur: Any, names: Names, contract: DatasetContract) -> list[dict]:
    """The batches not judged yet, with LOAD_AUDIT's parsed / loaded / rejected rows."""
    rows = wh.run(cur, "quality/select_new_batches.sql", {"target_table": _target(names, contract)},
                  database=names.database, schema=names.raw, audit_schema=names.audit,
                  table=quote_ident(contract.table))
    cols = [d[0].upper() for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in rows]


def fetch_batches(cur: Any, names: Names, contract: DatasetContract, batch_ids: list[str],
                  unchecked: dict[str, str] | None = None):
    """The batches' rows as a DataFrame, in the shapes the rules compare (ISO dates, floats)."""
    sql = wh.render("quality/select_batch_rows.sql", database=names.database, schema=names.raw,
                    table=quote_ident(contract.table), identities=identity_sql(contract, unchecked),
                    batch_ids=", ".join(quote_literal(b) for b in batch_ids))
    cur.execute(sql)
    df = cur.fetch_pandas_all()  # Arrow batches: ~2.5x faster than fetchall() into tuples (bench_gate)
    return _typed(df, contract)


def fetch_sample(cur: Any, names: Names, contract: DatasetContract, batches: list[dict], columns: set[str]):
    """The rows the report's pictures are drawn from: every row of the batches, or a random sample of
    ``quality.picture_rows`` when there are more (the pictures of 1e6 rows look like those of 1e5)."""
    total = sum(int(b["ROWS_IN_TABLE"] or 0) for b in batches)
    limit = contract.quality.picture_rows
    sql = wh.render("quality/select_batch_sample.sql", database=names.database, schema=names.raw,
                    table=quote_ident(contract.table),
                    select_columns=", ".join(quote_ident(c) for c in contract.column_names if c in columns) or "*",
                    batch_ids=", ".join(quote_literal(b["BATCH_ID"]) for b in batches),
                    sample=f"sample ({limit} rows)" if total > limit else "")
    cur.execute(sql)
    df = _typed(cur.fetch_pandas_all(), contract)
    return df, total


def _typed(df: Any, contract: DatasetContract):
    """Upper-case names; numbers, dates and load times in the shapes the rules compare."""
    import pandas as pd

    df.columns = [str(c).upper() for c in df.columns]
    for c in contract.columns:
        if c.type.startswith(("NUMBER", "FLOAT")) and c.column in df:
            df[c.column] = pd.to_numeric(df[c.column], errors="coerce")
        elif c.type == "DATE" and c.column in df:
            df[c.column] = pd.to_datetime(df[c.column], errors="coerce")
    for col in [c for c in df.columns if c.startswith("_ID_")]:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    if "_LOADED_AT" in df:
        df["_LOADED_AT"] = df["_LOADED_AT"].map(lambda v: v.isoformat(sep=" ") if hasattr(v, "isoformat") else v)
    return df


def add_warehouse_source(context: Any, conn_id: str | None = None) -> Any:
    """GX's SQL datasource on the Airflow Snowflake connection the DAGs use.

    The connection URL comes from ``SnowflakeHook.get_uri()`` without its password, and every DB-API
    connection from ``SnowflakeHook.get_conn()`` (SQLAlchemy's ``creator``): the hook does the
    authentication (password or key pair), so no secret is written into GX's configuration, and GX runs its queries
    as the same user, role and warehouse as the loads.
    """
    import sqlalchemy as sa

    hook = wh.snowflake_hook(conn_id)
    url = sa.engine.make_url(hook.get_uri()).set(password=None).render_as_string(hide_password=False)
    with warnings.catch_warnings():
        # GX suggests its SnowflakeDatasource, which builds its own connections from credentials in its config;
        # the generic SQL datasource takes the hook's connections instead
        warnings.filterwarnings("ignore", message=".*more specific SnowflakeDatasource.*")
        return context.data_sources.add_sql("warehouse", connection_string=url, kwargs={"creator": hook.get_conn})


def validate_batch(context: Any, df: Any, rules: list[Rule], batch_id: str,
                   unchecked: dict[str, str] | None = None) -> list[RuleResult]:
    """Run the rules on one batch's DataFrame with GX (pandas datasource ``batches``)."""
    asset = context.data_sources.get("batches").add_dataframe_asset(name=batch_id)
    return _validate(context, asset.add_batch_definition_whole_dataframe("whole"), rules, batch_id, unchecked or {},
                     batch_parameters={"dataframe": df})


def validate_batch_sql(context: Any, names: Names, contract: DatasetContract, rules: list[Rule], batch_id: str,
                       unchecked: dict[str, str] | None = None) -> list[RuleResult]:
    """Run the rules on one batch in the warehouse with GX (SQL datasource ``warehouse``).

    The batch is a query asset: its rows with each money identity's residual computed in SQL; GX turns
    every expectation into aggregate queries and fetches only the failing rows' keys (_FILE, _ROW).
    A rule on a column in `unchecked` (:func:`~snowseg.quality.suite.unchecked_columns`) fails without running.
    """
    query = wh.render("quality/select_batch_rows.sql", database=names.database, schema=names.raw,
                      table=quote_ident(contract.table), identities=identity_sql(contract, unchecked),
                      batch_ids=quote_literal(batch_id))
    asset = context.data_sources.get("warehouse").add_query_asset(name=batch_id, query=query)
    return _validate(context, asset.add_batch_definition_whole_table("whole"), rules, batch_id, unchecked or {})


def _validate(context: Any, definition_data: Any, rules: list[Rule], batch_id: str, unchecked: dict[str, str],
              batch_parameters: dict | None = None) -> list[RuleResult]:
    """Run the rules with GX on one batch; each failing row-level rule lists its rows' (_FILE, _ROW)."""
    import great_expectations as gx

    suite = context.suites.add(gx.ExpectationSuite(name=f"{SUITE}.{batch_id}"))
    by_name, out = {}, []
    for rule in rules:
        if rule.column in unchecked:  # missing, or of another type: the rule fails without running
            out.append(RuleResult(rule, False, observed_value=unchecked[rule.column]))
            continue
        suite.add_expectation(to_gx(rule))
        by_name[rule.name] = rule
    definition = context.validation_definitions.add(gx.ValidationDefinition(
        name=f"{SUITE}.{batch_id}", data=definition_data, suite=suite))
    run = definition.run(batch_parameters=batch_parameters, result_format={
        "result_format": "COMPLETE", "unexpected_index_column_names": list(ROW_KEY)})
    for r in run.results:
        rule = by_name[r.expectation_config.meta["name"]]
        if error := gx_exception(r.exception_info):
            raise RuntimeError(f"rule {rule.name!r} ({rule.type}) could not run on batch {batch_id}: {error}")
        res = r.result or {}
        count = res.get("unexpected_count")
        out.append(RuleResult(
            rule=rule, success=bool(r.success), unexpected_count=None if count is None else int(count),
            element_count=res.get("element_count"), observed_value=res.get("observed_value"),
            unexpected_rows=list(res.get("unexpected_index_list") or []) if rule.row_level else [],
        ))
    return out


def gx_exception(info: Any) -> str | None:
    """The message of an exception GX caught while running an expectation (top level or per metric)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    return next((str(v.get("exception_message")) for v in info.values()
                 if isinstance(v, dict) and v.get("raised_exception")), None)


def run_gate(conn: Any, contract: DatasetContract, names: Names, *, run_id: str, dag_id: str | None = None,
             report_dir: Path | None = None, now: dt.datetime | None = None, strategy: str | None = None,
             conn_id: str | None = None) -> GateResult:
    """Judge every new batch; record results, quarantine and verdicts; raise GateFailed if a batch is held.

    Parameters
    ----------
    conn : snowflake.connector.SnowflakeConnection
        Finds the batches and records the outcome.
    contract, names : the dataset contract and object names.
    run_id, dag_id : str
        Recorded with every result.
    report_dir : Path, optional
        Where the run's page and the batch pictures go (skipped if None).
    now : datetime, optional
        The gate's clock (UTC, naive); default now.
    strategy : {"sql", "fetch"}, optional
        Default: the contract's ``quality.strategy`` (``sql``). ``sql``: GX's SQL datasource runs the
        rules in the warehouse through the Airflow connection `conn_id`; only metrics and the failing
        rows' keys come back. ``fetch``: the batches' rows are fetched once and GX validates a pandas
        batch. Same rules, same verdicts; ``bench/bench_gate.py`` measures both.
    conn_id : str, optional
        The Airflow Snowflake connection for the SQL datasource (default as ``warehouse.connect``).

    Returns
    -------
    GateResult
        With every verdict (no batches: nothing to judge).

    Raises
    ------
    GateFailed
        After recording, if a batch was held; names each held batch's failed rules and counts.
    """
    import great_expectations as gx

    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    q = contract.quality
    strategy = strategy or q.strategy
    if strategy not in ("sql", "fetch"):
        raise ValueError(f"quality gate strategy {strategy!r}: use 'sql' or 'fetch'")
    with conn.cursor() as cur:
        migrations.require(cur, names, contract)
        batches = new_batches(cur, names, contract)
        history = wh.run(cur, "quality/select_batch_verdicts.sql", {"target_table": _target(names, contract)},
                         database=names.database, schema=names.audit)
        if not batches:
            log.info("quality gate: no new batches in %s", _target(names, contract))
            result = GateResult(run_id, [])
            if report_dir is not None:  # still a page: what the gate has decided so far
                from snowseg.quality.report import write_quality_report

                result.report_path = str(write_quality_report(Path(report_dir), run_id=run_id, verdicts=[],
                                                              history=history))
            return result
        table_columns = wh.run(cur, "quality/select_table_columns.sql",
                               {"schema": names.raw, "table": contract.table}, database=names.database)
        present = {str(c[0]).upper() for c in table_columns}
        unchecked = unchecked_columns(contract, present, type_mismatches(contract, table_columns))
        republished = _already_published(cur, names, contract, [b["BATCH_ID"] for b in batches])
        df = (fetch_batches(cur, names, contract, [b["BATCH_ID"] for b in batches], unchecked)
              if strategy == "fetch" else None)

    context = gx.get_context(mode="ephemeral")
    if strategy == "fetch":
        context.data_sources.add_pandas("batches")
    else:
        add_warehouse_source(context, conn_id)
    verdicts = []
    for b in batches:
        rules = contract_rules(contract, expected_rows=b["ROWS_LOADED"], today=now.date().isoformat(),
                               now=now.isoformat(sep=" "))
        if df is not None:
            batch = df[df["_BATCH_ID"] == b["BATCH_ID"]].reset_index(drop=True)
            results, rows = validate_batch(context, batch, rules, b["BATCH_ID"], unchecked), len(batch)
        else:
            results = validate_batch_sql(context, names, contract, rules, b["BATCH_ID"], unchecked)
            rows = int(b["ROWS_IN_TABLE"])
        results.append(_rejected_share(b, q.rejected_share_max))
        results.append(_types(contract, table_columns))
        if (key := contract.column_for_role("invoice_id")) is not None:
            results.append(_unique_across(key.column, republished.get(b["BATCH_ID"], [])))
        keys = {(u["_FILE"], int(u["_ROW"])) for r in results if not r.success and r.rule.severity == "error"
                for u in r.unexpected_rows}
        share = len(keys) / rows if rows else 0.0
        batch_errors = [r for r in results if not r.success and r.rule.severity == "error" and not r.rule.row_level]
        status = "HELD" if batch_errors or share > q.quarantine_share_max else "PUBLISHED"
        verdicts.append(BatchVerdict(b["BATCH_ID"], status, rows, len(keys), results))
        log.info(verdicts[-1].describe())

    _record(conn, names, contract, verdicts, run_id=run_id, dag_id=dag_id, checked_at=now)
    result = GateResult(run_id, verdicts)
    if report_dir is not None:
        with conn.cursor() as cur:
            sample, total = fetch_sample(cur, names, contract, batches, present - unchecked.keys())
        result.report_path = str(_report(Path(report_dir), run_id, verdicts, sample, total, contract, history))
    if result.held:
        raise GateFailed(result.held, judged=len(verdicts), run_id=run_id, quarantine_share_max=q.quarantine_share_max,
                         report_path=result.report_path, audit_schema=names.audit,
                         quarantine_table=f"{names.raw}.{dataset_objects(contract).quarantine}")
    return result


def _rejected_share(batch: dict, limit: float) -> RuleResult:
    """The load's rejected share (LOAD_AUDIT) as a batch-level rule result."""
    parsed, rejected = batch.get("ROWS_PARSED"), batch.get("ROWS_REJECTED")
    share = (float(rejected or 0) / float(parsed)) if parsed else 0.0
    rule = Rule("batch:rejected_share_max", "snowseg_rejected_share_at_most", {"max_value": limit}, "error")
    return RuleResult(rule, share <= limit, observed_value=round(share, 6), element_count=int(parsed or 0))


def _already_published(cur: Any, names: Names, contract: DatasetContract, batch_ids: list[str]) -> dict[str, list]:
    """Per batch, the rows whose invoice id a published batch already holds (as GX's unexpected rows)."""
    key = contract.column_for_role("invoice_id")
    if key is None:
        return {}
    rows = wh.run(cur, "quality/select_already_published_keys.sql", database=names.database, schema=names.raw,
                  table=quote_ident(contract.table), key=quote_ident(key.column),
                  published_view=dataset_objects(contract).published,
                  batch_ids=", ".join(quote_literal(b) for b in batch_ids))
    out: dict[str, list] = {}
    for batch_id, file, row, value in rows:
        out.setdefault(batch_id, []).append({"_FILE": file, "_ROW": int(row), key.column: value})
    return out


def _unique_across(column: str, rows: list[dict]) -> RuleResult:
    """Row-level: invoice ids of the batch that published batches already hold."""
    rule = Rule(f"unique_across_batches:{column}", "snowseg_values_not_in_published_batches", {"column": column},
                "error", column, rows=True)
    return RuleResult(rule, not rows, unexpected_count=len(rows), unexpected_rows=rows)


def _types(contract: DatasetContract, table_columns: list[tuple]) -> RuleResult:
    """The raw table's column types against the contract's, as a batch-level rule result."""
    mismatches = type_mismatches(contract, table_columns)
    rule = Rule("schema:types", "snowseg_column_types_match_contract", {}, "error")
    return RuleResult(rule, not mismatches, observed_value=mismatches or "all types as in the contract")


def _record(conn: Any, names: Names, contract: DatasetContract, verdicts: list[BatchVerdict], *, run_id: str,
            dag_id: str | None, checked_at: dt.datetime) -> None:
    """DQ_RESULTS, quarantine rows and BATCH_GATE verdicts in one transaction (texts from the data redacted)."""
    from snowseg.redaction import known_secrets, redact

    results, quarantine, gate, secrets = [], [], [], known_secrets()
    for v in verdicts:
        for r in v.results:
            results.append({
                "run_id": run_id, "dag_id": dag_id, "batch_id": v.batch_id, "suite": f"{contract.name}.{SUITE}",
                "expectation": r.rule.name, "expectation_type": r.rule.type, "column_name": r.rule.column,
                "severity": r.rule.severity, "success": r.success,
                "observed_value": None if r.observed_value is None else redact(
                    json.dumps(r.observed_value, default=str), secrets)[:4000],
                "unexpected_count": r.unexpected_count, "element_count": r.element_count, "checked_at": checked_at,
            })
            if not r.success and r.rule.severity == "error":
                for u in r.unexpected_rows:
                    value = u.get(r.rule.column) if r.rule.column else None
                    quarantine.append({
                        "batch_id": v.batch_id, "file": u["_FILE"], "row": int(u["_ROW"]), "expectation": r.rule.name,
                        "column_name": r.rule.column, "value": None if value is None else redact(str(value), secrets),
                        "run_id": run_id, "quarantined_at": checked_at,
                    })
        gate.append({
            "batch_id": v.batch_id, "target_table": _target(names, contract), "status": v.status,
            "rows_checked": v.rows,
            "rows_quarantined": v.quarantined, "run_id": run_id, "checked_at": checked_at,
            "failed_errors": ", ".join(r.rule.name for r in v.failed_errors) or None,
        })
    with conn.cursor() as cur:
        with wh.transaction(cur):
            cur.executemany(wh.render("audit/insert_dq_result.sql", database=names.database, schema=names.audit),
                            results)
            if quarantine:
                cur.executemany(wh.render("raw/insert_quarantine_row.sql", database=names.database, schema=names.raw,
                                          quarantine_table=dataset_objects(contract).quarantine), quarantine)
            cur.executemany(wh.render("audit/insert_batch_gate.sql", database=names.database, schema=names.audit), gate)


def _report(report_dir: Path, run_id: str, verdicts: list[BatchVerdict], sample: Any, total: int,
            contract: DatasetContract, history: list[tuple] | None = None) -> Path:
    """The run's quality page: verdicts, every rule, and the pictures of the checked rows."""
    from snowseg.quality.eda import eda_html, eda_pictures
    from snowseg.quality.report import write_quality_report

    pictures = eda_pictures(sample[[c for c in contract.column_names if c in sample]], contract,
                            report_dir / "pictures")
    note = (f"<p>Pictures of all {total:,} checked rows.</p>" if len(sample) >= total else
            f"<p>Pictures of a random sample of {len(sample):,} of the {total:,} checked rows "
            f"(quality.picture_rows); the rules above ran on every row.</p>")
    return write_quality_report(report_dir, run_id=run_id, verdicts=verdicts,
                                pictures_html=note + eda_html(pictures, report_dir), history=history)
