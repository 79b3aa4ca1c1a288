"""Tests for the exploratory views of a raw batch (snowseg.quality.eda)."""

from __future__ import annotations

import dataclasses
import html
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from snowseg.config import DatasetContract, load_contract
from snowseg.quality.eda import eda_html, eda_pictures
from snowseg_samples import write_sales_csv

SUPERMARKET = load_contract("supermarket")
CUSTOMERS = load_contract("supermarket_customers")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ALL = ["distributions", "box_by_category", "correlation", "daily_trend", "describe"]


def sales_frame(folder: Path, rows: int, *, seed: int = 3, contract: DatasetContract = SUPERMARKET) -> pd.DataFrame:
    """Generated rows as the warehouse returns them: Snowflake column names, the day parsed."""
    src = write_sales_csv(folder / f"sales_{rows}_{seed}.csv", rows, seed=seed, contract=contract)
    frame = pd.read_csv(src).rename(columns={c.name: c.column for c in contract.columns})
    frame["SALE_DATE"] = pd.to_datetime(frame["SALE_DATE"], format="%m/%d/%Y")
    return frame


def without_roles(contract: DatasetContract, *roles: str) -> DatasetContract:
    """The contract with every column of the given roles removed (and features that name them)."""
    columns = tuple(c for c in contract.columns if c.role not in roles)
    kept = {c.column for c in columns}
    features = dataclasses.replace(contract.features, numeric=tuple(c for c in contract.features.numeric if c in kept))
    return dataclasses.replace(contract, columns=columns, features=features)


def assert_png(path: Path, min_bytes: int = 2_000) -> None:
    """The file exists, starts with the PNG signature and is not a stub."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, path
    assert len(data) >= min_bytes, (path, len(data))


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """One run over 400 generated seed-schema rows, with a lineage column the views must ignore."""
    folder = tmp_path_factory.mktemp("eda")
    frame = sales_frame(folder, 400)
    frame["_LOADED_AT"] = pd.Timestamp("2024-05-01 12:00")
    return folder, eda_pictures(frame, SUPERMARKET, folder / "eda")


# --------------------------------------------------------------------------- the seed contract


def test_seed_contract_writes_every_view(seed_run):
    folder, pictures = seed_run
    assert list(pictures) == ALL
    assert pictures == {name: folder / "eda" / f"{name}.{'html' if name == 'describe' else 'png'}" for name in ALL}
    for name in ALL[:-1]:
        assert_png(pictures[name], min_bytes=10_000)


def test_describe_lists_every_contract_column_and_no_lineage(seed_run):
    text = seed_run[1]["describe"].read_text(encoding="utf-8")
    assert text.startswith("<table") and text.rstrip().endswith("</table>")
    for c in SUPERMARKET.columns:
        assert f"<td>{c.column}</td>" in text
        assert f"<td>{html.escape(c.name)}</td>" in text
    assert "_LOADED_AT" not in text
    assert "<th>nulls</th>" in text and "<th>mean</th>" in text


def test_describe_rounds_to_three_decimals(tmp_path):
    frame = pd.DataFrame({"TOTAL": [1.0, 2.0, 2.0], "RATING": [1.0, 1.0, 1.0]})
    text = eda_pictures(frame, SUPERMARKET, tmp_path)["describe"].read_text(encoding="utf-8")
    row = text.split("<td>TOTAL</td>")[1].split("</tr>")[0]
    # count 3, nulls 0, mean 5/3, std 0.57735..., min 1, quartiles 1.5 2 2, max 2
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[1:]] == [
        "Total", "3", "0", "", "", "", "1.667", "0.577", "1", "1.5", "2", "2", "2"]


def test_output_is_deterministic(tmp_path):
    frame = sales_frame(tmp_path, 120, seed=11)
    first = eda_pictures(frame, SUPERMARKET, tmp_path / "a")
    second = eda_pictures(frame, SUPERMARKET, tmp_path / "b")
    assert {k: p.read_bytes() for k, p in first.items()} == {k: p.read_bytes() for k, p in second.items()}


def test_no_figures_left_open(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    eda_pictures(sales_frame(tmp_path, 30), SUPERMARKET, tmp_path / "eda")
    eda_pictures(sales_frame(tmp_path, 0), SUPERMARKET, tmp_path / "empty")
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------- edge cases


def test_zero_rows_write_placeholders(tmp_path):
    frame = sales_frame(tmp_path, 0)
    assert frame.empty
    pictures = eda_pictures(frame, SUPERMARKET, tmp_path / "eda")
    assert list(pictures) == ALL
    for name in ALL[:-1]:
        assert_png(pictures[name])
    text = pictures["describe"].read_text(encoding="utf-8")
    assert all(f"<td>{c.column}</td>" in text for c in SUPERMARKET.columns)


def test_nulls_decimals_text_and_missing_columns(tmp_path):
    frame = sales_frame(tmp_path, 60).astype(object)
    frame["TOTAL"] = [None if i % 7 == 0 else Decimal(str(v)) for i, v in enumerate(frame["TOTAL"])]
    frame.loc[::5, ["BRANCH", "RATING", "SALE_DATE", "UNIT_PRICE"]] = None
    frame.loc[3, "QUANTITY"] = "not a number"
    frame.loc[4, "BRANCH"] = "Z"  # not in the contract's values
    frame["COGS"] = None  # all NULL
    frame = frame.drop(columns=["GROSS_INCOME"])  # missing entirely
    pictures = eda_pictures(frame, SUPERMARKET, tmp_path / "eda")
    assert list(pictures) == ALL
    for name in ALL[:-1]:
        assert_png(pictures[name], min_bytes=10_000)
    text = pictures["describe"].read_text(encoding="utf-8")
    cogs = text.split("<td>COGS</td>")[1].split("</tr>")[0]
    assert "<td>cogs</td>\n      <td>0</td>\n      <td>60</td>" in cogs  # count 0, nulls 60


def test_rejects_a_non_frame(tmp_path):
    with pytest.raises(TypeError, match="df must be a pandas DataFrame, got list"):
        eda_pictures([], SUPERMARKET, tmp_path)


class ContractCase(NamedTuple):
    contract: DatasetContract
    expected: list[str]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(ContractCase(without_roles(SUPERMARKET, "numeric"),
                                  ["distributions", "correlation", "daily_trend", "describe"]), id="no-numeric-role"),
        pytest.param(ContractCase(without_roles(SUPERMARKET, "categorical"),
                                  ["distributions", "correlation", "daily_trend", "describe"]), id="no-categorical"),
        pytest.param(ContractCase(without_roles(SUPERMARKET, "amount"),
                                  ["distributions", "box_by_category", "correlation", "describe"]), id="no-amount"),
        pytest.param(ContractCase(without_roles(SUPERMARKET, "timestamp_date"),
                                  ["distributions", "box_by_category", "correlation", "describe"]), id="no-date"),
        pytest.param(ContractCase(CUSTOMERS, ALL), id="customers-contract"),
    ],
)
def test_views_follow_the_contract_roles(tmp_path, case):
    frame = sales_frame(tmp_path, 50, contract=CUSTOMERS)  # a superset of every contract's columns
    pictures = eda_pictures(frame, case.contract, tmp_path / "eda")
    assert list(pictures) == case.expected
    assert sorted(p.name for p in (tmp_path / "eda").iterdir()) == sorted(p.name for p in pictures.values())
    text = pictures["describe"].read_text(encoding="utf-8")
    assert all(f"<td>{c.column}</td>" in text for c in case.contract.columns)


# --------------------------------------------------------------------------- the HTML fragment


def test_eda_html_embeds_relative_images_and_the_table(seed_run):
    folder, pictures = seed_run
    fragment = eda_html(pictures, folder)
    assert fragment.startswith('<section class="snowseg-eda">') and fragment.endswith("</section>")
    for name in ALL[:-1]:
        assert f'<img src="eda/{name}.png"' in fragment
    assert fragment.count("<h3>") == len(ALL)
    assert pictures["describe"].read_text(encoding="utf-8").strip() in fragment
    assert str(folder) not in fragment


def test_eda_html_paths_climb_out_of_base(tmp_path):
    fragment = eda_html({"my view": tmp_path / "run 1" / "x.png"}, tmp_path / "page")
    assert '<h3>My view</h3>\n<figure><img src="../run%201/x.png" alt="My view"></figure>' in fragment


def test_import_does_not_load_matplotlib():
    code = "import sys, snowseg.quality.eda; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "include")})
    assert out.stdout.strip() == "False"
