"""What every Snowseg DAG shares: its ``default_args`` (owner, retries, the failure alert), the contract and names
of a run, the task's Snowflake connection, and which failures end a task at once.

A task's body reads::

    contract, names = resolve(params["contract"], params["table"])
    with task_connection() as conn:
        result = load_file(conn, ...)

:func:`task_connection` closes the connection, and turns a permanent failure (:data:`PERMANENT_ERRORS`: bad input,
a deployment that is not ready, a failed load) into ``AirflowFailException`` (:func:`fail`): no retry, the text
redacted, the typed failure kept as its cause for the alert (:mod:`snowseg.airflow.notifier`). Anything else is
retried: a plain ``ValueError`` or ``KeyError`` is a bug or a fault, not bad input.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from snowseg.config import DatasetContract, contract_path, load_contract
from snowseg.errors import ConfigurationError, InputError, ParamsError
from snowseg.loading.common import LoadFailed
from snowseg.warehouse import Names

if TYPE_CHECKING:
    from airflow.sdk.exceptions import AirflowFailException

    from snowseg.segmentation import SegmentationParams

#: Errors that a retry cannot fix: bad input (files, params, contracts, held batches), a deployment that is not
#: ready, a load that failed on its data, a file or folder that is not there. Tasks fail at once on these.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (InputError, ConfigurationError, LoadFailed, FileNotFoundError)

#: Who owns every task (the Airflow UI's owner column).
OWNER = "data-engineering"


def default_args(*, retries: int = 2, retry_delay: timedelta = timedelta(seconds=30)) -> dict[str, Any]:
    """A DAG's ``default_args``: the owner, `retries` after `retry_delay`, and one alert per failed task.

    Examples
    --------
    >>> args = default_args(retries=0)
    >>> args["owner"], args["retries"], type(args["on_failure_callback"]).__name__
    ('data-engineering', 0, 'SnowsegNotifier')
    """
    from snowseg.airflow.notifier import SnowsegNotifier

    return {"owner": OWNER, "retries": retries, "retry_delay": retry_delay,
            "on_failure_callback": SnowsegNotifier()}


def run_failure_callback() -> Any:
    """A DAG's ``on_failure_callback``: an alert only for runs that fail without a failed task (deadlock, timeout)."""
    from snowseg.airflow.notifier import SnowsegNotifier

    return SnowsegNotifier(scope="run")


def dag_args(*, retries: int = 2, retry_delay: timedelta = timedelta(seconds=30),
             alert_runs: bool = True) -> dict[str, Any]:
    """What every Snowseg DAG sets the same way, for ``@dag(..., **dag_args())``: its start date, no catch-up, one
    run at a time, :func:`default_args` (`retries`, `retry_delay`) and, with `alert_runs`, the run-level alert
    (:func:`run_failure_callback`).

    Examples
    --------
    >>> args = dag_args(retries=0, alert_runs=False)
    >>> args["catchup"], args["max_active_runs"], args["default_args"]["retries"], "on_failure_callback" in args
    (False, 1, 0, False)
    """
    import pendulum

    args: dict[str, Any] = {"start_date": pendulum.datetime(2026, 1, 1, tz="UTC"), "catchup": False,
                            "max_active_runs": 1,
                            "default_args": default_args(retries=retries, retry_delay=retry_delay)}
    if alert_runs:
        args["on_failure_callback"] = run_failure_callback()
    return args


def fail(error: BaseException) -> AirflowFailException:
    """The ``AirflowFailException`` a task raises for a permanent failure: no retry, the error's text redacted
    (:mod:`snowseg.redaction`, so no secret reaches the log, the UI or an alert), `error` kept as its cause so
    the failure callback reads its fields.

    Examples
    --------
    >>> from snowseg.errors import InputRefused
    >>> e = fail(InputRefused("/etc/passwd", "outside the input roots", roots=["/data"]))
    >>> type(e).__name__, e.__cause__.path
    ('AirflowFailException', '/etc/passwd')
    """
    from airflow.sdk.exceptions import AirflowFailException

    from snowseg.redaction import redact

    failure = AirflowFailException(redact(str(error)))
    failure.__cause__ = error
    return failure


@contextmanager
def permanent_failures() -> Iterator[None]:
    """Fail the task at once (:func:`fail`) on an error of :data:`PERMANENT_ERRORS`; let any other error through
    (Airflow retries it)."""
    try:
        yield
    except PERMANENT_ERRORS as e:
        raise fail(e) from e


@contextmanager
def task_connection(conn_id: str | None = None) -> Iterator[Any]:
    """A task's Snowflake connection (the DAGs' connection id unless `conn_id`), closed when the block ends; a
    permanent error in the block fails the task at once (:func:`permanent_failures`)."""
    from snowseg import warehouse

    with permanent_failures():
        conn = warehouse.connect(conn_id)
        try:
            yield conn
        finally:
            conn.close()


def resolve(contract_name: str | None, table: str | None = None,
            database: str | None = None) -> tuple[DatasetContract, Names]:
    """The contract called `contract_name` (a name in the contracts folders, never a path; the table overridden
    by a param, if given) and the object names.

    Raises
    ------
    ContractError
        If there is no such contract, or it is malformed.
    ParamsError
        If `table` cannot name a table.
    """
    from dataclasses import replace

    from snowseg.warehouse import quote_ident

    contract = load_contract(contract_path(contract_name) if contract_name else None)  # a name, never a path
    if table:
        try:
            contract = replace(contract, table=quote_ident(table))
        except ValueError as e:  # quote_ident refuses it
            raise ParamsError(f"param table: {e}", param="table") from e
    return contract, Names.from_env(database)


def segmentation_params(params: Mapping[str, Any], run_date: str | None = None) -> SegmentationParams:
    """The segmentation parameters from a ``segment_customers`` run's params.

    ``recency_to`` "run date" measures customer recency to `run_date` (the run's date, ISO), "newest sale"
    to the newest sale in the data.

    Raises
    ------
    ParamsError
        If the params are not valid together (e.g. ``k_min`` above ``k_max``).
    """
    from snowseg.segmentation import SegmentationParams

    return SegmentationParams(  # it checks the values it is given (ParamsError naming the param)
        k=params["k"], k_min=params["k_min"], k_max=params["k_max"], n_init=params["n_init"],
        random_state=params["random_state"], encoding=params["encoding"] or None, n_runs=params["n_runs"],
        subsample=params["subsample"], scaling=params["scaling"], max_fit_rows=params["max_fit_rows"],
        as_of=run_date if params.get("recency_to", "run date") == "run date" else None,
    )


def record_refusals(refused: list, contract: DatasetContract, names: Names, *, load_path: str, dag_id: str,
                    run_id: str) -> Exception:
    """Put refused files on record (LOAD_AUDIT, status REFUSED) through the task's connection; return the
    error naming them (:class:`~snowseg.loading.intake.FilesRefused`), for the task to raise or print."""
    from snowseg.loading import intake

    with task_connection() as conn:
        return intake.put_on_record(conn, names, contract, refused, load_path=load_path, dag_id=dag_id,
                                    run_id=run_id)


def refusals_from_xcom(checked: Mapping[str, Any], names: Names) -> Exception:
    """The :class:`~snowseg.loading.intake.FilesRefused` of the refusals an upstream check put in its XCom
    (``checked["refused"]``, already on record), for a later task to fail with."""
    from snowseg.loading import intake

    return intake.refused_error([intake.Refusal(**r) for r in checked["refused"]], names)
