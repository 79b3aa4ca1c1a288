"""What a readiness check says (:class:`Check`), and what the checks look at (:class:`Target`, :class:`Session`).

Examples
--------
>>> Check("pipe", True, "does not exist yet", warning=True).status
'WARN'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from snowseg.warehouse import Names


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether the DAGs can work with it, what was found, and the fix.

    A warning is ``ok`` (it does not fail the run) with ``warning=True``: something the DAGs create themselves
    on their first run, or something that works but should change. A check that could not run for a reason that
    is no failure (``make test-snowflake`` without an AWS connection) is ``ok`` with ``skipped=True``, and its
    ``fix`` says how to run it.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    skipped: bool = False

    @property
    def status(self) -> str:
        """``OK``, ``WARN``, ``SKIP`` or ``FAIL``."""
        return "FAIL" if not self.ok else "SKIP" if self.skipped else "WARN" if self.warning else "OK"


@dataclass(frozen=True)
class Target:
    """What the DAGs will use: the names, the landing place and the pipe, as the pipeline resolves them."""

    names: Names
    landing_url: str | None
    integration: str | None
    landing_error: str | None
    pipe: str
    aws_conn_id: str
    contract: Any


@dataclass
class Session:
    """Who the login is: user, role, the connection's warehouse and the session's, and how it signed in."""

    user: str
    role: str
    warehouse_wanted: str | None  # the connection's warehouse
    warehouse: str | None  # the session's current warehouse after login
    auth: str
