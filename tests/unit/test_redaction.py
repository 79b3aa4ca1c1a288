"""The one redactor (snowseg.redaction): what looks like a credential never leaves as it came in."""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest

from snowseg.redaction import known_secrets, redact


class Case(NamedTuple):
    text: str
    expected: str


CASES = [
    pytest.param(Case("snowflake://svc:pa55word@acct/db", "snowflake://svc:***@acct/db"), id="url-credentials"),
    pytest.param(Case("password=hunter22, token: abc123", "password=***, token: ***"), id="pairs"),
    pytest.param(Case('{"password": "s3cr3t", "login": "svc"}', '{"password": "***", "login": "svc"}'), id="json"),
    pytest.param(Case("AWS_SECRET_ACCESS_KEY=wJal\x00AWS_SESSION_TOKEN=Fwo\x00HOME=/root",
                      "AWS_SECRET_ACCESS_KEY=***\x00AWS_SESSION_TOKEN=***\x00HOME=/root"), id="environ-dump"),
    pytest.param(Case("AIRFLOW__CORE__FERNET_KEY=abcdEFGH1234=", "AIRFLOW__CORE__FERNET_KEY=***"), id="fernet-key"),
    pytest.param(Case("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----", "***"),
                 id="pem"),
    pytest.param(Case("-----BEGIN PRIVATE KEY-----\nMIIE (cut off", "***"), id="pem-truncated"),
    pytest.param(Case("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer ***"), id="bearer"),
    pytest.param(Case("id AKIAIOSFODNN7EXAMPLE", "id ***"), id="aws-key-id"),
    pytest.param(Case("jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIx.c2lnbmF0dXJl", "jwt ***"), id="jwt"),
    pytest.param(Case("Numeric value 'seven' is not recognized", "Numeric value 'seven' is not recognized"),
                 id="ordinary-error-untouched"),
]


@pytest.mark.parametrize("case", CASES)
def test_redact_text(case: Case):
    assert redact(case.text, []) == case.expected


def test_mappings_redact_values_under_sensitive_keys_and_walk_the_rest():
    value = {"error": ["password=x1y2z3"], "aws_secret_access_key": "k", "rows": 3, "nested": {"token": "t"}}
    assert redact(value, []) == {"error": ["password=***"], "aws_secret_access_key": "***", "rows": 3,
                                 "nested": {"token": "***"}}


def test_connection_secrets_are_found_and_replaced_anywhere(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", json.dumps({
        "conn_type": "snowflake", "login": "svc", "password": "plain-pa55-in-text",
        "extra": {"account": "a", "private_key_content": "KEYCONTENT-123"}}))
    monkeypatch.setenv("SNOWSEG_PROBE_SECRET", "env-secret-value")
    monkeypatch.setenv("PWD", "/work/main")  # the working directory is not a secret
    secrets = known_secrets()
    assert {"plain-pa55-in-text", "KEYCONTENT-123", "env-secret-value"} <= set(secrets)
    assert "/work/main" not in secrets
    text = "the file said plain-pa55-in-text and KEYCONTENT-123 and env-secret-value in /work/main"
    assert redact(text) == "the file said *** and *** and *** in /work/main"
