"""The quality gate on the twin: one batch per broken rule, the right rule fails with the right count, the right
rows are quarantined, and the batch is published or held as the rule's severity and the threshold say."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration

N = 200
COL = {"invoice": 0, "branch": 1, "customer_type": 3, "unit_price": 6, "quantity": 7, "tax": 8, "total": 9,
       "date": 10, "cogs": 13, "gross_income": 15}


def _edit(path: Path, rows: list[int], fn) -> Path:
    """Apply fn(record) to the given data rows (1-based record numbers) of a CSV."""
    with path.open(newline="") as f:
        recs = list(csv.reader(f))
    for i in rows:
        fn(recs[i])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(recs)
    path.write_text(buf.getvalue())
    return path


def wrong_tax(r):  # tax off by 1, with total and gross income consistent with it: only tax = 5% x cogs breaks
    tax = float(r[COL["tax"]]) + 1
    r[COL["tax"]], r[COL["gross_income"]] = f"{tax:.4f}", f"{tax:.4f}"
    r[COL["total"]] = f"{float(r[COL['cogs']]) + tax:.4f}"


def zero_quantity(r):  # a quantity of 0, with money columns consistent (all 0)
    r[COL["quantity"]] = "0"
    for c in ("tax", "total", "cogs", "gross_income"):
        r[COL[c]] = "0"


def unknown_branch(r):
    r[COL["branch"]] = "D"


def null_customer_type(r):
    r[COL["customer_type"]] = ""


def date_2031(r):
    r[COL["date"]] = "1/5/2031"


@pytest.fixture()
def load(twin, database, tmp_path):
    """Load a CSV through the small-file path's core into this test's database; return the connection."""
    from snowseg import warehouse
    from snowseg.airflow.tasks import resolve
    from snowseg.loading.checks import check_file
    from snowseg.loading.small_file import load_file

    contract, names = resolve("supermarket")
    conn = warehouse.connect()

    def _load(path: Path, on_error: str = "ABORT_STATEMENT"):
        return load_file(conn, check_file(path, contract), contract, names, on_error=on_error)

    _load.conn, _load.contract, _load.names = conn, contract, names
    yield _load
    conn.close()


def gate(load, tmp_path, **kw):
    from snowseg.quality.gate import run_gate

    return run_gate(load.conn, load.contract, load.names, run_id=kw.pop("run_id", "run-1"),
                    report_dir=kw.pop("report_dir", None), **kw)


def failed(verdict) -> dict[str, int | None]:
    return {r.rule.name: r.unexpected_count for r in verdict.results if not r.success}


CASES = [
    pytest.param(wrong_tax, [3, 40, 99], {"identity:tax_is_5_pct_of_cogs": 3}, id="wrong-tax"),
    pytest.param(zero_quantity, [7], {"range:QUANTITY": 1}, id="quantity-0"),
    pytest.param(unknown_branch, [12], {"value_set:BRANCH": 1}, id="unknown-branch"),
    pytest.param(null_customer_type, [150], {"not_null:CUSTOMER_TYPE": 1}, id="null-customer-type"),
    pytest.param(date_2031, [20], {"date_window:SALE_DATE": 1}, id="date-in-2031"),
]


@pytest.mark.parametrize("strategy", ["sql", "fetch"])
@pytest.mark.parametrize(("breaker", "rows", "want"), CASES)
def test_one_broken_rule_quarantines_its_rows_and_publishes_the_rest(load, sf, database, tmp_path, breaker, rows, want,
                                                                   strategy):
    """Both strategies (GX in the warehouse, GX on the fetched rows) reach the same verdict on each broken batch."""
    path = _edit(write_sales_csv(tmp_path / "s.csv", N, seed=11), rows, breaker)
    assert load(path).rows_loaded == N
    result = gate(load, tmp_path, strategy=strategy)
    (v,) = result.verdicts
    assert failed(v) == want
    assert (v.status, v.rows, v.quarantined) == ("PUBLISHED", N, len(rows))  # under the 5 % threshold
    rule = next(iter(want))
    # _ROW is METADATA$FILE_ROW_NUMBER: the record's number among the file's data records
    assert query(sf, f"select EXPECTATION, _ROW from {database}.RAW.SALES_QUARANTINE order by _ROW") == [
        (rule, r) for r in sorted(rows)]
    published = query(sf, f"select count(*) from {database}.RAW.SALES_PUBLISHED")[0][0]
    assert published + len(rows) == N  # nothing lost
    assert query(sf, f"select STATUS from {database}.AUDIT.BATCH_GATE") == [("PUBLISHED",)]
    assert query(sf, f"select count(*), count_if(not SUCCESS) from {database}.AUDIT.DQ_RESULTS") == [
        (len(v.results), 1)]


def test_duplicated_invoice_id_quarantines_both_rows(load, sf, database, tmp_path):
    path = write_sales_csv(tmp_path / "s.csv", N, seed=12)
    first = _edit(path, [], lambda r: None).read_text().splitlines()[1].split(",")[0]
    _edit(path, [2], lambda r: r.__setitem__(COL["invoice"], first))
    load(path)
    (v,) = gate(load, tmp_path).verdicts
    assert failed(v) == {"unique:INVOICE_ID": 2} and v.status == "PUBLISHED" and v.quarantined == 2


def test_invoices_already_published_are_caught_across_batches(load, sf, database, tmp_path):
    """A second file repeating 5 published invoices among new ones: those 5 rows are quarantined (2.5 % of 200:
    published); a file that is mostly old invoices is held."""
    from snowseg.quality.gate import GateFailed

    first = write_sales_csv(tmp_path / "a.csv", N, seed=21)
    load(first)
    assert gate(load, tmp_path).verdicts[0].status == "PUBLISHED"
    old = [ln.split(",")[0] for ln in first.read_text().splitlines()[1:6]]
    second = _edit(write_sales_csv(tmp_path / "b.csv", N, seed=22), [1, 2, 3, 4, 5],
                   lambda r: r.__setitem__(COL["invoice"], old.pop()))
    load(second)
    (v,) = gate(load, tmp_path, run_id="run-2").verdicts
    assert failed(v) == {"unique_across_batches:INVOICE_ID": 5} and (v.status, v.quarantined) == ("PUBLISHED", 5)
    assert query(sf, f"select count(*) from {database}.RAW.SALES_PUBLISHED") == [(2 * N - 5,)]

    third = tmp_path / "c.csv"  # the first file again with one rating changed: new content, old sales
    third.write_bytes(first.read_bytes())
    _edit(third, [1], lambda r: r.__setitem__(16, "5" if r[16] != "5" else "6"))
    load(third)
    with pytest.raises(GateFailed, match=r"unique_across_batches:INVOICE_ID \(200 rows\)"):
        gate(load, tmp_path, run_id="run-3")


def test_too_many_bad_rows_hold_the_batch_and_fail_with_the_rules(load, sf, database, tmp_path):
    """20 of 200 rows (10 % > 5 %) with an unknown branch: the batch is held, GateFailed lists rule and count."""
    from snowseg.quality.gate import GateFailed

    load(_edit(write_sales_csv(tmp_path / "s.csv", N, seed=13), list(range(1, 21)), unknown_branch))
    with pytest.raises(GateFailed, match=r"value_set:BRANCH \(20 rows\)"):
        gate(load, tmp_path)
    assert query(sf, f"select STATUS, ROWS_QUARANTINED, FAILED_ERRORS from {database}.AUDIT.BATCH_GATE") == [
        ("HELD", 20, "value_set:BRANCH")]
    assert query(sf, f"select count(*) from {database}.RAW.SALES_PUBLISHED") == [(0,)]
    # a held batch stays held: the next run has nothing new to judge and does not fail again
    assert gate(load, tmp_path, run_id="run-2").verdicts == []


def test_rejected_share_over_the_limit_holds_the_batch(load, sf, database, tmp_path):
    """A load that rejected 20 of 200 rows (ON_ERROR = CONTINUE): LOAD_AUDIT's rejected share 10 % holds it."""
    from snowseg.quality.gate import GateFailed

    path = _edit(write_sales_csv(tmp_path / "s.csv", N, seed=14), list(range(1, 21)),
                 lambda r: r.__setitem__(COL["quantity"], "many"))
    assert load(path, on_error="CONTINUE").rows_rejected == 20
    with pytest.raises(GateFailed, match="batch:rejected_share_max"):
        gate(load, tmp_path)
    ((observed,),) = query(sf, f"select OBSERVED_VALUE from {database}.AUDIT.DQ_RESULTS "
                              "where EXPECTATION = 'batch:rejected_share_max'")
    assert float(observed) == pytest.approx(0.1)


def test_row_count_not_matching_load_audit_holds_the_batch(load, sf, database, tmp_path):
    load(write_sales_csv(tmp_path / "s.csv", N, seed=15))
    with sf.cursor() as cur:
        cur.execute(f"delete from {database}.RAW.SALES_RAW where _ROW <= 6")  # rows lost after the load
    from snowseg.quality.gate import GateFailed

    with pytest.raises(GateFailed, match="batch:row_count_equals_load_audit"):
        gate(load, tmp_path)


def test_missing_column_fails_the_schema_rule_and_holds(load, sf, database, tmp_path):
    load(write_sales_csv(tmp_path / "s.csv", N, seed=16))
    with sf.cursor() as cur:
        cur.execute(f"alter table {database}.RAW.SALES_RAW drop column RATING")
    from snowseg.quality.gate import GateFailed

    with pytest.raises(GateFailed, match="schema:columns") as e:
        gate(load, tmp_path)
    assert "range:RATING" in str(e.value)  # a rule on a missing column fails, it does not crash the gate


def test_changed_column_type_fails_the_types_rule_and_holds(load, sf, database, tmp_path):
    """Someone altered RATING to text: the batch is held naming the column and both types."""
    from snowseg.quality.gate import GateFailed

    load(write_sales_csv(tmp_path / "s.csv", N, seed=20))
    with sf.cursor() as cur:
        cur.execute(f"alter table {database}.RAW.SALES_RAW alter column RATING set data type varchar(16)")
    with pytest.raises(GateFailed, match=r"schema:types"):
        gate(load, tmp_path)
    ((observed,),) = query(sf, f"select OBSERVED_VALUE from {database}.AUDIT.DQ_RESULTS where EXPECTATION = 'schema:types'")
    assert "RATING: contract NUMBER(4,1), table TEXT(16)" in observed
    # the rules on RATING are reported as not checked (not run against text), the others still ran
    assert query(sf, f"select SUCCESS, OBSERVED_VALUE from {database}.AUDIT.DQ_RESULTS where EXPECTATION = 'range:RATING'") == [
        (False, '"not checked: RATING: contract NUMBER(4,1), table TEXT(16)"')]
    assert query(sf, f"select count(*) from {database}.AUDIT.DQ_RESULTS where not SUCCESS") == [(2,)]


def test_stale_batch_is_a_warning_not_a_hold(load, sf, database, tmp_path):
    load(write_sales_csv(tmp_path / "s.csv", N, seed=17))
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=3)
    (v,) = gate(load, tmp_path, now=later).verdicts
    assert v.status == "PUBLISHED" and [r.rule.name for r in v.failed_warnings] == ["batch:freshness"]


def test_seed_file_passes_every_expectation_and_writes_the_report(load, sf, database, tmp_path, seed_csv):
    assert load(seed_csv).rows_loaded == 1000
    result = gate(load, tmp_path, report_dir=tmp_path / "quality")
    (v,) = result.verdicts
    assert failed(v) == {} and v.status == "PUBLISHED"
    assert query(sf, f"select count(*) from {database}.RAW.SALES_PUBLISHED") == [(1000,)]
    page = Path(result.report_path).read_text()
    assert "identity:tax_is_5_pct_of_cogs" in page and "<script" not in page.lower()
    for png in ("distributions", "box_by_category", "correlation", "daily_trend"):
        assert (tmp_path / "quality" / "pictures" / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "quality" / "data_docs").exists()  # CDN scripts and raw values: not built
    assert "Pictures of all 1,000 checked rows" in page
    # GX's SQL datasource got its connections from the hook: no secret is in the report folder
    secret = json.loads(os.environ["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"])["password"]
    assert len(secret) >= 8
    leaked = [f for f in (tmp_path / "quality").rglob("*") if f.is_file() and secret.encode() in f.read_bytes()]
    assert leaked == []


def test_pictures_of_a_large_batch_come_from_a_sample(load, sf, database, tmp_path):
    """Over quality.picture_rows, the pictures are drawn from a random sample; the rules still see every row."""
    import dataclasses

    load(_edit(write_sales_csv(tmp_path / "s.csv", N, seed=23), [5], unknown_branch))
    contract = load.contract
    load.contract = dataclasses.replace(contract, quality=dataclasses.replace(contract.quality, picture_rows=50))
    result = gate(load, tmp_path, report_dir=tmp_path / "quality")
    (v,) = result.verdicts
    assert failed(v) == {"value_set:BRANCH": 1} and v.rows == N
    page = Path(result.report_path).read_text()
    assert "random sample of 50 of the 200 checked rows" in page
    assert (tmp_path / "quality" / "pictures" / "distributions.png").read_bytes()[:4] == b"\x89PNG"


def test_segment_customers_runs_the_gate_first_and_fails_on_a_held_batch(run_dag, sf, database, tmp_path):
    """DAG level: a clean load publishes and segments; a batch with 10 % bad rows fails the run at the gate."""
    good = write_sales_csv(tmp_path / "good.csv", 300, seed=18)
    assert run_dag("load_small_file", file_path=str(good))[0].state == "success"
    dr, states = run_dag("segment_customers")
    assert dr.state == "success", states
    assert query(sf, f"select count(*) from {database}.ANALYTICS.CURRENT_SEGMENTS") == [(300,)]

    bad = _edit(write_sales_csv(tmp_path / "bad.csv", N, seed=19), list(range(1, 21)), unknown_branch)
    assert run_dag("load_small_file", file_path=str(bad))[0].state == "success"
    dr, states = run_dag("segment_customers")
    assert dr.state == "failed" and states["quality_gate"] == "failed" and states["features"] == "upstream_failed"
    assert query(sf, f"select STATUS, count(*) from {database}.AUDIT.BATCH_GATE group by 1 order by 1") == [
        ("HELD", 1), ("PUBLISHED", 1)]
    assert query(sf, f"select count(*) from {database}.ANALYTICS.CURRENT_SEGMENTS") == [(300,)]
