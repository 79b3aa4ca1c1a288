"""Which files a load may read: input paths confined to the configured input roots.

A DAG param names a file, a folder or a glob on the worker. Before anything opens it, the path must
resolve inside one of the input roots (``SNOWSEG_INPUT_ROOTS``, default ``<project>/data``):

- relative paths are taken from the first root;
- a path whose lexical form or whose resolved form (symlinks followed) leaves every root is refused;
- no part below the root may start with ``.`` (dot-files and dot-folders: keys, ``.env``, ``.git``);
- ``/proc``, ``/sys`` and ``/dev`` are refused even if a root contains them.

A refusal (:class:`snowseg.errors.InputRefused`) is decided on the path alone, before looking at the
disk, so it never tells a missing file from a present one.

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
import os
from pathlib import Path

from snowseg import settings
from snowseg.errors import InputNotFound, InputRefused

SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))
GLOB_CHARS = "*?["


def input_roots() -> list[Path]:
    """The configured input roots, resolved (``SNOWSEG_INPUT_ROOTS``, else ``<project>/data``)."""
    roots = settings.path_list("SNOWSEG_INPUT_ROOTS") or [settings.PROJECT_DIR / "data"]
    return [Path(os.path.abspath(r)).resolve() for r in roots]


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


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
