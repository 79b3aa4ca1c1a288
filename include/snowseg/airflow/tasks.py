"""Small helpers the DAG tasks share: contract + names resolution, failure classification."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from snowseg.config import ContractError, DatasetContract, contract_path, load_contract
from snowseg.errors import ConfigurationError, InputError
from snowseg.loading.checks import FileCheckError
from snowseg.loading.common import LoadFailed
from snowseg.warehouse import Names

# Errors that a retry cannot fix: bad input or bad configuration. Tasks fail fast on these.
PERMANENT_ERRORS = (InputError, ConfigurationError, FileCheckError, FileNotFoundError, LoadFailed, ContractError, ValueError, KeyError)


def resolve(contract_name: str | None, table: str | None = None, database: str | None = None) -> tuple[DatasetContract, Names]:
    """The contract called `contract_name` (a name in the contracts folders, never a path; the table overridden
    by a param, if given) and the object names."""
    from dataclasses import replace

    from snowseg.warehouse import quote_ident

    contract = load_contract(contract_path(contract_name) if contract_name else None)  # a name, never a path
    if table:
        contract = replace(contract, table=quote_ident(table))
    return contract, Names.from_env(database)


def segmentation_params(params: Mapping[str, Any], run_date: str | None = None):
    """The segmentation parameters from a ``segment_customers`` run's params (ValueError when invalid).

    ``recency_to`` "run date" measures customer recency to `run_date` (the run's date, ISO), "newest sale"
    to the newest sale in the data.
    """
    from snowseg.segmentation import SegmentationParams

    return SegmentationParams(
        k=params["k"], k_min=params["k_min"], k_max=params["k_max"], n_init=params["n_init"],
        random_state=params["random_state"], encoding=params["encoding"] or None, n_runs=params["n_runs"],
        subsample=params["subsample"], scaling=params["scaling"], max_fit_rows=params["max_fit_rows"],
        as_of=run_date if params.get("recency_to", "run date") == "run date" else None,
    )


@contextmanager
def stage_connection() -> Iterator[Any]:
    """A task's Snowflake connection (the DAGs' connection id), closed when the task's work is done."""
    from snowseg import warehouse

    conn = warehouse.connect()
    try:
        yield conn
    finally:
        conn.close()


def record_refusals(refused: list, contract: DatasetContract, names: Names, *, load_path: str, dag_id: str,
                    run_id: str) -> Exception:
    """Put refused files on record (LOAD_AUDIT, status REFUSED) through the task's connection; return the
    error naming them, for the task to raise or print."""
    from snowseg import warehouse
    from snowseg.loading import intake

    conn = warehouse.connect()
    try:
        return intake.put_on_record(conn, names, contract, refused, load_path=load_path, dag_id=dag_id,
                                    run_id=run_id)
    finally:
        conn.close()


def fail(error: BaseException | str) -> Exception:
    """The AirflowFailException a task raises for a permanent failure: the error's text, redacted
    (:mod:`snowseg.redaction`), so no secret reaches the task log, the UI or an alert."""
    from airflow.sdk.exceptions import AirflowFailException

    from snowseg.redaction import redact

    return AirflowFailException(redact(str(error)))
