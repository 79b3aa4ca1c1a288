"""Input confinement: which paths a load may read (snowseg.inputs), decided on the path before the disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest

from snowseg.errors import InputNotFound, InputRefused
from snowseg.inputs import confine, expand, input_roots


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    r = tmp_path / "inputs"
    (r / "sub").mkdir(parents=True)
    for name in ("a.csv", "b.csv", "sub/c.csv", ".hidden.csv"):
        (r / name).write_text("x\n")
    (r / ".git").mkdir()
    (r / ".git" / "d.csv").write_text("x\n")
    (r / "out.csv").symlink_to("/etc/passwd")
    (r / "env.csv").symlink_to("/proc/self/environ")
    (r / "in.csv").symlink_to(r / "a.csv")
    (tmp_path / "outside.csv").write_text("x\n")
    return r


class Case(NamedTuple):
    path: str  # {root} is the input root
    reason: str | None  # None: allowed, resolving to `resolved`
    resolved: str | None = None


CASES = [
    pytest.param(Case("{root}/a.csv", None, "a.csv"), id="file-in-root"),
    pytest.param(Case("a.csv", None, "a.csv"), id="relative-to-first-root"),
    pytest.param(Case("sub/../b.csv", None, "b.csv"), id="dot-dot-staying-inside"),
    pytest.param(Case("{root}/in.csv", None, "a.csv"), id="symlink-inside"),
    pytest.param(Case("{root}/missing.csv", None, "missing.csv"), id="missing-but-allowed"),
    pytest.param(Case("/etc/passwd", "it is outside the input roots"), id="absolute-outside"),
    pytest.param(Case("/etc/no_such_file", "it is outside the input roots"), id="missing-outside-same-reason"),
    pytest.param(Case("../outside.csv", "it is outside the input roots"), id="relative-escape"),
    pytest.param(Case("{root}/../../../../../../etc/passwd", "it is outside the input roots"), id="dot-dot-escape"),
    pytest.param(Case("/proc/self/environ", "a system folder (/proc, /sys, /dev) is never an input"), id="proc"),
    pytest.param(Case("/sys/kernel/notes", "a system folder (/proc, /sys, /dev) is never an input"), id="sys"),
    pytest.param(Case("{root}/out.csv", "a symlink leads outside the input roots"), id="symlink-out"),
    pytest.param(Case("{root}/env.csv", "a system folder (/proc, /sys, /dev) is never an input"), id="symlink-to-proc"),
    pytest.param(Case("{root}/.hidden.csv", "a dot-file or dot-folder ('.hidden.csv') is never an input"), id="dotfile"),
    pytest.param(Case("{root}/.git/d.csv", "a dot-file or dot-folder ('.git') is never an input"), id="dot-folder"),
    pytest.param(Case("", "the path is empty"), id="empty"),
    pytest.param(Case("{root}/a.csv\x00.txt", "the path contains a NUL byte"), id="nul"),
]


@pytest.mark.parametrize("case", CASES)
def test_confine(root: Path, case: Case):
    path = case.path.format(root=root)
    if case.reason is None:
        assert confine(path, [root]) == (root / case.resolved).resolve()
        return
    with pytest.raises(InputRefused) as err:
        confine(path, [root])
    assert err.value.reason == case.reason and err.value.roots == [str(root.resolve())]
    assert "SNOWSEG_INPUT_ROOTS" in str(err.value)


def test_a_refusal_reads_the_same_for_a_missing_and_a_present_file(root):
    messages = []
    for path in ("/etc/passwd", "/etc/no_such_file"):
        with pytest.raises(InputRefused) as err:
            confine(path, [root])
        messages.append(str(err.value).replace(path, "<path>"))
    assert messages[0] == messages[1]


class Glob(NamedTuple):
    pattern: str
    found: list[str] | None  # None: refused with `reason`
    reason: str | None = None


GLOBS = [
    pytest.param(Glob("{root}/*.csv", ["a.csv", "b.csv"],
                      "a system folder (/proc, /sys, /dev) is never an input"),  # env.csv, the first bad match
                 id="glob-with-symlinks-out"),
    pytest.param(Glob("{root}/sub", ["sub/c.csv"]), id="folder"),
    pytest.param(Glob("sub/*.csv", ["sub/c.csv"]), id="relative-glob"),
    pytest.param(Glob("/proc/*/environ", None, "a system folder (/proc, /sys, /dev) is never an input"), id="proc-glob"),
    pytest.param(Glob("{root}/../../../../../../proc/*/environ", None,
                      "a system folder (/proc, /sys, /dev) is never an input"), id="escape-glob"),
    pytest.param(Glob("{root}/*/../../*.csv", None, "'..' after a glob character"), id="dot-dot-after-glob"),
    pytest.param(Glob("/etc/*", None, "it is outside the input roots"), id="etc-glob"),
]


@pytest.mark.parametrize("case", GLOBS)
def test_expand(root: Path, case: Glob):
    pattern = case.pattern.format(root=root)
    if case.found is None or case.reason:
        with pytest.raises(InputRefused) as err:
            expand(pattern, [root])
        assert err.value.reason == case.reason
        if case.found:  # the matches before the bad one would have been fine: it is the whole call that fails
            (root / "out.csv").unlink(), (root / "env.csv").unlink()
            assert [str(p.relative_to(root.resolve())) for p in expand(pattern, [root])] == case.found
        return
    assert [str(p.relative_to(root.resolve())) for p in expand(pattern, [root])] == case.found


def test_nothing_matches(root):
    with pytest.raises(InputNotFound, match=r"no CSV file matches '.*/none\*\.csv'"):
        expand(str(root / "none*.csv"), [root])
    with pytest.raises(FileNotFoundError):  # an InputNotFound is also a FileNotFoundError
        expand(str(root / "none.csv"), [root])


def test_roots_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SNOWSEG_INPUT_ROOTS", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert input_roots() == [tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv("SNOWSEG_INPUT_ROOTS")
    assert input_roots()[0].name == "data" and (input_roots()[0].parent / "include" / "snowseg").is_dir()
