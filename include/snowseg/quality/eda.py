"""Exploratory views of a batch of raw sales rows, drawn from the dataset contract, for the run report.

The seed talk looked at a new sales file in four pictures -- every column's distribution, rating by
branch, the correlation of the numeric columns and sales per day -- plus ``describe()``. This module
draws the same views for any contract: the columns come from their roles, never from names, so a
user with another schema gets the same report. Columns of ``df`` outside the contract (lineage
columns such as ``_LOADED_AT``) are ignored; contract columns missing from ``df`` count as all NULL.

matplotlib is imported inside the functions, so importing this module (at DAG parse) stays light.
"""

from __future__ import annotations

import html
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from snowseg.config import ColumnSpec, DatasetContract

# Roles whose values are quantities worth a histogram; ids, dates and categories are not.
NUMERIC_ROLES = ("amount", "quantity", "unit_price", "numeric", "derived")
FILES = {
    "distributions": "distributions.png",
    "box_by_category": "box_by_category.png",
    "correlation": "correlation.png",
    "daily_trend": "daily_trend.png",
    "describe": "describe.html",
}
TITLES = {
    "distributions": "Distributions",
    "box_by_category": "Numeric column by category",
    "correlation": "Correlation of the numeric columns",
    "daily_trend": "Amount per day",
    "describe": "Summary statistics",
}
NULL_LABEL = "(null)"
MAX_BARS = 15  # a bar chart keeps the most frequent values and folds the rest into "other"
MAX_FILLED_DAYS = 3660  # zero-fill missing days only over a plausible span, not across a bad year
_DPI = 110
_BLUE, _RED, _GREY, _YELLOW = "#1f5f8b", "#d1495b", "#9a9a9a", "#edae49"
_STATS = ["count", "nulls", "unique", "top", "freq", "mean", "std", "min", "25%", "50%", "75%", "max"]


def eda_pictures(df: pd.DataFrame, contract: DatasetContract, out_dir: str | Path) -> dict[str, Path]:
    """Draw the exploratory views of a batch of raw sales rows into ``out_dir``.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with the contract's Snowflake column names (``INVOICE_ID``, ``TOTAL``, ...). Other
        columns (lineage such as ``_LOADED_AT``) are ignored; missing contract columns count as
        all NULL. NULLs are allowed everywhere; numbers may be ``Decimal`` or text.
    contract : DatasetContract
        Says which columns are numeric (roles amount, quantity, unit_price, numeric, derived),
        categorical (role categorical), the day (timestamp_date) and the amount.
    out_dir : str or Path
        Folder for the files; created if missing. Files of the same name are overwritten.

    Returns
    -------
    dict of str to Path
        In this order, each only when it applies:

        - ``distributions``: a histogram per numeric column and a bar chart of value counts per
          categorical column (contract values first, unexpected values in red, NULLs in grey);
        - ``box_by_category``: the first ``numeric``-role column by the first categorical column
          (the seed's rating by branch); omitted if the contract has neither;
        - ``correlation``: Pearson correlation heat map of the numeric columns, values in the cells;
        - ``daily_trend``: sum of the ``amount`` column per ``timestamp_date`` day; omitted if the
          contract has either role missing;
        - ``describe``: ``describe.html``, an HTML ``<table>`` fragment of ``df.describe(include='all')``
          over the contract columns, transposed and rounded, with a NULL count per column.

        With 0 rows every picture is a placeholder saying "no rows". Output is byte-identical for
        the same input and matplotlib version.

    Raises
    ------
    TypeError
        If ``df`` is not a pandas DataFrame.

    Examples
    --------
    >>> import tempfile
    >>> from snowseg.config import load_contract
    >>> rows = pd.DataFrame({"BRANCH": ["A", "B", None], "TOTAL": [10.5, 20.0, 7.25],
    ...                      "RATING": [7.0, None, 9.5], "SALE_DATE": pd.to_datetime(["2019-01-01"] * 3)})
    >>> pictures = eda_pictures(rows, load_contract(), Path(tempfile.mkdtemp()))
    >>> list(pictures)
    ['distributions', 'box_by_category', 'correlation', 'daily_trend', 'describe']
    >>> pictures["correlation"].read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = _typed_frame(df, contract)
    numeric = _numeric_specs(contract)
    categorical = contract.columns_for_role("categorical")
    first_numeric = contract.columns_for_role("numeric")[:1]
    date, amount = contract.column_for_role("timestamp_date"), contract.column_for_role("amount")

    plt = _pyplot()
    pictures: dict[str, Path] = {}
    with plt.style.context("default"):  # the ambient matplotlibrc must not change the output
        pictures["distributions"] = _distributions(plt, frame, numeric, categorical, out / FILES["distributions"])
        if first_numeric and categorical:
            pictures["box_by_category"] = _box_by_category(
                plt, frame, first_numeric[0], categorical[0], out / FILES["box_by_category"]
            )
        pictures["correlation"] = _correlation(plt, frame, numeric, out / FILES["correlation"])
        if date is not None and amount is not None:
            pictures["daily_trend"] = _daily_trend(plt, frame, date, amount, out / FILES["daily_trend"])
    pictures["describe"] = _describe(frame, contract, out / FILES["describe"])
    return pictures


def eda_html(pictures: dict[str, Path], base: str | Path) -> str:
    """An HTML fragment showing the pictures of :func:`eda_pictures`, for a run report page.

    Parameters
    ----------
    pictures : dict of str to Path
        As returned by :func:`eda_pictures`; unknown names get a heading made from the name.
    base : str or Path
        The folder of the page that embeds the fragment; image ``src`` paths are relative to it.

    Returns
    -------
    str
        A ``<section>`` with an ``<h3>`` per picture: an ``<img>`` for images, the table itself
        (read from the file) for ``.html`` entries.

    Examples
    --------
    >>> import tempfile
    >>> run = Path(tempfile.mkdtemp())
    >>> _ = (run / "eda").mkdir(), (run / "eda" / "describe.html").write_text("<table></table>")
    >>> print(eda_html({"daily_trend": run / "eda" / "daily_trend.png",
    ...                 "describe": run / "eda" / "describe.html"}, run))
    <section class="snowseg-eda">
    <h2>Exploratory views of the batch</h2>
    <h3>Amount per day</h3>
    <figure><img src="eda/daily_trend.png" alt="Amount per day"></figure>
    <h3>Summary statistics</h3>
    <div class="snowseg-describe"><table></table></div>
    </section>
    """
    parts = ['<section class="snowseg-eda">', "<h2>Exploratory views of the batch</h2>"]
    for name, path in pictures.items():
        title = html.escape(TITLES.get(name, name.replace("_", " ").capitalize()))
        parts.append(f"<h3>{title}</h3>")
        path = Path(path)
        if path.suffix.lower() in {".html", ".htm"}:
            parts.append(f'<div class="snowseg-describe">{path.read_text(encoding="utf-8").strip()}</div>')
        else:
            src = quote(Path(os.path.relpath(path, base)).as_posix(), safe="/")
            parts.append(f'<figure><img src="{html.escape(src)}" alt="{title}"></figure>')
    parts.append("</section>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- data


def _numeric_specs(contract: DatasetContract) -> list[ColumnSpec]:
    """The contract columns drawn as numbers, in file order."""
    return [c for c in contract.columns if c.role in NUMERIC_ROLES]


def _typed_frame(df: pd.DataFrame, contract: DatasetContract) -> pd.DataFrame:
    """The contract columns only: numbers as floats (inf as NULL), the day as datetime64, the rest objects."""
    frame = df.reindex(columns=contract.column_names)
    numeric = _numeric_specs(contract)
    for spec in contract.columns:
        if spec in numeric:
            values = pd.to_numeric(frame[spec.column], errors="coerce").astype("float64")
            frame[spec.column] = values.replace([np.inf, -np.inf], np.nan)
        elif spec.role != "timestamp_date":  # a missing or all-NULL text column stays text, not float
            frame[spec.column] = frame[spec.column].astype(object)
    date = contract.column_for_role("timestamp_date")
    if date is not None and not pd.api.types.is_datetime64_any_dtype(frame[date.column]):
        with warnings.catch_warnings():  # mixed text dates: unparseable ones become NaT
            warnings.simplefilter("ignore", UserWarning)
            frame[date.column] = pd.to_datetime(frame[date.column], errors="coerce")
    return frame


def _category_counts(values: pd.Series, spec: ColumnSpec, fold: bool = True) -> list[tuple[str, int, str]]:
    """(label, count, colour) per bar: contract values in order, then others (folded), then NULLs."""
    labels = values.map(lambda v: NULL_LABEL if _is_null(v) else str(v))
    counts = labels.value_counts()
    expected = [v for v in spec.values if v in counts.index]
    others = sorted((v for v in counts.index if v not in spec.values and v != NULL_LABEL),
                    key=lambda v: (-counts[v], v))
    bars = [(v, int(counts[v]), _BLUE) for v in expected]
    bars += [(v, int(counts[v]), _RED if spec.values else _BLUE) for v in others]
    if fold and len(bars) > MAX_BARS:
        rest = bars[MAX_BARS - 1:]
        bars = bars[: MAX_BARS - 1] + [(f"{len(rest)} other values", sum(n for _, n, _ in rest), _GREY)]
    if NULL_LABEL in counts.index:
        bars.append((NULL_LABEL, int(counts[NULL_LABEL]), _GREY))
    return bars


def _is_null(value: Any) -> bool:
    """True for None, NaN, NaT and pandas NA."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- pictures


def _pyplot():
    """pyplot on the Agg backend (selected here, not at import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    """Save a figure as PNG and close it, also when saving fails."""
    try:
        fig.savefig(path, format="png", dpi=_DPI)
    finally:
        plt.close(fig)
    return path


def _placeholder(plt, path: Path, title: str, message: str) -> Path:
    """A small PNG with a title and a message instead of a chart."""
    fig, ax = plt.subplots(figsize=(6, 2.2), dpi=_DPI)
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=14, color="#555555", transform=ax.transAxes)
    return _save(plt, fig, path)


def _note_empty(ax, message: str) -> None:
    """Write a message in an axis that has nothing to draw."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#555555", transform=ax.transAxes)


def _distributions(plt, frame: pd.DataFrame, numeric: list[ColumnSpec], categorical: list[ColumnSpec],
                   path: Path) -> Path:
    """Small multiples: a histogram per numeric column, value-count bars per categorical column."""
    title = f"Distributions ({len(frame):,} rows)"
    panels = [*numeric, *categorical]
    if frame.empty:
        return _placeholder(plt, path, title, "no rows")
    if not panels:
        return _placeholder(plt, path, title, "the contract has no numeric or categorical columns")
    ncols = min(4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.8 * ncols, 3.1 * nrows), dpi=_DPI, squeeze=False,
                             layout="constrained")
    for ax, spec in zip(axes.flat, panels, strict=False):
        values = frame[spec.column]
        nulls = int(values.isna().sum())
        ax.set_title(spec.name + (f"  ({nulls:,} NULL)" if nulls else ""), fontsize=10)
        if spec in numeric:
            _histogram(ax, values.dropna().to_numpy())
        else:
            bars = _category_counts(values, spec)
            labels = [label for label, _, _ in bars]
            ax.bar(range(len(bars)), [n for _, n, _ in bars], color=[c for _, _, c in bars])
            ax.set_xticks(range(len(bars)), labels, rotation=35 if max(map(len, labels)) > 3 else 0,
                          ha="right" if max(map(len, labels)) > 3 else "center", fontsize=8)
            ax.set_ylabel("rows", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    fig.suptitle(title)
    return _save(plt, fig, path)


def _histogram(ax, values: np.ndarray) -> None:
    """A histogram; whole numbers over a short range get one bar per value."""
    if values.size == 0:
        _note_empty(ax, "no values")
        return
    lo, hi = float(values.min()), float(values.max())
    bins: np.ndarray | int
    if np.all(values == np.round(values)) and hi - lo <= 30:
        bins = np.arange(lo - 0.5, hi + 1.5)
    else:
        bins = min(30, max(1, len(np.unique(values))))
    ax.hist(values, bins=bins, color=_BLUE, edgecolor="white")
    ax.set_ylabel("rows", fontsize=8)


def _box_by_category(plt, frame: pd.DataFrame, value: ColumnSpec, category: ColumnSpec, path: Path) -> Path:
    """Box plot of one numeric column per value of one categorical column."""
    title = f"{value.name} by {category.name}"
    if frame.empty:
        return _placeholder(plt, path, title, "no rows")
    labels = frame[category.column].map(lambda v: NULL_LABEL if _is_null(v) else str(v))
    groups = [label for label, _, _ in _category_counts(frame[category.column], category, fold=False)]
    data = [frame.loc[labels == g, value.column].dropna().to_numpy() for g in groups]
    if not any(d.size for d in data):
        return _placeholder(plt, path, title, f"no {value.name} values")
    kept = [(g, d) for g, d in zip(groups, data, strict=True) if d.size][:MAX_BARS]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(kept) + 2), 4.2), dpi=_DPI, layout="constrained")
    ax.boxplot([d for _, d in kept], medianprops={"color": _RED}, showmeans=True,
               meanprops={"marker": "^", "markerfacecolor": _YELLOW, "markeredgecolor": _YELLOW})
    ax.set_xticks(range(1, len(kept) + 1), [f"{g}\n(n={d.size:,})" for g, d in kept])
    ax.set_xlabel(category.name)
    ax.set_ylabel(value.name)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _save(plt, fig, path)


def _correlation(plt, frame: pd.DataFrame, numeric: list[ColumnSpec], path: Path) -> Path:
    """Pearson correlation heat map with the coefficient in each cell (blank-grey where undefined)."""
    title = "Correlation of the numeric columns"
    if frame.empty:
        return _placeholder(plt, path, title, "no rows")
    if not numeric:
        return _placeholder(plt, path, title, "the contract has no numeric columns")
    corr = frame[[c.column for c in numeric]].corr().to_numpy()
    names = [c.name for c in numeric]
    n = len(names)
    import matplotlib

    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#e0e0e0")  # constant columns have no r
    fig, ax = plt.subplots(figsize=(2.5 + 0.85 * n, 1.8 + 0.75 * n), dpi=_DPI, layout="constrained")
    image = ax.imshow(np.ma.masked_invalid(corr), cmap=cmap, vmin=-1, vmax=1)
    for i in range(n):
        for j in range(n):
            r = corr[i, j]
            text = "n/a" if np.isnan(r) else f"{r:.2f}"
            color = "white" if not np.isnan(r) and abs(r) > 0.6 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(n), names, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    fig.colorbar(image, ax=ax, shrink=0.8, label="Pearson r")
    ax.set_title(title)
    return _save(plt, fig, path)


def _daily_trend(plt, frame: pd.DataFrame, date: ColumnSpec, amount: ColumnSpec, path: Path) -> Path:
    """Sum of the amount per day as a line; days without rows inside the range count as 0."""
    title = f"{amount.name} per {date.name} (sum per day)"
    if frame.empty:
        return _placeholder(plt, path, title, "no rows")
    days = frame[date.column].dt.normalize()
    daily = frame[amount.column].groupby(days).sum().sort_index()  # NaT days are dropped, NULL amounts add 0
    if daily.empty:
        return _placeholder(plt, path, title, f"no {date.name} values")
    if (daily.index[-1] - daily.index[0]).days <= MAX_FILLED_DAYS:
        daily = daily.reindex(pd.date_range(daily.index[0], daily.index[-1], freq="D"), fill_value=0.0)
    undated = int(days.isna().sum())
    import matplotlib.dates as mdates

    fig, ax = plt.subplots(figsize=(9, 3.8), dpi=_DPI, layout="constrained")
    ax.plot(daily.index, daily.to_numpy(), marker="o", markersize=3, color=_BLUE)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel(date.name)
    ax.set_ylabel(f"sum of {amount.name}")
    ax.set_title(title + (f"; {undated:,} rows without a {date.name} left out" if undated else ""))
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


# --------------------------------------------------------------------------- describe


def _describe(frame: pd.DataFrame, contract: DatasetContract, path: Path) -> Path:
    """``describe(include='all')`` of the contract columns as an HTML table fragment."""
    table = frame.describe(include="all").T
    table.insert(0, "nulls", len(frame) - table["count"].astype("float64"))
    table = table.reindex(columns=_STATS).astype(object)  # the same columns whatever the dtypes
    table.insert(0, "name", [c.name for c in contract.columns])
    cells = table.apply(lambda col: col.map(_cell)).rename_axis("column").reset_index()
    fragment = cells.to_html(index=False, border=0, classes="snowseg-describe", escape=True, na_rep="")
    path.write_text(fragment + "\n", encoding="utf-8")
    return path


def _cell(value: Any) -> str:
    """A describe value as short text: numbers rounded to 3 decimals, times to the minute."""
    if _is_null(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d" if value == value.normalize() else "%Y-%m-%d %H:%M")
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.3f}".rstrip("0").rstrip(".")
        return "0" if text in {"-0", ""} else text
    return str(value)
