"""The failures Snowseg raises, by kind. Callers read an exception's fields; its message is for people.

- :class:`InputError`: the input is wrong (a file, a path, a param, a contract). A retry cannot fix it;
  tasks fail fast on it and alerts say what to fix.

Examples
--------
>>> e = InputRefused("/etc/passwd", "outside the input roots", roots=["/data"])
>>> (e.path, e.reason, e.roots)
('/etc/passwd', 'outside the input roots', ['/data'])
>>> isinstance(e, InputError)
True
"""

from __future__ import annotations


class SnowsegError(Exception):
    """Base of Snowseg's own failures."""


class InputError(SnowsegError, ValueError):
    """Bad input or configuration that a retry cannot fix (a file, a path, a param, a contract)."""


class InputRefused(InputError):
    """A ``file_path``/``path`` param that is not an allowed input, for the reason given.

    The message never says whether the refused path exists, so refusals cannot probe the worker's disk.
    """

    def __init__(self, path: str, reason: str, *, roots: list[str]):
        self.path, self.reason, self.roots = path, reason, list(roots)
        super().__init__(
            f"input {path!r} refused: {reason}. Input files must be under the input roots {self.roots} "
            "(SNOWSEG_INPUT_ROOTS); put the file there, or have an operator add its folder to SNOWSEG_INPUT_ROOTS")


class InputNotFound(InputError, FileNotFoundError):
    """No file is at, or matches, an allowed input path."""
