"""Bad input through all three load DAGs: the stated outcome of every case, and nothing changes on a re-run.

Each case builds one file of 120 generated rows that breaks exactly one thing, and states what each load
path must do with it (the table in docs/architecture.md, "Nothing twice, nothing lost", is this table):

- small: ``load_small_file`` with its default ``ON_ERROR = ABORT_STATEMENT``;
- bulk: ``load_bulk_stage`` (``ON_ERROR = CONTINUE``, several chunks);
- snowpipe: ``load_s3_snowpipe`` (auto-ingest; the pipe's ``SKIP_FILE``, then the skipped file's good rows).

After each run, SALES_RAW holds each good row exactly once, and SALES_REJECTED + LOAD_AUDIT account for
every other row: ``rows_parsed = rows_loaded + rows_rejected``. A second run on the same file changes no
count.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from snowseg_samples import write_sales_csv
from tests.integration.conftest import query

pytestmark = pytest.mark.integration

ROWS = 120
PATHS = ("small", "bulk", "snowpipe")


@dataclass(frozen=True)
class Expect:
    state: str  # the DAG run's state
    raw: int  # rows in SALES_RAW
    rejected: int  # rows in SALES_REJECTED
    audit: tuple  # (STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED) of the file's LOAD_AUDIT row
    error: str | None = None  # in FIRST_ERROR
    line: int | None = None  # FIRST_ERROR_LINE
    column: str | None = None  # FIRST_ERROR_COLUMN (the contract's column)
    rejected_lines: tuple = ()  # LINE of each SALES_REJECTED row, in the file as given (checked when given)


def _records(src: Path) -> list[list[str]]:
    with src.open(newline="") as f:
        return list(csv.reader(f))


def _write(path: Path, records: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(records)
    path.write_text(buf.getvalue())
    return path


def malformed(src: Path) -> Path:
    recs = _records(src)
    recs[10][7] = "x7"  # line 11, Quantity
    recs[80][6] = "abc"  # line 81, Unit price
    return _write(src, recs)


def ragged_extra(src: Path) -> Path:
    recs = _records(src)
    recs[20].append("oops")  # line 21
    return _write(src, recs)


def ragged_missing(src: Path) -> Path:
    recs = _records(src)
    recs[20].pop()  # line 21
    return _write(src, recs)


def ragged_and_malformed(src: Path) -> Path:
    """Two ragged records (one spanning two lines through a quoted newline) before a bad value: the bad value's
    line must not shift when the ragged records are kept out of the load. Snowflake's validator reports a record with
    missing fields at its last line (32)."""
    recs = _records(src)
    recs[20].append("oops")  # line 21
    recs[30][5] = "Food\nand beverages"  # line 31-32: one record on two lines...
    recs[30].pop()  # ...with 16 fields
    recs[60][7] = "x61"  # physical line 62 (the record of line 31 spans two lines), Quantity
    return _write(src, recs)


QUOTED = 'Food, fresh\nand "beverages"'


def quoted(src: Path) -> Path:
    recs = _records(src)
    recs[4][5] = QUOTED  # a delimiter, a newline and quotes inside one quoted field
    return _write(src, recs)


def bom(src: Path) -> Path:
    src.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    return src


def latin1(src: Path) -> Path:
    lines = src.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b",C,", b",C\xe9,", 1).replace(b",A,", b",A\xe9,", 1).replace(b",B,", b",B\xe9,", 1)
    src.write_bytes(b"\n".join(lines))
    return src


def empty(src: Path) -> Path:
    src.write_bytes(b"")
    return src


def header_only(src: Path) -> Path:
    src.write_text(src.read_text().splitlines()[0] + "\n")
    return src


def extra_column(src: Path) -> Path:
    recs = _records(src)
    return _write(src, [recs[0] + ["Loyalty"], *[r + ["1"] for r in recs[1:]]])


def missing_column(src: Path) -> Path:
    return _write(src, [r[:-1] for r in _records(src)])


def gzipped(src: Path) -> Path:
    out = src.with_name(src.name + ".gz")
    out.write_bytes(gzip.compress(src.read_bytes(), mtime=0))
    src.unlink()
    return out


def truncated_gzip(src: Path) -> Path:
    out = gzipped(src)
    out.write_bytes(out.read_bytes()[:-200])
    return out


def refused(error: str, line: int | None, rows: int = 0, column: str | None = None) -> dict[str, Expect]:
    """Refused before loading: the counted records are parsed and rejected as a whole (no SALES_REJECTED row)."""
    e = Expect("failed", 0, 0, ("REFUSED", rows, 0, rows), error, line, column)
    return {p: e for p in PATHS}


COLUMN_COUNT = "Number of columns in file ({}) does not match that of the corresponding table (17)"


def ragged_outcome(fields: int, line: int, column: str | None) -> dict[str, Expect]:
    """Snowflake rejects just the ragged record (ERROR_ON_COLUMN_COUNT_MISMATCH); the small path's ABORT_STATEMENT
    aborts as for a bad value, keeping the rejected record."""
    error = COLUMN_COUNT.format(fields)
    return {
        "small": Expect("failed", 0, 1, ("FAILED", ROWS, 0, ROWS), error, line, column, (line,)),
        "bulk": Expect("success", ROWS - 1, 1, ("PARTIALLY_LOADED", ROWS, ROWS - 1, 1), error, line, column, (line,)),
        "snowpipe": Expect("success", ROWS - 1, 1, ("PARTIALLY_LOADED", ROWS, ROWS - 1, 1), error, line, column,
                           (line,)),
    }


def loaded(rows: int = ROWS) -> dict[str, Expect]:
    e = Expect("success", rows, 0, ("LOADED", rows, rows, 0))
    return {p: e for p in PATHS}


CASES: dict[str, tuple[Callable[[Path], Path], dict[str, Expect]]] = {
    "malformed-values": (malformed, {
        "small": Expect("failed", 0, 2, ("FAILED", ROWS, 0, ROWS), "Numeric value 'x7' is not recognized", 11,
                        "QUANTITY", (11, 81)),
        "bulk": Expect("success", ROWS - 2, 2, ("PARTIALLY_LOADED", ROWS, ROWS - 2, 2), "'x7'", 11, "QUANTITY",
                       (11, 81)),
        "snowpipe": Expect("success", ROWS - 2, 2, ("PARTIALLY_LOADED", ROWS, ROWS - 2, 2), "'x7'", 11, "QUANTITY",
                           (11, 81)),
    }),
    "ragged-too-many-fields": (ragged_extra, ragged_outcome(18, 21, None)),
    "ragged-too-few-fields": (ragged_missing, ragged_outcome(16, 21, "RATING")),
    "ragged-and-malformed": (ragged_and_malformed, {
        "small": Expect("failed", 0, 3, ("FAILED", ROWS, 0, ROWS), COLUMN_COUNT.format(18), 21, None, (21, 32, 62)),
        "bulk": Expect("success", ROWS - 3, 3, ("PARTIALLY_LOADED", ROWS, ROWS - 3, 3), COLUMN_COUNT.format(18), 21,
                       None, (21, 32, 62)),
        "snowpipe": Expect("success", ROWS - 3, 3, ("PARTIALLY_LOADED", ROWS, ROWS - 3, 3), COLUMN_COUNT.format(18),
                           21, None, (21, 32, 62)),
    }),
    "quoted-newline-delimiter": (quoted, loaded()),
    "utf8-bom": (bom, loaded()),
    "latin-1-bytes": (latin1, refused("1 line(s) with bytes that are not valid UTF-8: line 3, column 2 (Branch)", 3,
                                      ROWS, "BRANCH")),
    "empty-file": (empty, refused("the file is empty", 1)),
    "header-only": (header_only, loaded(0)),
    "extra-column": (extra_column, refused("1 column(s) not in the contract at position(s) 18", 1, ROWS)),
    "missing-column": (missing_column, refused("missing: ['Rating']", 1, ROWS, "RATING")),
    "gzip-input": (gzipped, loaded()),
    "truncated-gzip": (truncated_gzip, refused("gzip stream is truncated or corrupt", None)),
}


def run_load(run_dag, path: str, file: Path, database: str):
    """Run the load DAG of `path` on `file`; return (DagRun, states)."""
    if path == "small":
        return run_dag("load_small_file", file_path=str(file))
    if path == "bulk":
        return run_dag("load_bulk_stage", path=str(file), chunk_mb=0.003)
    return run_dag("load_s3_snowpipe", path=str(file), landing_url=f"s3://snowseg-landing/{database.lower()}/",
                   poll_seconds=0.3, wait_minutes=1)


def counts(sf, database: str) -> tuple:
    return tuple(query(sf, f"select count(*) from {t}")[0][0] for t in (
        f"{database}.RAW.SALES_RAW", f"{database}.RAW.SALES_REJECTED", f"{database}.AUDIT.LOAD_AUDIT"))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(run_dag, sf, database, tmp_path, case, path):
    make, expected = CASES[case]
    want = expected[path]
    file = make(write_sales_csv(tmp_path / "sales.csv", ROWS, seed=7))

    dr, states = run_load(run_dag, path, file, database)
    assert dr.state == want.state, states
    assert counts(sf, database) == (want.raw, want.rejected, 1)
    ((status, parsed, n_loaded, n_rejected, error, line, column),) = query(
        sf, f"select STATUS, ROWS_PARSED, ROWS_LOADED, ROWS_REJECTED, FIRST_ERROR, FIRST_ERROR_LINE, "
        f"FIRST_ERROR_COLUMN from {database}.AUDIT.LOAD_AUDIT")
    assert (status, parsed, n_loaded, n_rejected) == want.audit
    assert parsed == n_loaded + n_rejected
    if want.error:
        assert want.error in (error or ""), error
        assert not error.startswith("None:") and "(22018): None" not in error  # the connector's prefix is gone
        assert (line, column) == (want.line, want.column)
    else:
        assert error is None
    if want.rejected_lines:
        assert tuple(r[0] for r in query(sf, f"select LINE from {database}.RAW.SALES_REJECTED order by LINE")) == \
            want.rejected_lines
    if "ragged" in case and want.rejected:  # the raw record, as it is in the file, with Snowflake's error code
        ((code, record),) = query(sf, f"select CODE, REJECTED_RECORD from {database}.RAW.SALES_REJECTED "
                                      "where LINE = 21")
        assert (code, record) == (100080, file.read_text().splitlines()[20])
    if case == "quoted-newline-delimiter":
        assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW where PRODUCT_LINE = %s", (QUOTED,)) == [(1,)]
    if case == "utf8-bom":
        assert query(sf, f"select count(*) from {database}.RAW.SALES_RAW where INVOICE_ID like '\ufeff%'") == [(0,)]

    before = counts(sf, database)
    run_load(run_dag, path, file, database)
    assert counts(sf, database) == before, "a re-run must not change any count"


@pytest.mark.parametrize("path", PATHS)
def test_same_file_twice_under_two_names_loads_once(run_dag, sf, database, tmp_path, path):
    """The same content sent again under another name is recognised by its checksum: no new rows."""
    a = write_sales_csv(tmp_path / "a" / "sales.csv", ROWS, seed=8)
    b = tmp_path / "b" / "sales_copy.csv"
    b.parent.mkdir()
    b.write_bytes(a.read_bytes())
    assert run_load(run_dag, path, a, database)[0].state == "success"
    dr, states = run_load(run_dag, path, b, database)
    assert dr.state == "success" and "skipped" in states.values()
    assert counts(sf, database) == (ROWS, 0, 1)


@pytest.mark.parametrize("path", PATHS)
def test_same_name_with_changed_content_is_a_new_batch(run_dag, sf, database, tmp_path, path):
    """A daily export overwritten under the same name is new data: it loads as a second batch (Snowflake's own
    path-keyed load metadata would skip it; our staged paths are keyed by content)."""
    f = write_sales_csv(tmp_path / "sales.csv", ROWS, seed=9)
    assert run_load(run_dag, path, f, database)[0].state == "success"
    write_sales_csv(f, 80, seed=10)
    assert run_load(run_dag, path, f, database)[0].state == "success"
    assert counts(sf, database) == (ROWS + 80, 0, 2)
    assert query(sf, f"select FILE_NAME, ROWS_LOADED from {database}.AUDIT.LOAD_AUDIT order by ROWS_LOADED") == [
        ("sales.csv", 80), ("sales.csv", ROWS)]
    assert query(sf, f"select count(distinct _BATCH_ID) from {database}.RAW.SALES_RAW") == [(2,)]
