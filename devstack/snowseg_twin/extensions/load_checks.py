"""Install the twin's bulk-load checking behaviours: VALIDATE, VALIDATION_MODE, COPY_HISTORY, LAST_QUERY_ID.

Called from extensions.install(). The query-id recorder is an after-hook of _statements' execute
wrapper, so it sees every statement (REMOVE and the other statements the twin answers itself
included). Idempotent: each wrapper carries a marker attribute, which functools.wraps copies onto
any later wrapper, and _statements registers a hook once.
"""

from __future__ import annotations


def install() -> None:
    import fakesnow.cursor

    from snowseg_twin.extensions import _statements, copy_csv, copy_history, query_ids, validate, validation_mode
    from snowseg_twin.extensions._table_functions import wrap_transform

    cls = fakesnow.cursor.FakeSnowflakeCursor
    if not getattr(cls._execute, "__snowseg_validate__", False):  # noqa: SLF001
        cls._execute = validate.wrap_execute(cls._execute)  # type: ignore[method-assign]  # noqa: SLF001
    if not getattr(cls._execute, "__snowseg_validation_mode__", False):  # noqa: SLF001
        cls._execute = validation_mode.wrap_execute(cls._execute)  # type: ignore[method-assign]  # noqa: SLF001
    for rewriter, marker in [
        (validate.rewriter, "__snowseg_validate__"),
        (copy_history.rewriter, "__snowseg_copy_history__"),
    ]:
        if not getattr(cls._transform, marker, False):  # noqa: SLF001
            wrapped = wrap_transform(rewriter, marker)(cls._transform)  # noqa: SLF001
            cls._transform = wrapped  # type: ignore[method-assign]
    if not getattr(cls._transform, "__snowseg_query_ids__", False):  # noqa: SLF001
        cls._transform = query_ids.wrap_transform(cls._transform)  # type: ignore[method-assign]  # noqa: SLF001
    _statements.register_after(query_ids.record)
    _statements.install()
    if not getattr(copy_csv.record_history, "__snowseg_copy_history__", False):
        copy_csv.record_history = copy_history.wrap_record_history(copy_csv.record_history)


def installed() -> bool:
    import fakesnow.cursor

    from snowseg_twin.extensions import _statements, copy_csv, query_ids

    cls = fakesnow.cursor.FakeSnowflakeCursor
    return all(
        [
            getattr(cls._execute, "__snowseg_validate__", False),  # noqa: SLF001
            getattr(cls._execute, "__snowseg_validation_mode__", False),  # noqa: SLF001
            getattr(cls._transform, "__snowseg_copy_history__", False),  # noqa: SLF001
            _statements.installed() and query_ids.record in _statements.AFTER,
            getattr(copy_csv.record_history, "__snowseg_copy_history__", False),
        ]
    )
