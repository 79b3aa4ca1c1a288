"""File checks before the warehouse: each refusal names the file, where, and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from snowseg.config import load_contract
from snowseg.loading.checks import FileTooLarge, HeaderMismatch, NotUtf8, RaggedRow, check_file

CONTRACT = load_contract()
HEADER = ",".join(CONTRACT.header)
ROW = "750-67-8428,A,Yangon,Member,Female,Health and beauty,74.69,7,26.1415,548.9715,1/5/2019,13:08,Ewallet,522.83,4.761904762,26.1415,9.1"


class Case(NamedTuple):
    content: bytes
    error: type[Exception]
    message: str


CASES = [
    pytest.param(Case(b"", HeaderMismatch, "the file is empty"), id="empty"),
    pytest.param(Case(f"{HEADER.replace('Rating', 'Stars')}\n{ROW}\n".encode(), HeaderMismatch,
                      "missing: ['Rating']; 1 column(s) not in the contract at position(s) 17"), id="renamed-column"),
    pytest.param(Case(f"{HEADER},Extra\n{ROW},1\n".encode(), HeaderMismatch,
                      "18 columns, the contract has 17; 1 column(s) not in the contract at position(s) 18"),
                 id="extra-column"),
    pytest.param(Case(f"{HEADER.replace(',Rating', '')}\n".encode(), HeaderMismatch, "missing: ['Rating']"),
                 id="missing-column"),
    pytest.param(Case(f"{HEADER}\n{ROW}\n{ROW},9\n".encode(), RaggedRow, "1 record(s) with another number of fields than the header's 17"),
                 id="too-many-fields"),
    pytest.param(Case(f"{HEADER}\n{ROW.rsplit(',', 1)[0]}\n".encode(), RaggedRow, "line 2 has 16 fields"),
                 id="too-few-fields"),
    pytest.param(Case(f"{HEADER}\n{ROW}\n".encode().replace(b"Yangon", b"Yang\xf3n"), NotUtf8,
                      "1 line(s) with bytes that are not valid UTF-8: line 2, column 3 (City), character 19"),
                 id="latin-1"),
]


@pytest.mark.parametrize("case", CASES)
def test_refused_files(tmp_path: Path, case: Case):
    p = tmp_path / "f.csv"
    p.write_bytes(case.content)
    with pytest.raises(case.error) as err:
        check_file(p, CONTRACT)
    assert str(p) in str(err.value)
    assert case.message in str(err.value)


def test_a_foreign_header_never_reaches_the_message(tmp_path: Path):
    """Probe (issue 11): a file that is not a CSV of the contract -- e.g. /proc/<pid>/environ, one line with
    secrets -- is refused with counts and contract column names only, never its own text."""
    p = tmp_path / "environ"
    p.write_bytes(b"AIRFLOW_CONN_SNOWFLAKE_DEFAULT={\"password\": \"hunter2-probe\"}\x00HOME=/root\x00")
    with pytest.raises(HeaderMismatch) as err:
        check_file(p, CONTRACT)
    message = str(err.value)
    assert "hunter2-probe" not in message and "AIRFLOW_CONN" not in message and "HOME" not in message
    assert "1 columns, the contract has 17" in message and "position(s) 1" in message
    assert (err.value.line, err.value.column, err.value.found_count) == (1, 1, 1)
    assert err.value.missing == CONTRACT.header and err.value.unexpected_positions == [1]


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv: no such file"):
        check_file(tmp_path / "nope.csv", CONTRACT)


def test_too_large_points_at_bulk_path(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text(f"{HEADER}\n" + f"{ROW}\n" * 20)
    with pytest.raises(FileTooLarge, match=r"over the small-file limit of 0.001 MB; load big files with the bulk stage"):
        check_file(p, CONTRACT, max_mb=0.001)


class Good(NamedTuple):
    content: bytes
    rows: int
    has_bom: bool


GOOD = [
    pytest.param(Good(f"{HEADER}\n".encode(), 0, False), id="header-only"),
    pytest.param(Good(f"{HEADER}\n{ROW}\n{ROW}\n".encode(), 2, False), id="two-rows"),
    pytest.param(Good(b"\xef\xbb\xbf" + f"{HEADER}\r\n{ROW}\r\n".encode(), 1, True), id="bom-crlf"),
    pytest.param(Good(f'{HEADER}\n{ROW.replace("Health and beauty", chr(34) + "Health, and" + chr(10) + "beauty" + chr(34))}\n'.encode(),
                      1, False), id="quoted-comma-newline"),
]


@pytest.mark.parametrize("case", GOOD)
def test_accepted_files_count_records(tmp_path, case: Good):
    p = tmp_path / "ok.csv"
    p.write_bytes(case.content)
    info = check_file(p, CONTRACT)
    assert (info.rows, info.has_bom, info.bytes, len(info.sha256)) == (case.rows, case.has_bom, len(case.content), 64)


def test_seed_file_passes(seed_csv):
    info = check_file(seed_csv, CONTRACT)
    assert (info.rows, info.name) == (1000, "supermarket_sales.csv")


def test_every_ragged_record_is_counted_and_the_first_ten_listed(tmp_path: Path):
    """Probe (issue 12): a fixed file was refused again at the next bad record; now the refusal names them all."""
    p = tmp_path / "r.csv"
    rows = [ROW + ",x" if i % 3 == 0 else ROW for i in range(40)]
    p.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(RaggedRow) as err:
        check_file(p, CONTRACT)
    assert err.value.total == 14 and len(err.value.records) == 10
    assert [r["line"] for r in err.value.records[:3]] == [2, 5, 8] and err.value.records[0]["column"] == 18
    assert "14 record(s)" in str(err.value) and "line 2 has 18 fields" in str(err.value) and "(and 4 more)" in str(err.value)


def test_ragged_records_can_be_collected_for_the_bulk_paths(tmp_path: Path):
    """ragged="collect": the file is accepted, its ragged records listed with line, field count and column (not their
    text, which would travel through XCom: snowseg.loading.ragged reads it back from the file)."""
    p = tmp_path / "r.csv"
    quoted = ROW.replace("Yangon", '"Yan\ngon"')
    p.write_text(HEADER + "\n" + ROW + "\n" + quoted + ",extra\n" + ROW.rsplit(",", 2)[0] + "\n" + ROW + "\n")
    info = check_file(p, CONTRACT, ragged="collect")
    assert (info.rows, info.rows_to_load) == (4, 2)
    assert [(r["line"], r["lines"], r["fields"], r["column"], r["column_name"], r["row"]) for r in info.ragged] == [
        (3, 2, 18, 18, None, 2), (5, 1, 15, 16, "GROSS_INCOME", 3)]
    assert all("record" not in r for r in info.ragged)
    from snowseg.loading import ragged

    rejected = ragged.rejected_records(info, CONTRACT)
    # the line Snowflake reports: the first extra field's (line 4: the quoted newline is before it)
    assert [(r.line, r.code, r.record) for r in rejected] == [(4, 100080, quoted + ",extra"), (5, 100080, ROW.rsplit(",", 2)[0])]
    assert rejected[0].error.startswith("Number of columns in file (18) does not match that of the corresponding table (17)")
    clean = ragged.write_without(info, CONTRACT, tmp_path / "clean")
    assert clean.read_text() == HEADER + "\n" + ROW + "\n" + ROW + "\n"
    assert [ragged.source_line(info, n) for n in (2, 3)] == [2, 6]


def test_every_line_with_bad_bytes_is_counted_with_field_and_character(tmp_path: Path):
    """Probe (issue 12): "column" was a character position in a 17-field file; now each listed line gives the field
    number (as COPY counts columns), its contract column and the character, and every such line is counted."""
    p = tmp_path / "latin1.csv"
    bad = ROW.replace("Health and beauty", "Sant\xe9 et beaut\xe9").replace("Yangon", "Yang\xf3n")
    lines = [ROW.encode()] * 3 + [bad.encode("latin-1")] * 12
    p.write_bytes(HEADER.encode() + b"\n" + b"\n".join(lines) + b"\n")
    with pytest.raises(NotUtf8) as err:
        check_file(p, CONTRACT)
    e = err.value
    assert (e.total, len(e.lines), e.rows) == (12, 10, 15)
    assert (e.line, e.column, e.column_name, e.character) == (5, 3, "CITY", 19)
    assert [x["line"] for x in e.lines] == list(range(5, 15))
    assert "12 line(s)" in str(e) and "(and 2 more)" in str(e)


@pytest.mark.parametrize(
    ("content", "rows"),
    [
        pytest.param(f"{HEADER},Extra\n{ROW},1\n{ROW},2\n", 2, id="header-mismatch"),
        pytest.param(f"{HEADER}\n{ROW}\n{ROW},9\n{ROW}\n", 3, id="ragged"),
    ],
)
def test_a_refusal_counts_the_records_it_parsed(tmp_path: Path, content: str, rows: int):
    """Probe (issue 12): ROWS_PARSED was 0 for a refused file whose rows were counted."""
    p = tmp_path / "f.csv"
    p.write_text(content)
    with pytest.raises((HeaderMismatch, RaggedRow)) as err:
        check_file(p, CONTRACT, ragged="refuse")
    assert err.value.rows == rows
