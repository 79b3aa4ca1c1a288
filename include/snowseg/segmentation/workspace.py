"""A segmentation run's working folder: each stage reads what the stages before it wrote.

The ``segment_customers`` DAG runs one task per stage (features -> k scores -> ensemble -> profiles ->
report -> publish). Tasks pass only small references through XCom; the feature matrix, the fitted
transform, the k scores, the ensemble's arrays and the profiles are files here, so any stage can be
retried alone and reads exactly what its predecessor produced. The folder is derived from the Airflow
run id (never taken from XCom or a param), lives under :func:`work_root`, holds customer-level data
(so it is not under the report folder the monitor serves) and is removed when the run has published.

Examples
--------
>>> import tempfile
>>> ws = Workspace.for_run("manual__2026-01-01T00:00:00+00:00", root=Path(tempfile.mkdtemp()))
>>> ws.path.name
'manual__2026-01-01T00_00_00_00_00'
>>> _ = ws.save_json("k", {"k": 3}); ws.load_json("k")
{'k': 3}
>>> Workspace.for_run("..", root=Path("/w")).path
PosixPath('/w/_..')
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from snowseg import settings

#: Working folders older than this are removed when a new run starts (runs that failed and were not retried).
KEEP_DAYS = 7


def work_root() -> Path:
    """Where runs' working folders go: SNOWSEG_WORK_DIR, else ``snowseg_work`` beside the report folder."""
    from snowseg.report import report_root

    if d := settings.get("SNOWSEG_WORK_DIR"):
        return Path(d)
    return report_root().resolve().parent / "snowseg_work"


class WorkspaceMissing(FileNotFoundError):
    """A stage's input is not in the run's working folder: the stage that writes it has not run (or the run
    already published and its folder was removed)."""

    def __init__(self, path: Path, stage: str):
        self.path, self.stage = path, stage
        super().__init__(f"{path} is missing: run the '{stage}' stage of this run first")


#: Which stage writes each artefact (named in WorkspaceMissing).
_WRITTEN_BY = {"features": "features", "meta": "features", "transform": "features", "k": "k_scores",
               "ensemble": "ensemble", "profiles": "profiles", "report": "report"}


@dataclass(frozen=True)
class Workspace:
    """The working folder of one run (see the module docstring)."""

    path: Path

    @classmethod
    def for_run(cls, run_id: str, *, root: Path | None = None) -> Workspace:
        """The folder of an Airflow run: its id made a safe folder name (:func:`snowseg.report.run_folder_name`)."""
        from snowseg.report import run_folder_name

        return cls((root or work_root()) / run_folder_name(run_id))

    def _file(self, name: str, suffix: str, *, must_exist: bool) -> Path:
        path = self.path / f"{name}{suffix}"
        if must_exist and not path.is_file():
            raise WorkspaceMissing(path, _WRITTEN_BY.get(name, name))
        return path

    def save_json(self, name: str, value: Any) -> Path:
        """Write a JSON artefact (atomically: a retried stage never leaves half a file)."""
        self.path.mkdir(parents=True, exist_ok=True)
        path = self._file(name, ".json", must_exist=False)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(value, indent=1, default=str), encoding="utf-8")
        tmp.replace(path)
        return path

    def load_json(self, name: str) -> Any:
        return json.loads(self._file(name, ".json", must_exist=True).read_text(encoding="utf-8"))

    def save_frame(self, name: str, df: pd.DataFrame) -> Path:
        """A feature frame (index and columns kept) as Parquet."""
        self.path.mkdir(parents=True, exist_ok=True)
        path = self._file(name, ".parquet", must_exist=False)
        tmp = path.with_suffix(".parquet.tmp")
        df.to_parquet(tmp)
        tmp.replace(path)
        return path

    def load_frame(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self._file(name, ".parquet", must_exist=True))

    def save_arrays(self, name: str, **arrays: np.ndarray) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        path = self._file(name, ".npz", must_exist=False)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **cast(dict[str, Any], arrays))  # numpy's stub reads ** as its allow_pickle flag
        tmp.replace(path)
        return path

    def load_arrays(self, name: str) -> dict[str, np.ndarray]:
        with np.load(self._file(name, ".npz", must_exist=True)) as data:
            return {k: data[k] for k in data.files}

    def remove(self) -> None:
        """Delete the folder (after the run published: it holds customer-level data)."""
        shutil.rmtree(self.path, ignore_errors=True)


def prune(root: Path | None = None, *, keep_days: float = KEEP_DAYS) -> list[Path]:
    """Remove working folders not touched for `keep_days` (failed runs nobody retried); return them."""
    root = root or work_root()
    if not root.is_dir():
        return []
    cutoff = time.time() - keep_days * 86400
    old = [p for p in root.iterdir() if p.is_dir() and p.stat().st_mtime < cutoff]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return old
