"""The task helpers: which failures end a task at once (bad input, configuration) and which Airflow retries (a bug,
a fault); the failure keeps the typed error as its cause, with its text redacted; params checked as input."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from airflow.sdk.exceptions import AirflowFailException

from snowseg.airflow.tasks import (
    PERMANENT_ERRORS,
    default_args,
    fail,
    permanent_failures,
    resolve,
    segmentation_params,
)
from snowseg.config import ContractError
from snowseg.errors import InputError, InputNotFound, InputRefused, NoPublishedRows, ParamsError, WarehouseNotSetUp
from snowseg.loading.checks import HeaderMismatch
from snowseg.loading.common import LoadFailed
from snowseg.quality.gate import GateFailed


class Kind(NamedTuple):
    error: BaseException
    permanent: bool


KINDS = [
    pytest.param(Kind(ValueError("could not convert string to float: 'x'"), False), id="value-error-is-a-bug"),
    pytest.param(Kind(KeyError("k_min"), False), id="key-error-is-a-bug"),
    pytest.param(Kind(ConnectionResetError("reset by peer"), False), id="transient"),
    pytest.param(Kind(InputError("bad param"), True), id="input-error"),
    pytest.param(Kind(InputRefused("/etc/shadow", "outside the input roots", roots=["/data"]), True), id="refused"),
    pytest.param(Kind(InputNotFound("/data/x.csv: no such file"), True), id="not-found"),
    pytest.param(Kind(ContractError("role 'amout' is unknown"), True), id="contract"),
    pytest.param(Kind(HeaderMismatch("/data/x.csv: the header does not match"), True), id="file-check"),
    pytest.param(Kind(NoPublishedRows("DB.RAW.SALES_RAW_PUBLISHED"), True), id="no-published-rows"),
    pytest.param(Kind(GateFailed([], judged=0, run_id="r", quarantine_share_max=0.05), True), id="held-batch"),
    pytest.param(Kind(ParamsError("k_min above k_max"), True), id="params"),
    pytest.param(Kind(WarehouseNotSetUp("DB", ["V001"], command="make setup-warehouse"), True), id="not-set-up"),
    pytest.param(Kind(LoadFailed("/data/x.csv: COPY failed", file="/data/x.csv"), True), id="load-failed"),
]


@pytest.mark.parametrize("kind", KINDS)
def test_only_bad_input_and_configuration_fail_without_retry(kind: Kind):
    """A permanent error becomes AirflowFailException (Airflow does not retry it); any other error, a plain
    ValueError or KeyError from a coding bug included, goes through unchanged and is retried."""
    assert isinstance(kind.error, PERMANENT_ERRORS) == kind.permanent
    with pytest.raises(BaseException) as raised:
        with permanent_failures():
            raise kind.error
    if kind.permanent:
        assert isinstance(raised.value, AirflowFailException) and raised.value.__cause__ is kind.error
    else:
        assert raised.value is kind.error


def test_fail_keeps_the_typed_error_as_its_cause_and_redacts_its_text(monkeypatch):
    monkeypatch.setenv("SNOWSEG_TEST_PASSWORD", "Sup3r-S3cret-Passw0rd")
    error = InputError("bad param; password=Sup3r-S3cret-Passw0rd")
    failure = fail(error)
    assert failure.__cause__ is error
    assert "Sup3r-S3cret-Passw0rd" not in str(failure) and str(failure).startswith("bad param")


def test_a_table_param_that_cannot_name_a_table_is_bad_input():
    with pytest.raises(ParamsError, match=r"^param table: ") as e:
        resolve("supermarket", "SALES; drop table X")
    assert e.value.param == "table" and isinstance(e.value.__cause__, ValueError)


PARAMS = {"k": 3, "k_min": 2, "k_max": 10, "n_init": 10, "random_state": 42, "encoding": "", "n_runs": 20,
          "subsample": 0.8, "scaling": "standard", "max_fit_rows": 200000, "recency_to": "run date"}


def test_segmentation_params_that_do_not_fit_together_are_bad_input():
    assert segmentation_params(PARAMS, "2026-01-05").as_of == "2026-01-05"
    assert segmentation_params({**PARAMS, "recency_to": "newest sale"}, "2026-01-05").as_of is None
    with pytest.raises(ParamsError, match=r"k range 5\.\.2 is empty") as e:
        segmentation_params({**PARAMS, "k_min": 5, "k_max": 2})
    assert e.value.param == "k_min"
    assert isinstance(e.value, PERMANENT_ERRORS)


def test_default_args_give_every_task_an_owner_retries_and_the_alert():
    from snowseg.airflow.notifier import SnowsegNotifier

    args = default_args()
    assert (args["owner"], args["retries"], args["retry_delay"].total_seconds()) == ("data-engineering", 2, 30.0)
    assert isinstance(args["on_failure_callback"], SnowsegNotifier) and args["on_failure_callback"].scope == "task"
