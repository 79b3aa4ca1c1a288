"""The `make demo` path in subprocesses: twin up, generated sample, two real `airflow dags test` runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.e2e.demo_env import demo_env

pytestmark = pytest.mark.e2e


def test_demo_twice_prints_segments_and_same_row_counts(tmp_path):
    """Exit 0, a 3-segment table, the report and plot exist, and the second run changes no row count."""
    env = demo_env(tmp_path)

    def demo():
        return subprocess.run([sys.executable, "-m", "snowseg_twin.demo", "--rows", "1000"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    try:
        first = demo()
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert "load_small_file    success" in first.stdout and "segment_customers  success" in first.stdout
        # names say what separates a segment: the generated sample's k = 3 are two low-spend segments told apart
        # by rating ("Low spend · high rating · low price", "Low spend · low rating · low price") and high spend
        for name in ("Low spend · high rating", "Low spend · low rating", "High spend"):
            assert name in first.stdout
        counts = re.search(r"^row counts: (.*)$", first.stdout, re.M).group(1)
        assert "raw rows 1000" in counts and "current assignments 1000" in counts and "model runs 1" in counts
        report = re.search(r"^report:\s+(\S+)$", first.stdout, re.M).group(1)
        plot = re.search(r"^elbow plot:\s+(\S+)$", first.stdout, re.M).group(1)
        assert os.path.exists(report) and open(plot, "rb").read(4) == b"\x89PNG"
        quality = re.search(r"^quality:\s+(\S+)$", first.stdout, re.M).group(1)
        assert "Every rule" in open(quality).read()

        second = demo()
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert re.search(r"^row counts: (.*)$", second.stdout, re.M).group(1) == counts
        # the second run says the file was skipped, and which batch holds its content
        assert "load_small_file    skipped" in second.stdout, second.stdout
        assert re.search(r"^  sample_1000_seed\d+\.csv: skipped: this content was already loaded into \S+ as batch "
                         r"small_file_[0-9a-f]+", second.stdout, re.M), second.stdout
    finally:
        subprocess.run([sys.executable, "-m", "snowseg_twin", "down"], env=env, timeout=60)
