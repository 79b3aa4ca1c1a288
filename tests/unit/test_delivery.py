"""Alert delivery: the JSON-lines file by default, e-mail and any provider notifier when configured; a failing
channel never loses the alert."""

from __future__ import annotations

import json

import pytest

from snowseg.alerting import delivery
from tests.unit.conftest import alert_lines

pytestmark = pytest.mark.usefixtures("alerts_file")


# --- channels -----------------------------------------------------------------------------------------------------


class RecordingNotifier:
    """Stands in for a provider notifier (Slack, Apprise...): takes its message through a constructor field."""

    sent: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def notify(self, context):
        if self.kwargs.get("fail"):
            raise ConnectionError("webhook https://hooks.example/T0/B0/abc refused")
        self.sent.append(self.kwargs)


def test_default_channel_is_a_jsonl_file_under_airflow_home(monkeypatch, tmp_path):
    monkeypatch.delenv("SNOWSEG_ALERTS_FILE")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    rec = delivery.send_alert("task_failed", "a.b failed: boom\nmore", {"dag_id": "a", "what_to_do": "look"})
    path = tmp_path / "home" / "snowseg_alerts.jsonl"
    assert alert_lines(path) == [rec]
    assert (rec["summary"], rec["dag_id"], rec["what_to_do"], rec["delivered"]) == (
        "a.b failed: boom", "a", "look", {"file": str(path)})


def test_smtp_channel_when_configured(monkeypatch, alerts_file):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    mails = []
    monkeypatch.setattr(SmtpNotifier, "notify", lambda self, context: mails.append(self))
    monkeypatch.setenv("SNOWSEG_ALERT_SMTP_TO", "data@example.com, oncall@example.com")
    monkeypatch.setenv("SNOWSEG_ALERT_SMTP_FROM", "snowseg@example.com")
    rec = delivery.send_alert("pipe_pending", "pipe P stuck <1 file>", {"what_to_do": "resume {it}"})
    (mail,) = mails
    assert mail.to == ["data@example.com", "oncall@example.com"] and mail.from_email == "snowseg@example.com"
    assert mail.subject == "[snowseg] pipe P stuck <1 file>"
    assert mail.html_content == "<pre>pipe P stuck &lt;1 file&gt;\n\nWhat to do: resume {it}</pre>"
    assert rec["delivered"]["smtp"] == "ok" and alert_lines(alerts_file)[0]["delivered"]["smtp"] == "ok"


def test_provider_notifier_channel_and_a_failing_channel_never_lose_the_alert(monkeypatch, alerts_file):
    sent = []
    monkeypatch.setattr(RecordingNotifier, "sent", sent)
    spec = {"class": f"{__name__}.RecordingNotifier", "kwargs": {"channel": "#loads"}, "message_field": "body"}
    monkeypatch.setenv("SNOWSEG_ALERT_NOTIFIER", json.dumps(spec))
    delivery.send_alert("landing_stale", "a.csv waits", {"what_to_do": "load it"})
    assert sent == [{"channel": "#loads", "body": "a.csv waits\nWhat to do: load it"}]

    monkeypatch.setenv("SNOWSEG_ALERT_NOTIFIER", json.dumps({**spec, "kwargs": {"fail": True}}))
    rec = delivery.send_alert("landing_stale", "b.csv waits", {})
    assert rec["delivered"]["notifier"].startswith("failed: webhook")
    assert [r["summary"] for r in alert_lines(alerts_file)] == ["a.csv waits", "b.csv waits"]
