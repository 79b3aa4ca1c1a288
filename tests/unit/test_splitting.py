"""Splitting a big CSV into gzip chunks: whole records, header in every chunk, a manifest back to the source."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from snowseg.loading.splitting import split_csv


def _records(chunk_path: str) -> list[list[str]]:
    with gzip.open(chunk_path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_chunks_reassemble_to_the_source_records(tmp_path: Path):
    rows = [["id", "note"]] + [[str(i), f"line {i}"] for i in range(1, 2501)]
    rows[10][1] = 'has "quotes", a comma\nand a newline'  # one record spanning two physical lines
    src = tmp_path / "big.csv"
    with src.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    chunks = split_csv(src, tmp_path / "out", target_bytes=1_000, rows_per_check=100)

    assert len(chunks) > 3
    got = []
    for c in chunks:
        recs = _records(c.path)
        assert recs[0] == ["id", "note"]  # header in every chunk
        assert len(recs) - 1 == c.rows
        got += recs[1:]
    assert got == rows[1:]
    # the manifest maps each chunk back to the source: first record number and physical line
    assert [c.first_row for c in chunks] == [1 + sum(x.rows for x in chunks[:i]) for i in range(len(chunks))]
    assert chunks[1].first_line == chunks[1].first_row + 2  # +1 header, +1 for the record with a newline
    assert sum(c.rows for c in chunks) == 2500


def test_bom_is_dropped_and_empty_file_gives_one_empty_chunk(tmp_path: Path):
    src = tmp_path / "bom.csv"
    src.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    (chunk,) = split_csv(src, tmp_path / "o1")
    assert _records(chunk.path) == [["a", "b"], ["1", "2"]]

    hdr = tmp_path / "hdr.csv"
    hdr.write_text("a,b\n")
    (only,) = split_csv(hdr, tmp_path / "o2")
    assert (only.rows, _records(only.path)) == (0, [["a", "b"]])


def test_chunks_are_deterministic(tmp_path: Path):
    src = tmp_path / "d.csv"
    src.write_text("a\n" + "".join(f"{i}\n" for i in range(5000)))
    first = split_csv(src, tmp_path / "x", target_bytes=2_000, rows_per_check=500)
    second = split_csv(src, tmp_path / "y", target_bytes=2_000, rows_per_check=500)
    assert [c.sha256 for c in first] == [c.sha256 for c in second]


def test_bad_target(tmp_path):
    with pytest.raises(ValueError, match="target_bytes must be >= 1, got 0"):
        split_csv(tmp_path / "x.csv", tmp_path, target_bytes=0)


def test_blank_lines_keep_chunk_lines_on_the_source_lines(tmp_path: Path):
    """Blank lines are no records (the contract's format skips them: SKIP_BLANK_LINES = TRUE), but a chunk keeps
    those between its records, so that a chunk line reported by COPY is found again in the source (source_line)."""
    from snowseg.loading.bulk import source_line

    lines = ["id,note"]
    for i in range(1, 41):
        lines.append(f"{i},n{i}")
        if i % 7 == 0:
            lines += ["", ""] if i % 14 == 0 else [""]
    src = tmp_path / "blank.csv"
    src.write_text("\n".join(lines) + "\n")
    chunks = split_csv(src, tmp_path / "out", target_bytes=1, rows_per_check=10)

    assert [c.rows for c in chunks] == [10, 10, 10, 10]
    for c in chunks:
        with gzip.open(c.path, "rt", encoding="utf-8", newline="") as f:
            chunk_lines = f.read().splitlines()
        for n, text in enumerate(chunk_lines[1:], start=2):
            assert lines[source_line(c, n) - 1] == text  # blank or record, the same line of the source
        assert chunk_lines[1] != ""  # a chunk starts with a record
    assert sum(len(_records(c.path)) - 1 for c in chunks) == 40 + lines.count("")  # csv reads a blank as []
