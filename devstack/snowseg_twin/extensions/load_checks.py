"""Install the twin's bulk-load checking behaviours: VALIDATE, VALIDATION_MODE, COPY_HISTORY, LAST_QUERY_ID.

Called from extensions.install(). The query-id recorder is an after-hook of _statements' execute
wrapper, so it sees every statement (REMOVE and the other statements the twin answers itself
included). Idempotent: each wrapper carries a marker attribute, which functools.wraps copies onto
any later wrapper, and _statements registers a hook once.
"""

from __future__ import annotations


def install() -> None:
    from snowseg_twin.extensions import _fakesnow_compat as compat
    from snowseg_twin.extensions import _statements, copy_csv, copy_history, query_ids, validate, validation_mode
    from snowseg_twin.extensions._table_functions import wrap_transform

    compat.wrap_cursor_method("_execute", validate.wrap_execute, "__snowseg_validate__")
    compat.wrap_cursor_method("_execute", validation_mode.wrap_execute, "__snowseg_validation_mode__")
    for rewriter, marker in [
        (validate.rewriter, "__snowseg_validate__"),
        (copy_history.rewriter, "__snowseg_copy_history__"),
    ]:
        compat.wrap_cursor_method("_transform", wrap_transform(rewriter, marker), marker)
    compat.wrap_cursor_method("_transform", query_ids.wrap_transform, "__snowseg_query_ids__")
    _statements.register_after(query_ids.record)
    _statements.install()
    if not getattr(copy_csv.record_history, "__snowseg_copy_history__", False):
        copy_csv.record_history = copy_history.wrap_record_history(copy_csv.record_history)


def installed() -> bool:
    from snowseg_twin.extensions import _fakesnow_compat as compat
    from snowseg_twin.extensions import _statements, copy_csv, query_ids

    return all(
        [
            compat.cursor_method_wrapped("_execute", "__snowseg_validate__"),
            compat.cursor_method_wrapped("_execute", "__snowseg_validation_mode__"),
            compat.cursor_method_wrapped("_transform", "__snowseg_copy_history__"),
            _statements.installed() and query_ids.record in _statements.AFTER,
            getattr(copy_csv.record_history, "__snowseg_copy_history__", False),
        ]
    )
