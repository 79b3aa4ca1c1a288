"""Let SnowflakeHook speak plain HTTP to the twin when the connection asks for it.

apache-airflow-providers-snowflake 6.20 copies `host` and `port` from the connection's extras into
the connector's arguments but drops `protocol`, so the connector always speaks HTTPS. Real Snowflake
needs nothing else; the twin serves HTTP. This shim adds `protocol` (and passes it to SQLAlchemy
engines as `connect_args`) only when the connection's extras say ``"protocol": "http"``; any other
connection is untouched.

It is installed lazily by ``devstack/sitecustomize`` when the hook module is first imported, so
pipeline code never imports it and production environments never see it.
"""

from __future__ import annotations

from typing import Any

_PATCHED = "_snowseg_twin_protocol_shim"


def apply(hook_module: Any) -> None:
    """Patch `SnowflakeHook` in the given (already imported) hook module. Idempotent."""
    hook_cls = hook_module.SnowflakeHook
    if getattr(hook_cls, _PATCHED, False):
        return

    original_network = hook_cls._add_network_config
    original_engine = hook_cls.get_sqlalchemy_engine
    original_uri = hook_cls._conn_params_to_sqlalchemy_uri

    def _add_network_config(self, conn_config: dict[str, Any], extra_dict: dict[str, Any]) -> None:
        original_network(self, conn_config, extra_dict)
        if str(extra_dict.get("protocol", "")).lower() == "http":
            conn_config["protocol"] = "http"

    def _conn_params_to_sqlalchemy_uri(self, conn_params: dict) -> str:
        # the URL builder does not know `protocol`; it travels in connect_args instead
        return original_uri(self, {k: v for k, v in conn_params.items() if k != "protocol"})

    def get_sqlalchemy_engine(self, engine_kwargs=None):
        engine_kwargs = dict(engine_kwargs or {})
        params = self._get_conn_params()
        if params.get("protocol") == "http":
            connect_args = dict(engine_kwargs.get("connect_args", {}))
            connect_args.update(protocol="http", host=params.get("host"), port=params.get("port"))
            engine_kwargs["connect_args"] = connect_args
        return original_engine(self, engine_kwargs)

    hook_cls._add_network_config = _add_network_config
    hook_cls._conn_params_to_sqlalchemy_uri = _conn_params_to_sqlalchemy_uri
    hook_cls.get_sqlalchemy_engine = get_sqlalchemy_engine
    setattr(hook_cls, _PATCHED, True)
