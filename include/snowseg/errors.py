"""The failures Snowseg raises, by kind. Callers read an exception's fields; its message is for people.

- :class:`InputError`: the input is wrong (a file, a path, a param, a contract, a batch's data). A retry
  cannot fix it; tasks fail fast on it and alerts say what to fix.
- :class:`ConfigurationError`: the deployment is not ready (e.g. the warehouse was never set up). A retry
  cannot fix it either; the error says which command fixes it.

Anything else (a plain ``ValueError`` or ``KeyError`` included) is a bug or a transient fault: tasks retry it.
A failure that knows what fixes it says so in ``what_to_do``, written once, by its class; alerts show that
field. The failures of one concern live with it: file checks in :mod:`snowseg.loading.checks`, refusals in
:mod:`snowseg.loading.intake`, failed loads in :mod:`snowseg.loading.common`, pipe states in
:mod:`snowseg.loading.pipe_states`, held batches in :mod:`snowseg.quality.gate`.

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
    """Base of Snowseg's own failures; ``what_to_do`` is what fixes it (None: nothing more than the message)."""

    what_to_do: str | None = None


class InputError(SnowsegError, ValueError):
    """Bad input or configuration that a retry cannot fix (a file, a path, a param, a contract)."""


class ConfigurationError(SnowsegError):
    """The deployment is not ready for the DAGs; ``command`` is what fixes it."""


class WarehouseNotSetUp(ConfigurationError):
    """The warehouse lacks objects the DAGs need: the versioned setup has not been applied (completely).

    ``database`` and ``dataset`` say where, ``missing`` lists the migrations (or the version table) not
    applied, ``command`` what to run.
    """

    def __init__(self, database: str, missing: list[str], dataset: str | None = None, *, command: str):
        self.database, self.dataset, self.missing, self.command = database, dataset, list(missing), command
        where = f"database {database}" + (f" for dataset {dataset!r}" if dataset else "")
        shown = ", ".join(self.missing[:6]) + (" ..." if len(self.missing) > 6 else "")
        super().__init__(f"Snowflake {where} is not set up (missing: {shown}): run {command}")


class ParamsError(InputError):
    """A run's params are not valid (together): ``param`` names the one at fault (when one is), the message says why."""

    def __init__(self, message: str, *, param: str | None = None):
        self.param = param
        super().__init__(message)


class NoPublishedRows(InputError):
    """A dataset has no published rows to segment yet: ``table`` (the published view) is empty.

    A manual run fails on it (load a file first); a scheduled run skips, since nothing was loaded yet.
    """

    def __init__(self, table: str):
        self.table = table
        super().__init__(f"no published rows in {table}: load a file first (e.g. DAG load_small_file) and let "
                         "the quality gate publish its batch")


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
