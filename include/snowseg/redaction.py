"""The one redactor: every text Snowseg writes to the warehouse, logs, alerts or the monitor passes here.

:func:`redact` replaces with ``***``:

- the literal secrets of the connections Snowseg uses (:func:`known_secrets`: the Snowflake, AWS and
  SMTP connections' passwords and sensitive extras) and whatever Airflow's own masker learnt in this
  process;
- anything that looks like a credential: PEM private keys, credentials in URLs (``scheme://user:pw@``),
  ``name=value`` / ``"name": "value"`` pairs whose name says password, secret, token, key..., JSON web
  tokens, ``Bearer`` tokens and AWS access key ids;
- in mappings, every value under a sensitive key.

Examples
--------
>>> redact("snowflake://svc:pa55word@acct/db failed; password=hunter22, token: abc123", [])
'snowflake://svc:***@acct/db failed; password=***, token: ***'
>>> redact("AWS_SECRET_ACCESS_KEY=wJalr\\x00AWS_SESSION_TOKEN=IQo\\x00HOME=/root", [])
'AWS_SECRET_ACCESS_KEY=***\\x00AWS_SESSION_TOKEN=***\\x00HOME=/root'
>>> redact('{"conn_type": "snowflake", "password": "s3cr3t", "extra": {"private_key_content": "MIIE"}}', [])
'{"conn_type": "snowflake", "password": "***", "extra": {"private_key_content": "***"}}'
>>> redact("key AKIAIOSFODNN7EXAMPLE, auth Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0", [])
'key ***, auth Bearer ***'
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from snowseg import settings

#: Key names whose values are secret, in mappings and in ``name=value`` text.
SENSITIVE_WORDS = ("password", "passphrase", "passwd", "pwd", "secret", "private_key", "token", "api_key", "apikey",
                   "credential", "key_content", "fernet_key")
_KEY = r"[\w.\-]*?(?:" + "|".join(SENSITIVE_WORDS) + r")[\w.\-]*"
_REDACTIONS = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), "***"),
    (re.compile(r"\b([a-z][a-z0-9+.\-]*://[^:/@\s]+):[^@\s/]+@", re.I), r"\1:***@"),
    (re.compile(r"(?<![\w.\-])(" + _KEY + r")(['\"]?\s*[:=]\s*)('[^']*'|\"[^\"]*\"|[^\s,;&)\x00\"']+)", re.I),
     lambda m: m.group(1) + m.group(2) + ("'***'" if m.group(3).startswith("'") else
                                          '"***"' if m.group(3).startswith('"') else "***")),
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}"), "***"),
    (re.compile(r"\b(Bearer\s+)[\w\-.~+/]{8,}=*", re.I), r"\1***"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "***"),
)



_airflow_redact: Callable[..., Any] | None
try:  # imported here, once: its first import logs Airflow's configuration, which must not land in a result
    from airflow.sdk._shared.secrets_masker import redact as _airflow_redact
except Exception:
    _airflow_redact = None

def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """`value` (a string, or mappings/lists of them) with secrets and secret-looking text replaced by ``***``.

    Parameters
    ----------
    value : str, mapping or list
        Anything else is returned as is.
    secrets : list of str, optional
        Literal secrets to replace; default: :func:`known_secrets`.

    Examples
    --------
    >>> redact({"error": ["-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----"], "api_key": "k"}, [])
    {'error': ['***'], 'api_key': '***'}
    >>> redact("ok: 12 rows", ["hunter22"])
    'ok: 12 rows'
    """
    if secrets is None:
        secrets = known_secrets()
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        for pattern, repl in _REDACTIONS:
            value = pattern.sub(repl, value)
        if _airflow_redact is not None:  # whatever Airflow's masker learnt in this process (connections, variables)
            try:
                value = _airflow_redact(value)
            except Exception:
                pass
        return value
    if isinstance(value, Mapping):
        return {k: ("***" if sensitive(str(k)) and value[k] else redact(v, secrets)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    return value


def sensitive(name: str) -> bool:
    """Whether a key's name says its value is a secret."""
    return any(s in name.lower() for s in SENSITIVE_WORDS)


def known_secrets(conn_ids: Iterable[str] = ()) -> list[str]:
    """Passwords and sensitive extras of the connections Snowseg uses (and of `conn_ids`, eg: the admin connection
    of ``make test-snowflake``), and the values of environment variables named like secrets, longest first. Read
    afresh each call: callers redacting many texts read it once."""
    from snowseg.warehouse import conn_id_from_env

    ids = {conn_id_from_env(), settings.value("SNOWSEG_AWS_CONN_ID"),
           settings.get("SNOWSEG_ALERT_SMTP_CONN_ID") or settings.SETTINGS["SNOWSEG_ALERT_SMTP_CONN_ID"].default,
           *conn_ids}
    secrets: set[str] = {v for k, v in os.environ.items() if sensitive(k) and v and k not in ("PWD", "OLDPWD")}
    for conn_id in ids:
        try:
            from airflow.sdk import BaseHook

            conn = BaseHook.get_connection(conn_id)
        except Exception:  # not defined here: nothing of it can be in a message from here either
            continue
        if conn.password:
            secrets.add(str(conn.password))
        secrets.update(_sensitive_values(conn.extra_dejson))
    return sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)


def _sensitive_values(extra: Any, key: str = "") -> Iterator[str]:
    if isinstance(extra, Mapping):
        for k, v in extra.items():
            yield from _sensitive_values(v, str(k))
    elif isinstance(extra, (list, tuple)):
        for v in extra:
            yield from _sensitive_values(v, key)
    elif extra not in (None, "") and sensitive(key):
        yield str(extra)
