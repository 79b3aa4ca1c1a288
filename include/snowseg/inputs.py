"""Which files a load may read: input paths confined to the configured input roots.

A DAG param names a file, a folder or a glob on the worker, or an ``s3://`` object, prefix or glob
(:mod:`snowseg.storage`). Before anything opens it, it must lie inside one of the input roots
(``SNOWSEG_INPUT_ROOTS``, default ``<project>/data``; folders and ``s3://bucket/prefix/`` roots). For a path:

- relative paths are taken from the first root;
- a path whose lexical form or whose resolved form (symlinks followed) leaves every root is refused;
- no part below the root may start with ``.`` (dot-files and dot-folders: keys, ``.env``, ``.git``);
- ``/proc``, ``/sys`` and ``/dev`` are refused even if a root contains them.

A refusal (:class:`snowseg.errors.InputRefused`) is decided on the path alone, before looking at the
disk, so it never tells a missing file from a present one. URLs follow :func:`snowseg.storage.confine_url`.

:func:`check` is what the load paths call: it expands a param, checks every file against the dataset contract,
and for an object-storage input streams each object to a worker-local temporary copy first; the resulting
``FileInfo.path`` (and each refusal's path) is the input as named (the URL), which LOAD_AUDIT records. A task that
loads such a file later gets a fresh local copy from :func:`local_input` (its content hash checked again).

Examples
--------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> confine(root / "sales.csv", roots=[root]) == (root / "sales.csv").resolve()
True
>>> confine("/proc/self/environ", roots=[root])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
snowseg.errors.InputRefused: input '/proc/self/environ' refused: a system folder (/proc, /sys, /dev)...
>>> confine(root / ".env", roots=[root]).name  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
snowseg.errors.InputRefused: input '.../.env' refused: a dot-file or dot-folder ('.env')...
"""

from __future__ import annotations

import glob as _glob
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from snowseg import settings, storage
from snowseg.errors import InputError, InputNotFound, InputRefused

if TYPE_CHECKING:
    from snowseg.config import DatasetContract
    from snowseg.loading.checks import FileInfo
    from snowseg.loading.intake import Refusal

SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))
GLOB_CHARS = "*?["


class InputChanged(InputError):
    """An object-storage input whose content changed between its check and its load: ``url``, the checked
    ``expected`` content hash and the ``found`` one."""

    def __init__(self, url: str, expected: str, found: str):
        self.url, self.expected, self.found = url, expected, found
        super().__init__(f"input {url!r} changed since it was checked (sha256 {expected[:12]}... then, {found[:12]}... "
                         "now): nothing was loaded from it; run the load again")


def _configured() -> list[str]:
    return storage.split_list(settings.get("SNOWSEG_INPUT_ROOTS"))


def input_roots() -> list[Path]:
    """The configured local input roots, resolved (``SNOWSEG_INPUT_ROOTS``' folders, else ``<project>/data``
    when it names no root at all)."""
    configured = _configured()
    roots = [Path(r) for r in configured if not storage.is_url(r)]
    if not configured:
        roots = [settings.PROJECT_DIR / "data"]
    return [Path(os.path.abspath(r)).resolve() for r in roots]


def object_roots() -> list[storage.ObjectUrl]:
    """The configured object-storage input roots (``s3://bucket/prefix/`` entries of ``SNOWSEG_INPUT_ROOTS``).

    Raises
    ------
    StorageSettingError
        A URL root that is not a plain ``s3://`` prefix (credentials, ``..``, another scheme).
    """
    roots = []
    for r in _configured():
        if storage.is_url(r):
            try:
                roots.append(storage.parse_url(r))
            except InputRefused as e:
                raise storage.StorageSettingError("SNOWSEG_INPUT_ROOTS", e.path, e.reason) from None
    return roots


def confine(path: str | Path, roots: list[Path] | None = None) -> Path:
    """The resolved path of an allowed input; InputRefused if it may not be read.

    Parameters
    ----------
    path : str or Path
        A file or folder (no glob characters); relative to the first root when not absolute.
    roots : list of Path, optional
        Default: :func:`input_roots`.

    Returns
    -------
    Path
        The path with symlinks resolved. Whether it exists is the caller's business.

    Raises
    ------
    InputRefused
        Empty, a NUL byte, a system folder, a dot-file, or outside every root (lexically or once
        symlinks are followed).
    """
    roots = [Path(os.path.abspath(r)).resolve() for r in (roots or input_roots())]
    text = str(path)
    shown = [str(r) for r in roots]
    if not text.strip():
        raise InputRefused(text, "the path is empty", roots=shown)
    if not roots:
        raise InputRefused(text, "no local folder is an input root (SNOWSEG_INPUT_ROOTS names only URLs)", roots=[])
    if "\x00" in text:
        raise InputRefused(text.replace("\x00", "\\x00"), "the path contains a NUL byte", roots=shown)
    lexical = Path(os.path.normpath(os.path.join(roots[0], os.path.expanduser(text))))
    for candidate in (lexical, lexical.resolve()):
        if any(_within(candidate, d) for d in SYSTEM_DIRS):
            raise InputRefused(text, "a system folder (/proc, /sys, /dev) is never an input", roots=shown)
        root = next((r for r in roots if _within(candidate, r)), None)
        if root is None:
            why = "it is outside the input roots" if candidate is lexical else "a symlink leads outside the input roots"
            raise InputRefused(text, why, roots=shown)
        hidden = [part for part in candidate.relative_to(root).parts if part.startswith(".")]
        if hidden:
            raise InputRefused(text, f"a dot-file or dot-folder ({hidden[0]!r}) is never an input", roots=shown)
    return lexical.resolve()


def expand(path: str, roots: list[Path] | None = None) -> list[Path]:
    """A file, every ``*.csv`` of a folder, or a glob's files, sorted: each one confined and resolved (a symlink
    becomes its target; two names of one file count once).

    Raises
    ------
    InputRefused
        The pattern's folder, or a file it matches, is not an allowed input.
    FileNotFoundError
        Nothing matches.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "a.csv").write_text("x"), (root / "b.csv").write_text("x"), (root / ".c.csv").write_text("x")
    >>> [p.name for p in expand(str(root / "*.csv"), roots=[root])]
    ['a.csv', 'b.csv']
    >>> expand(str(root / "none*.csv"), roots=[root])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snowseg.errors.InputNotFound: no CSV file matches '.../none*.csv' (give a file, a folder or a glob)
    """
    roots = roots or input_roots()
    if any(ch in path for ch in GLOB_CHARS):
        parts = Path(path).parts
        fixed = next(i for i, part in enumerate(parts) if any(ch in part for ch in GLOB_CHARS))
        if ".." in parts[fixed:]:
            raise InputRefused(path, "'..' after a glob character", roots=[str(r) for r in roots])
        confine(Path(*parts[:fixed]) if fixed else ".", roots)  # the pattern's folder stays inside a root
        pattern = os.path.join(roots[0], os.path.expanduser(path))
        found = [Path(x) for x in sorted(_glob.glob(pattern)) if Path(x).is_file()]
    else:
        p = confine(path, roots)
        found = sorted(p.glob("*.csv")) if p.is_dir() else [p] if p.is_file() else []
    found = list(dict.fromkeys(confine(p, roots) for p in found))  # a match may be a symlink: out, or to another match
    if not found:
        raise InputNotFound(f"no CSV file matches {path!r} (give a file, a folder or a glob)")
    return found


@dataclass
class Checked:
    """The checked files of one input param: accepted ``infos`` and ``refused`` ones (their ``path`` is the input
    as named: a local path or a URL), and while this object lives, the worker-local copy of each object
    (:meth:`local`). The copies are removed by :meth:`close`, or when the object is collected."""

    infos: list[FileInfo]
    refused: list[Refusal]
    copies: dict[str, str] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory | None = None

    def local(self, info: FileInfo) -> FileInfo:
        """`info` with the path of its local copy (itself for a local file): what the load reads."""
        return replace(info, path=self.copies.get(info.path, info.path))

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Checked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check(path: str, contract: DatasetContract, *, max_mb: float | None = None, single: bool = False) -> Checked:
    """Expand a load param (a path or a URL; one file when `single`), confine it, and check each file.

    An object-storage input is streamed to a temporary folder first (:func:`snowseg.storage.fetch`); the
    infos and refusals name the URL, :meth:`Checked.local` gives the copy.

    Raises
    ------
    InputRefused
        Not an allowed input.
    InputNotFound
        Nothing there.
    """
    from snowseg.loading import intake

    if not storage.is_url(path):
        files = [confine(path)] if single else expand(path)
        return Checked(*intake.check_inputs(files, contract, max_mb=max_mb))
    roots = object_roots()
    urls = [storage.confine_url(path, roots)] if single else storage.expand_url(path, roots)
    tmp = tempfile.TemporaryDirectory(prefix="snowseg-input-")
    local = {u.url: storage.fetch(u, Path(tmp.name) / str(i)) for i, u in enumerate(urls)}
    infos, refused = intake.check_inputs(list(local.values()), contract, max_mb=max_mb)
    named = {str(p.resolve()): url for url, p in local.items()}
    infos = [replace(i, path=named[str(Path(i.path).resolve())]) for i in infos]
    refused = [replace(r, path=named[str(Path(r.path).resolve())]) for r in refused]
    return Checked(infos, refused, {url: str(p) for url, p in local.items()}, tmp)


@contextmanager
def local_input(info: FileInfo) -> Iterator[FileInfo]:
    """`info` as a local file for as long as the block runs: itself, or for a URL a fresh local copy.

    Raises
    ------
    InputChanged
        The object's content is not the one that was checked (``info.sha256``).
    """
    if not storage.is_url(info.path):
        yield info
        return
    url = storage.confine_url(info.path, object_roots())
    with tempfile.TemporaryDirectory(prefix="snowseg-input-") as tmp:
        copy = storage.fetch(url, Path(tmp))
        digest = hashlib.sha256()
        with copy.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != info.sha256:
            raise InputChanged(url.url, info.sha256, digest.hexdigest())
        yield replace(info, path=str(copy))


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
