"""The segmentation run's working folder: safe names, atomic artefacts, pruning only under its root."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from snowseg.segmentation.workspace import Workspace, WorkspaceMissing, prune


@pytest.mark.parametrize("run_id", ["../../etc", "/abs/path", "..", ".hidden", "a/b\\c"])
def test_a_run_id_never_leaves_the_root(tmp_path, run_id):
    ws = Workspace.for_run(run_id, root=tmp_path)
    assert ws.path.parent == tmp_path and not ws.path.name.startswith(".")


def test_artefacts_round_trip_and_a_missing_one_names_its_stage(tmp_path):
    ws = Workspace.for_run("manual__1", root=tmp_path)
    X = pd.DataFrame({"TOTAL": [1.5, 2.5]}, index=pd.Index(["C1", "C2"], name="ENTITY_ID"))
    ws.save_frame("features", X)
    pd.testing.assert_frame_equal(ws.load_frame("features"), X)
    ws.save_arrays("ensemble", labels=np.array([0, 1], dtype=np.int32))
    assert ws.load_arrays("ensemble")["labels"].tolist() == [0, 1]
    assert not list(ws.path.glob("*.tmp*"))  # written atomically
    with pytest.raises(WorkspaceMissing) as e:
        ws.load_json("k")
    assert e.value.stage == "k_scores"


def test_prune_removes_only_old_folders_under_its_root(tmp_path):
    root = tmp_path / "work"
    old, new = Workspace.for_run("old", root=root), Workspace.for_run("new", root=root)
    old.save_json("meta", {})
    new.save_json("meta", {})
    outside = tmp_path / "not_a_workspace"
    outside.mkdir()
    week_ago = time.time() - 8 * 86400
    for p in (old.path, outside):
        os.utime(p, (week_ago, week_ago))
    assert prune(root) == [old.path]
    assert not old.path.exists() and new.path.exists() and outside.exists()
