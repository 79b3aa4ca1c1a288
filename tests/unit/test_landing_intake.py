"""Scheduled intake's pure parts (snowseg.loading.landing_intake): which listed files are new, which are ignored,
the landing URL and the schedule; and the local listing through ObjectStoragePath."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from snowseg.errors import InputRefused
from snowseg.loading.landing_intake import (
    LandingError,
    LandingFile,
    bulk_schedule,
    ignore_reason,
    landing_url,
    list_landing,
    select_new,
    settle_seconds,
)

T0 = datetime(2026, 12, 1, 0, 0)


class Case(NamedTuple):
    listing: list[tuple[str, int, int]]  # (name, size, modified seconds after T0)
    taken: list[tuple[str, int, int]]
    new: list[str]
    taken_out: list[str]
    settling: list[str]


def _files(rows: list[tuple[str, int, int]]) -> list[LandingFile]:
    return [LandingFile(f"s3://b/p/{n}", size, T0 + timedelta(seconds=s)) for n, size, s in rows]


SELECT_CASES = [
    pytest.param(Case([("a.csv", 5, 0), ("b.csv", 7, 10)], [], ["a.csv", "b.csv"], [], []), id="all-new"),
    pytest.param(Case([("a.csv", 5, 0), ("b.csv", 7, 10)], [("a.csv", 5, 0), ("b.csv", 7, 10)], [],
                      ["a.csv", "b.csv"], []), id="nothing-new"),
    pytest.param(Case([("a.csv", 5, 0), ("c.csv", 3, 20)], [("a.csv", 5, 0)], ["c.csv"], ["a.csv"], []),
                 id="one-added"),
    pytest.param(Case([("a.csv", 5, 30)], [("a.csv", 5, 0)], ["a.csv"], [], []), id="rewritten-same-size"),
    pytest.param(Case([("a.csv", 9, 0)], [("a.csv", 5, 0)], ["a.csv"], [], []), id="rewritten-same-mtime"),
    pytest.param(Case([("z.csv", 1, 0), ("a.csv", 1, 5)], [], ["z.csv", "a.csv"], [], []), id="oldest-first"),
    pytest.param(Case([("a.csv", 1, 0), ("young.csv", 1, 550)], [], ["a.csv"], [], ["young.csv"]),
                 id="younger-than-settle"),
    pytest.param(Case([("future.csv", 1, 900)], [], [], [], ["future.csv"]), id="clock-ahead-waits"),
]


@pytest.mark.parametrize("case", SELECT_CASES)
def test_select_new(case: Case):
    """`now` is T0 + 600 s and the settle time 60 s: a file modified after T0 + 540 s waits."""
    s = select_new(_files(case.listing), {f.key for f in _files(case.taken)}, now=T0 + timedelta(seconds=600),
                   settle_seconds=60)
    assert (_names(s.new), _names(s.taken), _names(s.settling)) == (case.new, case.taken_out, case.settling)


def _names(files: list[LandingFile]) -> list[str]:
    return [f.url.rsplit("/", 1)[1] for f in files]


IGNORE_CASES = [
    pytest.param("a.csv", None, id="csv"),
    pytest.param("2026/12/a.CSV", None, id="nested-upper"),
    pytest.param("a.csv.gz", None, id="gzip"),
    pytest.param(".a.csv", "a dot-file or dot-folder", id="dot-file"),
    pytest.param(".staging/a.csv", "a dot-file or dot-folder", id="dot-folder"),
    pytest.param("_temporary/0/a.csv", "being written (a _ name)", id="underscore-folder"),
    pytest.param("_SUCCESS", "being written (a _ name)", id="hadoop-marker"),
    pytest.param("a.csv._COPYING_", "being written", id="hadoop-copying"),
    pytest.param("a.csv.tmp", "being written", id="tmp"),
    pytest.param("a.csv.part", "being written", id="part"),
    pytest.param("a.csv.crdownload", "being written", id="browser"),
    pytest.param("a.csv~", "being written", id="editor-backup"),
    pytest.param("a.json", "not a CSV file (.csv, .csv.gz)", id="not-csv"),
]


@pytest.mark.parametrize(("relative", "reason"), IGNORE_CASES)
def test_ignore_reason(relative: str, reason: str | None):
    assert ignore_reason(relative) == reason


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(None, "@daily", id="default"),
    pytest.param("0 5 * * *", "0 5 * * *", id="cron"),
    pytest.param("@hourly", "@hourly", id="preset"),
    pytest.param("off", None, id="off"),
    pytest.param("Off ", None, id="off-any-case"),
])
def test_bulk_schedule(monkeypatch, value: str | None, expected: str | None):
    if value is None:
        monkeypatch.delenv("SNOWSEG_BULK_SCHEDULE", raising=False)
    else:
        monkeypatch.setenv("SNOWSEG_BULK_SCHEDULE", value)
    assert bulk_schedule() == expected


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_settle_seconds_must_be_a_number(monkeypatch, value: str):
    monkeypatch.setenv("SNOWSEG_BULK_SETTLE_SECONDS", value)
    with pytest.raises(LandingError) as e:
        settle_seconds()
    assert (e.value.setting, e.value.value) == ("SNOWSEG_BULK_SETTLE_SECONDS", value)


def test_landing_url_local_default_and_confinement(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", str(tmp_path))
    monkeypatch.delenv("SNOWSEG_BULK_LANDING", raising=False)
    assert landing_url() == f"file://{tmp_path.resolve()}/landing"
    monkeypatch.setenv("SNOWSEG_BULK_LANDING", str(tmp_path / "in"))
    assert landing_url() == f"file://{tmp_path.resolve()}/in"
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", f"{tmp_path}{os.pathsep}s3://bucket/in/")
    assert landing_url("s3://bucket/in/sales") == "s3://bucket/in/sales/"
    with pytest.raises(InputRefused) as e:
        landing_url("s3://bucket/other/")
    assert e.value.reason == "it is outside the input roots"
    with pytest.raises(InputRefused) as e:
        landing_url("/etc")
    assert e.value.reason == "it is outside the input roots"


def test_list_landing_through_object_storage(tmp_path: Path):
    """A local landing listed through ObjectStoragePath: CSV files at any depth, with size and mtime; the rest ignored
    with its reason; a missing folder lists nothing."""
    land = tmp_path / "landing"
    (land / "2026" / "12").mkdir(parents=True)
    (land / "a.csv").write_text("abc")
    (land / "2026" / "12" / "b.csv.gz").write_bytes(b"12345")
    (land / "c.csv.tmp").write_text("x")
    (land / ".d.csv").write_text("x")
    (land / "e.csv").symlink_to(land / "a.csv")
    os.utime(land / "a.csv", (1_796_000_000.5, 1_796_000_000.5))

    files, ignored = list_landing(f"file://{land}")
    assert [(f.url.removeprefix(f"file://{land}/"), f.size) for f in files] == [("2026/12/b.csv.gz", 5), ("a.csv", 3)]
    assert files[1].modified_at == datetime.fromtimestamp(1_796_000_000.5, UTC).replace(tzinfo=None)
    assert files[1].source == str(land / "a.csv")
    assert sorted((u.removeprefix(f"file://{land}/"), r) for u, r in ignored) == [
        (".d.csv", "a dot-file or dot-folder"), ("c.csv.tmp", "being written"), ("e.csv", "a symlink (not followed)")]
    assert list_landing(f"file://{tmp_path}/none") == ([], [])
