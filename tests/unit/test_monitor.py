"""snowseg.monitor without a warehouse: report paths, the loads shaping, missing tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from snowseg import monitor, sf_errors
from snowseg.monitor import ReportPathRefused, report_file
from snowseg.warehouse import Names


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    r = tmp_path / "reports"
    (r / "mr_1").mkdir(parents=True)
    (r / "mr_1" / "index.html").write_text("<h1>run</h1>")
    (r / "mr_1" / "elbow.png").write_bytes(b"\x89PNG")
    (tmp_path / "secret.txt").write_text("outside")
    return r


class PathCase(NamedTuple):
    relative: str
    outcome: str  # "file", "dir", "refused", "missing"


@pytest.mark.parametrize("case", [
    pytest.param(PathCase("mr_1/index.html", "file"), id="file"),
    pytest.param(PathCase("mr_1/elbow.png", "file"), id="image"),
    pytest.param(PathCase("mr_1", "dir"), id="folder"),
    pytest.param(PathCase("mr_1/", "dir"), id="folder-slash"),
    pytest.param(PathCase("mr_2/index.html", "missing"), id="missing"),
    pytest.param(PathCase("%2e%2e/secret.txt", "missing"), id="still-encoded-dots-are-a-name"),
    pytest.param(PathCase("../secret.txt", "refused"), id="parent"),
    pytest.param(PathCase("mr_1/../../secret.txt", "refused"), id="parent-after-folder"),
    pytest.param(PathCase("mr_1/../index.html", "refused"), id="parent-even-inside"),
    pytest.param(PathCase("./mr_1/index.html", "refused"), id="dot"),
    pytest.param(PathCase("/etc/passwd", "refused"), id="absolute"),
    pytest.param(PathCase("..\\secret.txt", "refused"), id="backslash"),
    pytest.param(PathCase("mr_1/index.html\x00.png", "refused"), id="nul"),
    pytest.param(PathCase("", "refused"), id="empty"),
])
def test_report_file(root, case):
    if case.outcome == "refused":
        with pytest.raises(ReportPathRefused, match="is not allowed: give a path below the report folder"):
            report_file(root, case.relative)
    elif case.outcome == "missing":
        with pytest.raises(FileNotFoundError):
            report_file(root, case.relative)
    else:
        p = report_file(root, case.relative)
        assert p.is_relative_to(root.resolve())
        assert p.is_file() if case.outcome == "file" else p.is_dir()


def test_report_file_refuses_a_symlink_out_of_the_folder(root, tmp_path):
    (root / "out").symlink_to(tmp_path)
    with pytest.raises(ReportPathRefused):
        report_file(root, "out/secret.txt")
    (root / "mr_1" / "same.html").symlink_to(root / "mr_1" / "index.html")  # a link that stays inside is fine
    assert report_file(root, "mr_1/same.html").read_text() == "<h1>run</h1>"


def test_quality_report_dir_matches_segment_customers():
    import re

    run_id = "scheduled__2026-01-05T08:00:00+00:00"
    # dags/segment_customers.py: report_root() / "quality" / re.sub(r"[^A-Za-z0-9_.-]", "_", dag_run.run_id)
    assert monitor.quality_report_dir(run_id) == "quality/" + re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


T0 = datetime(2026, 1, 5, 8, 0, 0)


def _audit(name: str, path: str, status: str, parsed, loaded, rejected, minutes: int = 0, seconds: float = 2.0):
    start = T0 + timedelta(minutes=minutes)
    return {"AUDIT_ID": name, "BATCH_ID": f"{path}_{name}", "FILE_NAME": name, "LOAD_PATH": path, "STATUS": status,
            "ROWS_PARSED": parsed, "ROWS_LOADED": loaded, "ROWS_REJECTED": rejected, "STARTED_AT": start,
            "FINISHED_AT": start + timedelta(seconds=seconds)}


def test_shape_loads_groups_by_path_and_checks_counts():
    rows = [
        _audit("a.csv", "small_file", "LOADED", 10, 10, 0),
        _audit("b.csv", "small_file", "FAILED", 10, 0, 10),
        _audit("c.csv", "snowpipe", "PARTIALLY_LOADED", 10, 8, 1),  # 8 + 1 != 10
        _audit("d.csv", "manual_fix", "LOADED", None, 5, 0),  # a path we do not know; a count missing
    ]
    summary = [{"LOAD_PATH": "small_file", "FILES": 2, "ROWS_PARSED": 20, "ROWS_LOADED": 10, "ROWS_REJECTED": 10,
                "FILES_FAILED": 1, "FILES_MISMATCHED": 0}]
    out = monitor.shape_loads(rows, summary, since=T0 - timedelta(hours=24))
    assert [p["load_path"] for p in out["paths"]] == ["small_file", "bulk_stage", "snowpipe", "manual_fix"]
    assert [f["file_name"] for f in out["paths"][0]["files"]] == ["a.csv", "b.csv"]
    assert out["paths"][0]["summary"] == {"files": 2, "rows_parsed": 20, "rows_loaded": 10, "rows_rejected": 10,
                                          "files_failed": 1, "files_mismatched": 0}
    assert out["paths"][1] == {"load_path": "bulk_stage", "files": [], "summary": {
        "files": 0, "rows_parsed": 0, "rows_loaded": 0, "rows_rejected": 0, "files_failed": 0, "files_mismatched": 0}}
    assert out["mismatched"] == ["c.csv"] and out["files"] == 4 and "message" not in out
    checks = {f["file_name"]: (f["counts_add_up"], f["has_rejects"], f["duration_s"])
              for p in out["paths"] for f in p["files"]}
    assert checks == {"a.csv": (True, False, 2.0), "b.csv": (True, True, 2.0), "c.csv": (False, True, 2.0),
                      "d.csv": (None, False, 2.0)}


def test_shape_loads_with_nothing_says_so():
    out = monitor.shape_loads([], [], since=T0)
    assert out["message"] == "nothing loaded yet" and out["files"] == 0 and len(out["paths"]) == 3


class _Missing(Exception):
    errno = sf_errors.DOES_NOT_EXIST


class _Cursor:
    """Raises the connector's 'does not exist' (errno 2003) or another error for every statement."""

    description = None

    def __init__(self, error: Exception):
        self.error = error
        self.statements: list[str] = []

    def execute(self, sql, params=None):
        self.statements.append(sql)
        raise self.error


def test_missing_tables_are_nothing_yet_not_errors():
    names = Names(database="FRESH")
    cur = _Cursor(_Missing("Object 'FRESH.AUDIT.LOAD_AUDIT' does not exist or not authorized."))
    loads = monitor.recent_loads(cur, names)
    assert (loads["available"], loads["message"]) == (False, "nothing loaded yet")
    assert "from FRESH.AUDIT.LOAD_AUDIT" in cur.statements[0]
    assert monitor.quality_results(cur, names)["message"] == "no quality gate has run yet"
    assert monitor.latest_segments(cur, names)["message"] == "no segmentation run has been published yet"
    assert monitor.rejected_rows(cur, names, "a.csv")["message"] == "no rejected rows yet"


def test_other_warehouse_errors_are_raised():
    with pytest.raises(RuntimeError, match="boom"):
        monitor.recent_loads(_Cursor(RuntimeError("boom")), Names())


def test_rejected_rows_needs_a_file_name():
    with pytest.raises(ValueError, match="file_name is empty"):
        monitor.rejected_rows(_Cursor(RuntimeError("unused")), Names(), "")
