"""The smoke suite's input files: one generated sample, cut into disjoint files, a few with one malformed value.

Every file holds different invoices (slices of one :func:`snowseg_samples.generate_sales` frame; the generator lives
with the dev stack, ``devstack/snowseg_samples``, which ``make test-snowflake`` puts on the path), so the quality
gate publishes each batch (``unique_across_batches`` would hold a batch that repeats an invoice). The three load
DAGs get the 1,000-row sample between them; the statement checks get files of their own:

- ``small``: good rows for the small path (PUT to the intake table's stage, COPY by column name);
- ``small_bad``: a malformed value, loaded with ``ON_ERROR = ABORT_STATEMENT``: nothing loads, the rejected
  records come from Snowflake's validator through the shadow table's stage;
- ``bulk_bad`` / ``pipe_bad``: one malformed value in 40 rows (2.5 %, under the gate's 5 % rejected share), for
  the bulk path's ``ON_ERROR = CONTINUE`` and the pipe's ``SKIP_FILE`` then reload.

Examples
--------
>>> import tempfile
>>> s = write_samples(tempfile.mkdtemp(), rows=9)
>>> [s.rows[n] for n in ("small_file", "bulk_stage", "snowpipe")], sum(s.rows.values())
([3, 3, 3], 104)
>>> s.bad_rows["pipe_bad"]
1
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from snowseg.config import DatasetContract, load_contract
from snowseg.objects import LOAD_PATHS

DAG_FILES = LOAD_PATHS  # one per load DAG, named after its load path
# file -> (rows, malformed rows) for the statement checks
FORM_FILES = {"small": (10, 0), "small_bad": (5, 1), "bulk_bad": (40, 1), "pipe_bad": (40, 1)}
MALFORMED = "not-a-number"
SEED = 42


@dataclass(frozen=True)
class Samples:
    """The files written, by name, with their row counts and how many rows of each are malformed."""

    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    bad_rows: dict[str, int] = field(default_factory=dict)

    @property
    def dag_rows(self) -> int:
        """Rows the load DAGs load between them (the sample)."""
        return sum(self.rows[n] for n in DAG_FILES)


def _malformed_column(contract: DatasetContract) -> str:
    """The header of the column a malformed value goes into: the quantity, else the first number column."""
    numbers = [c for c in contract.columns if c.type.upper().startswith(("NUMBER", "INT", "FLOAT", "DECIMAL"))]
    chosen = next((c for c in numbers if c.role == "quantity"), numbers[0] if numbers else None)
    if chosen is None:
        raise ValueError(f"contract {contract.name!r} has no number column to put a malformed value in")
    return chosen.name


def write_samples(folder: str | Path, *, rows: int = 1000, contract: DatasetContract | None = None,
                  seed: int = SEED) -> Samples:
    """Write the sample (`rows` rows, in three files for the load DAGs) and the statement checks' files.

    Parameters
    ----------
    folder : str or Path
        Where the files go (created if needed).
    rows : int
        Rows of the sample the three load DAGs load (at least 3).
    contract : DatasetContract, optional
        Default: the default contract.
    seed : int
        The generator's seed.

    Returns
    -------
    Samples
    """
    try:
        from snowseg_samples import generate_sales
    except ModuleNotFoundError as e:  # the generator is dev-only: it never ships to Airflow
        raise ModuleNotFoundError("the smoke suite's sample files come from devstack/snowseg_samples: run it from a "
                                  "checkout with `make test-snowflake`, which puts devstack/ on PYTHONPATH",
                                  name=e.name) from e

    if rows < len(DAG_FILES):
        raise ValueError(f"rows must be at least {len(DAG_FILES)} (one per load DAG), got {rows}")
    contract = contract or load_contract()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = generate_sales(rows + sum(n for n, _ in FORM_FILES.values()), seed=seed, contract=contract)
    bad_column = _malformed_column(contract)
    sizes = [rows // 3 + (1 if i < rows % 3 else 0) for i in range(3)]
    plan = [(name, n, 0) for name, n in zip(DAG_FILES, sizes, strict=True)]
    plan += [(name, n, bad) for name, (n, bad) in FORM_FILES.items()]
    samples = Samples(folder)
    start = 0
    for name, n, bad in plan:
        part = frame.iloc[start : start + n].copy()
        start += n
        if bad:
            # a record in the middle of the file
            part.loc[part.index[n // 2], bad_column] = MALFORMED
        path = folder / f"smoke_{name}.csv"
        with path.open("w", encoding=contract.csv.encoding, newline="") as f:
            out = csv.writer(f, delimiter=contract.csv.delimiter, quotechar=contract.csv.quote, lineterminator="\n")
            out.writerow(list(part.columns))
            out.writerows(part.itertuples(index=False, name=None))
        samples.files[name], samples.rows[name], samples.bad_rows[name] = path, n, bad
    return samples
