"""The reconciliation's pure parts: which REFRESH prefixes name the lost files, which landing files are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from snowseg.loading.reconcile import refresh_prefixes, refreshed_finding, stale_files


class PrefixCase(NamedTuple):
    missing: list[str]
    listed: list[str]
    prefixes: list[str]


PREFIX_CASES = [
    pytest.param(PrefixCase(["snowpipe_ab/a.csv"], ["snowpipe_ab/a.csv", "snowpipe_cd/b.csv"], ["snowpipe_ab/a.csv"]),
                 id="one-file-its-own-path"),
    pytest.param(PrefixCase(["snowpipe_ab/a.csv"], ["snowpipe_ab/a.csv"], ["snowpipe_ab/a.csv"]),
                 id="alone-in-its-folder-still-its-path"),
    pytest.param(PrefixCase(["d/a.csv", "d/b.csv"], ["d/a.csv", "d/b.csv"], ["d/"]), id="whole-folder-lost"),
    pytest.param(PrefixCase(["d/a.csv", "d/b.csv"], ["d/a.csv", "d/b.csv", "d/c.csv"], ["d/a.csv", "d/b.csv"]),
                 id="folder-with-a-loaded-file-each-path"),
    pytest.param(PrefixCase(["e/x.csv", "d/b.csv", "d/a.csv"], ["d/a.csv", "d/b.csv", "e/x.csv", "e/y.csv"],
                            ["d/", "e/x.csv"]), id="two-folders-sorted"),
    pytest.param(PrefixCase(["a.csv", "b.csv"], ["a.csv", "b.csv"], ["a.csv", "b.csv"]),
                 id="top-level-files-never-the-whole-stage"),
    pytest.param(PrefixCase(["d/e/a.csv", "d/e/b.csv"], ["d/e/a.csv", "d/e/b.csv", "d/c.csv"], ["d/e/"]),
                 id="nested-folder"),
    pytest.param(PrefixCase(["d/a.csv", "d/a.csv"], ["d/a.csv", "d/b.csv"], ["d/a.csv"]), id="duplicates-once"),
    pytest.param(PrefixCase([], ["d/a.csv"], []), id="nothing-lost"),
]


@pytest.mark.parametrize("case", PREFIX_CASES)
def test_refresh_prefixes_are_the_narrowest_naming_the_lost_files(case: PrefixCase) -> None:
    prefixes = refresh_prefixes(case.missing, case.listed)
    assert prefixes == case.prefixes
    assert all(any(m.startswith(p) for p in prefixes) for m in case.missing)  # every lost file is named
    assert prefixes != [""]  # never a REFRESH of the whole stage


T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LANDING = SimpleNamespace(bucket="b", prefix="sales/")


def _obj(key: str, minutes_ago: float, etag: str = "e") -> dict:
    return {"Key": f"sales/{key}", "Size": 10, "ETag": f'"{etag}"', "LastModified": T0 - timedelta(minutes=minutes_ago)}


def test_stale_files_are_past_the_threshold_and_not_audited() -> None:
    objs = [_obj("p/a.csv", 20), _obj("p/b.csv", 5), _obj("q/c.csv", 60), _obj("q/d.csv", 15)]
    due = stale_files(objs, LANDING, {"q/c.csv"}, minutes=15, now=T0)
    assert [(s.staged_path, s.url, s.etag) for s in due] == [("p/a.csv", "s3://b/sales/p/a.csv", "e"),
                                                             ("q/d.csv", "s3://b/sales/q/d.csv", "e")]
    assert [s.staged_path for s in stale_files(objs, LANDING, set(), minutes=0, now=T0)] == [
        "p/a.csv", "p/b.csv", "q/c.csv", "q/d.csv"]


class FindingCase(NamedTuple):
    outcome: dict | None
    sent: bool
    status: str
    says: str


FINDING_CASES = [
    pytest.param(FindingCase({"status": "LOADED", "rows_loaded": 9, "rows_parsed": 9, "batch_id": "snowpipe_ab"}, True,
                             "LOADED", "LOADED 9 of 9 rows (batch snowpipe_ab, LOAD_AUDIT)"), id="recorded"),
    pytest.param(FindingCase({"error": "its folder 'x' is not its content's batch id"}, True, "NOT_RECORDED",
                             "could not be put on record: its folder 'x'"), id="not-recorded"),
    pytest.param(FindingCase(None, True, "QUEUED", "a later watch_loads run records its outcome"), id="queued"),
    pytest.param(FindingCase(None, False, "NOT_QUEUED", "REFRESH queued nothing for it"), id="not-queued"),
]


@pytest.mark.parametrize("case", FINDING_CASES)
def test_one_finding_per_refreshed_file_keyed_on_url_and_etag(case: FindingCase) -> None:
    s = stale_files([_obj("snowpipe_ab/a.csv", 30, "e9")], LANDING, set(), minutes=15, now=T0)[0]
    f = refreshed_finding(s, "DB.RAW.P", None, case.outcome, sent=case.sent, now=T0, prefix="snowpipe_ab/")
    assert (f.kind, f.key) == ("landing_refreshed", "landing_refreshed:s3://b/sales/snowpipe_ab/a.csv:e9")
    assert f.details["outcome"] == case.status and case.says in f.message
    assert f.details["refresh"] == "ALTER PIPE DB.RAW.P REFRESH PREFIX = 'snowpipe_ab/'"
    assert f.details["age_minutes"] == 30.0 and f.message.startswith("a.csv waited 30 min")
