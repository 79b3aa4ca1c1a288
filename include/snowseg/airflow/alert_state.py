"""Which findings ``watch_loads`` has alerted, and when: kept in an Airflow Variable, so every worker shares it."""

from __future__ import annotations

from collections.abc import Mapping

#: The Variable that holds the alerted keys (delete it to alert every finding again).
STATE_VARIABLE = "snowseg_alerted_keys"


class VariableState:
    """Alerted keys and when, in an Airflow Variable (shared by every worker, kept in the metadata DB); the state
    object of :func:`snowseg.alerting.watch.alert_new`."""

    def __init__(self, name: str = STATE_VARIABLE):
        self.name = name

    def load(self) -> dict[str, str]:
        from airflow.sdk import Variable

        value = Variable.get(self.name, default=None, deserialize_json=True)
        return dict(value) if isinstance(value, Mapping) else {}

    def save(self, state: Mapping[str, str]) -> None:
        from airflow.sdk import Variable

        Variable.set(self.name, dict(state), serialize_json=True,
                     description="snowseg watch_loads: alerted keys -> first alert time (delete to re-alert)")
