"""Install what a connection check (snowseg.readiness) asks of an account: warehouses, storage integrations,
users and key-pair login, the session's context, dropping the probe stages and file formats it creates, and roles,
grants and the privilege checks (roles, access_control).

Called from extensions.install(), after the statement handlers are in place. What each adds, and how it differs
from Snowflake, is in its own module: warehouses, integrations, users (with the login route's JWT check),
session_context (CURRENT_USER / CURRENT_ROLE / CURRENT_WAREHOUSE / CURRENT_ACCOUNT and USE ROLE), stage_drops
(DROP STAGE / DROP FILE FORMAT) and database_drops (DROP DATABASE, for the smoke suite's throwaway database). The
catalog, and the objects a new twin account is provisioned with, are in _account_catalog. Idempotent.
"""

from __future__ import annotations


def install() -> None:
    from snowseg_twin.extensions import _statements, access_control, integrations, roles, session_context
    from snowseg_twin.extensions import database_drops, session_params, stage_drops, users, warehouses

    handlers = (session_context.handle, session_params.handle, warehouses.handle, integrations.handle, users.handle,
                stage_drops.handle, database_drops.handle, roles.handle)  # fmt: skip
    for handler in handlers:
        _statements.register(handler)
    _statements.register_before(session_params.record)
    for pattern in [*integrations.UNPARSABLE, *users.UNPARSABLE, *stage_drops.UNPARSABLE, *roles.UNPARSABLE,
                    *session_params.UNPARSABLE]:
        if pattern not in _statements.UNPARSABLE:
            _statements.UNPARSABLE.append(pattern)
    access_control.install()
    _statements.install()
    session_context.install()
    users.install_login()


def installed() -> bool:
    from snowseg_twin.extensions import _fakesnow_compat as compat
    from snowseg_twin.extensions import _statements, access_control, database_drops, integrations, roles, stage_drops
    from snowseg_twin.extensions import users, warehouses

    return (
        access_control.before in _statements.BEFORE
        and roles.handle in _statements.HANDLERS
        and warehouses.handle in _statements.HANDLERS
        and stage_drops.handle in _statements.HANDLERS
        and database_drops.handle in _statements.HANDLERS
        and integrations.handle in _statements.HANDLERS
        and users.handle in _statements.HANDLERS
        and compat.cursor_method_wrapped("_transform", "__snowseg_session_context__")
        and getattr(compat.current("server.login_request"), "__snowseg_users__", False)
    )
