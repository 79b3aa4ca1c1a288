"""Plots and the HTML run report of a segmentation run.

Pictures: the elbow (inertia by k, the knee and the chosen k marked), silhouette and stability by k,
the per-row confidence histogram, the segment profile heat map and a 2-D PCA projection coloured by
segment; each a PNG beside ``index.html``, which also holds the k decision, the segments with their
stability and names, and links (e.g. the quality gate's page).

Where reports go (``SNOWSEG_REPORT_DIR``, :func:`report_base`): a local folder, written in place; or an
``s3://`` prefix, for workers on several machines: a report is drafted in the local folder (:func:`report_root`,
the default one) and :func:`publish` copies its folder to the same relative key under the prefix, through
Airflow's ``ObjectStoragePath``. The loads monitor reads the base, whichever it is.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from snowseg import settings, storage

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from snowseg.clustering.profiles import SegmentProfile

#: The report root's folder of the quality gate's pages, one per run.
QUALITY_FOLDER = "quality"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def report_root() -> Path:
    """The local folder reports are written in: SNOWSEG_REPORT_DIR when it is a folder (or ``file://``), else
    $AIRFLOW_HOME/snowseg_reports, else ./reports (with an ``s3://`` base: the drafts :func:`publish` copies)."""
    if (d := settings.get("SNOWSEG_REPORT_DIR")) and (local := storage.local_folder("SNOWSEG_REPORT_DIR", d)):
        return local
    if h := os.environ.get("AIRFLOW_HOME"):
        return Path(h) / "snowseg_reports"
    return Path("reports")


def report_base() -> Path | ObjectStoragePath:
    """Where reports are kept and the monitor reads them: :func:`report_root`, or the ``s3://`` prefix of
    SNOWSEG_REPORT_DIR (an ``ObjectStoragePath``).

    Raises
    ------
    snowseg.storage.StorageSettingError
        SNOWSEG_REPORT_DIR is a URL Snowseg cannot use (another scheme, credentials in it, ``..``).
    """
    d = settings.get("SNOWSEG_REPORT_DIR")
    return storage.base("SNOWSEG_REPORT_DIR", d) if d and storage.is_url(d) else report_root()


def publish(folder: Path) -> str:
    """Copy a report folder written under :func:`report_root` to the same place under an ``s3://``
    :func:`report_base`; return where the report is kept (the folder itself with a local base, or one outside
    the report root)."""
    base = report_base()
    root = report_root().resolve()
    folder = Path(folder).resolve()
    if isinstance(base, Path) or not folder.is_relative_to(root):
        return str(folder)
    target = base.joinpath(*folder.relative_to(root).parts)
    storage.publish_dir(folder, target)
    return storage.shown(target)


def run_folder_name(run_id: str) -> str:
    """An Airflow run id made a safe folder name: other characters than letters, digits, ``_.-`` become ``_``, at
    most 200 characters, never a leading dot (so never ``.`` or ``..``). Quality pages and working folders use it.

    Examples
    --------
    >>> run_folder_name("manual__2026-01-05T08:00:00+00:00"), run_folder_name(".."), run_folder_name("a/b")
    ('manual__2026-01-05T08_00_00_00_00', '_..', 'a_b')
    """
    safe = _UNSAFE.sub("_", run_id)[:200]
    return "_" + safe if not safe or safe.startswith(".") else safe


def quality_report_dir(run_id: str) -> str:
    """The folder (under the report root) of a gate run's quality report, as ``segment_customers`` names it.

    Examples
    --------
    >>> quality_report_dir("manual__2026-01-05T08:00:00+00:00")
    'quality/manual__2026-01-05T08_00_00_00_00'
    """
    return f"{QUALITY_FOLDER}/{run_folder_name(run_id)}"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def k_scores_plot(scores: list, chosen_k: int | None, knee: int | None, path: Path, *,
                  stability_min: float | None = None, silhouette_min: float | None = None) -> Path:
    """Three panels by k: inertia (knee and chosen k marked), silhouette, stability (subsample ARI)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), dpi=110)
    ks = [s.k for s in scores]
    ax = axes[0]
    ax.plot(ks, [s.inertia for s in scores], marker="o", color="#1f5f8b")
    for k, style, label in ((knee, dict(color="#edae49", linestyle="--"), "knee"),
                            (chosen_k, dict(color="#d1495b", linestyle="-"), "chosen")):
        if k is not None:
            ax.axvline(k, label=f"{label} k = {k}", **style)
    ax.set(title="Inertia (elbow)", xlabel="k", ylabel="within-cluster sum of squares")
    ax.legend(loc="upper right")
    for ax, attr, title, floor in ((axes[1], "silhouette", "Silhouette (sample)", silhouette_min),
                                   (axes[2], "stability", "Stability (ARI of subsample fits)", stability_min)):
        pts = [(s.k, getattr(s, attr)) for s in scores if getattr(s, attr) is not None]
        if pts:
            ax.plot([k for k, _ in pts], [v for _, v in pts], marker="s", color="#00798c")
        if floor is not None:
            ax.axhline(floor, color="#999", linestyle=":", label=f"threshold {floor}")
            ax.legend(loc="lower right")
        if chosen_k is not None:
            ax.axvline(chosen_k, color="#d1495b")
        ax.set(title=title, xlabel="k")
    for ax in axes:
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def confidence_histogram(confidence, labels, names: dict[int, str], path: Path) -> Path:
    """Per-row confidence (share of ensemble runs agreeing), stacked by segment."""
    import numpy as np

    plt = _pyplot()
    confidence, labels = np.asarray(confidence, dtype=float), np.asarray(labels)
    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=110)
    ids = sorted(names)
    ax.hist([confidence[labels == i] for i in ids], bins=np.linspace(0, 1, 21), stacked=True,
            label=[names[i] for i in ids])
    ax.set(title="Confidence per row (share of runs that agree)", xlabel="confidence", ylabel="rows")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def profile_heatmap(X, labels, names: dict[int, str], path: Path, max_features: int = 30) -> Path:
    """Segments x features: colour = the segment mean's distance from the overall mean in standard
    deviations; each cell is annotated with the mean in original units (shares as %)."""
    import numpy as np

    plt = _pyplot()
    labels = np.asarray(labels)
    ids = sorted(names)
    cols = list(X.columns)[:max_features]
    means = np.array([[X.loc[labels == i, c].mean() for c in cols] for i in ids])
    mu, sd = X[cols].mean().to_numpy(), X[cols].std(ddof=0).replace(0, 1).to_numpy()
    z = (means - mu) / sd
    fig, ax = plt.subplots(figsize=(max(7, 0.55 * len(cols) + 2), 0.6 * len(ids) + 2.5), dpi=110)
    lim = max(1.0, float(np.nanmax(np.abs(z))))
    im = ax.imshow(z, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for r in range(len(ids)):
        for c, col in enumerate(cols):
            v = means[r, c]
            ax.text(c, r, f"{v:.0%}" if "__" in col else f"{v:,.1f}", ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(cols)), [c.replace("__", "=") for c in cols], rotation=70, ha="right", fontsize=7)
    ax.set_yticks(range(len(ids)), [names[i] for i in ids], fontsize=7)
    fig.colorbar(im, ax=ax, label="segment mean − overall mean (SD)")
    ax.set_title("Segment profiles")
    return _save(plt, fig, path)


def pca_plot(Z, labels, names: dict[int, str], path: Path, *, max_points: int = 5000, random_state: int = 0) -> Path:
    """The scaled features projected on their first two principal components, coloured by segment
    (a random sample of `max_points` rows when there are more)."""
    import numpy as np
    from sklearn.decomposition import PCA

    plt = _pyplot()
    Z, labels = np.asarray(Z, dtype=float), np.asarray(labels)
    idx = np.arange(len(Z))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(random_state).choice(len(Z), max_points, replace=False))
    pca = PCA(n_components=min(2, Z.shape[1]), random_state=random_state).fit(Z)
    P = pca.transform(Z[idx])
    if P.shape[1] == 1:
        P = np.column_stack([P[:, 0], np.zeros(len(P))])
    fig, ax = plt.subplots(figsize=(6.5, 5), dpi=110)
    for i in sorted(names):
        m = labels[idx] == i
        ax.scatter(P[m, 0], P[m, 1], s=6, alpha=0.6, label=names[i])
    ev = pca.explained_variance_ratio_
    ax.set(title="Segments on the first two principal components",
           xlabel=f"PC1 ({ev[0]:.0%} of variance)", ylabel=f"PC2 ({ev[1]:.0%})" if len(ev) > 1 else "PC2")
    ax.legend(fontsize=7, markerscale=2)
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def _migration_axes(migration: dict) -> tuple[list, list]:
    """The matrix's rows (previous segments, then None: new) and columns (segments, then None: left)."""
    froms = sorted({c["from"] for c in migration["cells"] if c["from"] is not None})
    tos = sorted({c["to"] for c in migration["cells"] if c["to"] is not None})
    ids = sorted(set(froms) | set(tos))
    has_new = any(c["from"] is None for c in migration["cells"])
    has_left = any(c["to"] is None for c in migration["cells"])
    return ids + ([None] if has_new else []), ids + ([None] if has_left else [])


def migration_heatmap(migration: dict, names: dict[int, str], path: Path) -> Path:
    """The migration matrix (snowseg.clustering.drift): previous segment (rows, and "new") to segment (columns, and
    "left"); colour = the share of the row's customers, each cell annotated with its count."""
    import numpy as np

    plt = _pyplot()
    rows, cols = _migration_axes(migration)
    counts = np.zeros((len(rows), len(cols)))
    for c in migration["cells"]:
        counts[rows.index(c["from"]), cols.index(c["to"])] = c["count"]
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)

    def label(sid, none: str) -> str:
        return none if sid is None else f"{sid} {names.get(sid, '')}"[:40]

    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(cols) + 3), 0.6 * len(rows) + 2.5), dpi=110)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for r in range(len(rows)):
        for c in range(len(cols)):
            if counts[r, c]:
                ax.text(c, r, f"{int(counts[r, c]):,}", ha="center", va="center", fontsize=7,
                        color="white" if share[r, c] > 0.6 else "black")
    ax.set_xticks(range(len(cols)), [label(s, "left") for s in cols], rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)), [label(s, "new") for s in rows], fontsize=7)
    ax.set(xlabel="segment this run", ylabel="segment in the previous run")
    moved = migration.get("moved_share")
    ax.set_title("Migrations" + ("" if moved is None else f": {moved:.1%} of returning customers moved"))
    fig.colorbar(im, ax=ax, label="share of the row's customers")
    return _save(plt, fig, path)


def migration_section(migration: dict, names: dict[int, str], shifts: list[dict], image: str, *,
                      decision: dict | None = None) -> str:
    """The report's "Migrations and drift" section: the refit decision, the matrix as a table (counts and shares
    of the row), the moved share, the heatmap and each segment's centroid shift since the previous run."""
    rows, cols = _migration_axes(migration)
    cell = {(c["from"], c["to"]): c for c in migration["cells"]}

    def head(sid, none: str) -> str:
        return html.escape(none if sid is None else f"{sid} {names.get(sid, '')}")

    body = "".join(
        f"<tr><th style='text-align:left'>{head(f, 'new')}</th>" + "".join(
            (f"<td>{cell[(f, t)]['count']:,} ({cell[(f, t)]['row_share']:.0%})</td>" if (f, t) in cell else "<td></td>")
            for t in cols) + "</tr>" for f in rows)
    heads = "".join(f"<th>{head(t, 'left')}</th>" for t in cols)
    table = f"<table id='migration'><tr><th>previous ↓ / now →</th>{heads}</tr>{body}</table>"
    moved = migration.get("moved_share")
    summary = (f"<p>{migration['total']:,} customers: {migration['stayed']:,} stayed, {migration['moved']:,} moved"
               f"{'' if moved is None else f' ({moved:.1%} of those in both runs)'}, {migration['new']:,} new, "
               f"{migration['left']:,} left.</p>")
    shift_rows = "".join(
        f"<tr><td>{s['segment_id']}</td><td style='text-align:left'>{html.escape(names.get(s['segment_id'], ''))}</td>"
        f"<td>{'new segment' if s['scaled'] is None else format(s['scaled'], '.3f')}</td>"
        f"<td style='text-align:left'>{html.escape(_largest_deltas(s['delta']))}</td></tr>" for s in shifts)
    decided = ""
    if decision is not None:
        drift = "" if decision.get("drift") is None else f"; drift from the last refit {decision['drift']:.3f}"
        decided = (f"<p id='refit-decision'>Refit decision: <b>{html.escape(decision['kind'])}</b> — "
                   f"{html.escape(decision['reason'])}{html.escape(drift)}.</p>")
    return (f"<h2>Migrations and drift</h2>{decided}{summary}{table}"
            f"<figure><img src='{html.escape(image)}' alt='Migration matrix'><figcaption>Migration matrix"
            f"</figcaption></figure><h3>Centroid shift since the previous run</h3><p>Scaled: root mean square over the "
            f"features of the change of the segment's mean, in standard deviations.</p><table id='centroid-shift'>"
            f"<tr><th>id</th><th>name</th><th>scaled shift</th><th>largest changes (original units)</th></tr>"
            f"{shift_rows}</table>")


def _largest_deltas(delta: dict[str, float], n: int = 4) -> str:
    """The features whose mean moved most (by absolute change), as ``FEATURE +1.5``."""
    top = sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:n]
    return ", ".join(f"{f} {v:+,.3g}" for f, v in top)


def _over(p: SegmentProfile) -> str:
    return ", ".join(f"{o['value']} ×{o['index']:.2f}" for o in p.over_index[:3])


def rules_section(profiles: list[SegmentProfile]) -> str:
    """The run's readable rules per segment (:mod:`snowseg.clustering.rules`), escaped HTML; empty without rules.

    Examples
    --------
    >>> from snowseg.clustering.profiles import SegmentProfile
    >>> p = SegmentProfile(0, "Active <repeat>", 10, 0.5, None, rule_accuracy=0.96, rule_recall=0.9,
    ...                    rules_fidelity=0.93, rules=[{"text": "Recency ≤ 60 days", "covers": 9, "correct": 9,
    ...                                                 "precision": 1.0, "recall": 0.9}])
    >>> html_ = rules_section([p])
    >>> "Recency ≤ 60 days → Active &lt;repeat&gt;" in html_, "93%" in html_
    (True, True)
    """
    if not any(p.rules_fidelity is not None for p in profiles):
        return ""
    fidelity = next(p.rules_fidelity for p in profiles if p.rules_fidelity is not None)
    rows = []
    for p in profiles:
        if not p.rules:
            rows.append(f"<tr><td>{p.segment_id}</td><td style='text-align:left' colspan='4'>no rule of its own "
                        f"({html.escape(p.name)}: the shallow tree gives it no leaf)</td></tr>")
        for r in p.rules:
            precision = "" if r.get("precision") is None else f"{r['precision']:.0%}"
            rows.append(f"<tr><td>{p.segment_id}</td><td style='text-align:left'>{html.escape(r['text'])} → "
                        f"{html.escape(p.name)}</td><td>{r['covers']:,}</td><td>{precision}</td>"
                        f"<td>{r['recall']:.0%}</td></tr>")
        if len(p.rules) > 1 and p.rule_accuracy is not None:
            rows.append(f"<tr><td>{p.segment_id}</td><td style='text-align:left'>any of these</td><td></td>"
                        f"<td>{p.rule_accuracy:.0%}</td><td>{(p.rule_recall or 0):.0%}</td></tr>")
    return (f"<h2 id='rules'>Rules</h2><p>A shallow decision tree over the original features approximates the "
            f"segments; it puts {fidelity:.0%} of the rows in their segment (fidelity). Per rule: the customers "
            "it covers, the share of them in the segment (correct) and the share of the segment it covers. "
            "Thresholds are rounded for reading; the figures count the rules as shown.</p>"
            "<table class='rules'><tr><th>id</th><th>rule</th><th>covers</th><th>correct</th><th>of the segment</th>"
            f"</tr>{''.join(rows)}</table>")


def write_report(run_dir: Path, *, model_run_id: str, k: int, k_reason: str, snapshot: dict,
                 profiles: list[SegmentProfile], images: dict[str, str], amount_label: str,
                 links: dict[str, str] | None = None, scores: list | None = None,
                 warnings: list[str] | None = None, details: dict | None = None,
                 migration_html: str = "") -> Path:
    """A self-contained index.html linking the run's PNGs, its segment table and the k decision."""
    def num(v, fmt):
        return "" if v is None else format(v, fmt)

    rows = "\n".join(
        f"<tr><td>{p.segment_id}</td><td style='text-align:left'>{html.escape(p.name)}</td><td>{p.size}</td>"
        f"<td>{p.share:.1%}</td><td>{num(p.mean_amount, ',.2f')}</td><td>{num(p.stability, '.2f')}</td>"
        f"<td style='text-align:left'>{html.escape(p.stability_band or '')}</td>"
        f"<td>{num(p.mean_confidence, '.2f')}</td>"
        f"<td style='text-align:left'>{html.escape(_over(p))}</td></tr>"
        for p in profiles
    )
    score_rows = "\n".join(
        f"<tr><td>{s.k}</td><td>{s.inertia:,.1f}</td><td>{num(s.silhouette, '.3f')}</td>"
        f"<td>{num(s.stability, '.3f')}</td></tr>" for s in (scores or [])
    )
    scores_html = (f"<h2>Scores by k</h2><table><tr><th>k</th><th>inertia</th><th>silhouette</th>"
                   f"<th>stability</th></tr>{score_rows}</table>") if scores else ""
    warn_html = "".join(f'<p class="warn">⚠ {html.escape(w)}</p>' for w in (warnings or []))
    details_html = "".join(f"<li>{html.escape(k_)}: {html.escape(str(v))}</li>" for k_, v in (details or {}).items())
    figs = "\n".join(
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(title)}">'
        f'<figcaption>{html.escape(title)}</figcaption></figure>'
        for title, src in images.items()
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Snowseg run {html.escape(model_run_id)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}img{{max-width:100%}}
.warn{{background:#fde2e1;border-left:4px solid #d1495b;padding:6px 10px}}</style></head>
<body><h1>Snowseg run {html.escape(model_run_id)}</h1>
{warn_html}
<p>k = {k}: {html.escape(k_reason)}</p>
<p>{snapshot['row_count']} rows, newest load {html.escape(str(snapshot['max_loaded_at']))}.</p>
<ul>{details_html}</ul>
<h2>Segments</h2>
<p>Stability: mean Jaccard of each segment with its best match over the ensemble's runs (clusterboot:
≥ 0.85 highly stable, ≥ 0.75 stable, ≤ 0.5 dissolved). Confidence: share of runs that put a row in its
segment. Over-indexes on: values whose share in the segment is ×index their share overall.</p>
<table><tr><th>id</th><th>name</th><th>size</th><th>share</th><th>mean {html.escape(amount_label)}</th>
<th>stability</th><th>band</th><th>mean confidence</th><th>over-indexes on</th></tr>
{rows}
</table>
{migration_html}
{rules_section(profiles)}
{scores_html}
<h2>Pictures</h2>
{figs}
{"".join(f'<p><a href="{html.escape(href)}">{html.escape(label)}</a></p>' for label, href in (links or {}).items())}
</body></html>
"""
    run_dir.mkdir(parents=True, exist_ok=True)
    out = run_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    publish(run_dir)  # with an s3:// report base: the pictures and the page, copied there
    return out


#: Marks the cost section of a run report, so that writing it again replaces it.
_COST_START, _COST_END = "<!-- snowseg:cost -->", "<!-- /snowseg:cost -->"


def add_cost_section(run_dir: Path, *, model_run_id: str, queries: int, elapsed_s: float, execution_s: float,
                     warehouse_credits: float, cloud_services_credits: float, note: str) -> Path:
    """Add (or replace) the "Cost" section of a run's index.html: the model run's queries, elapsed and execution
    seconds and credits (an estimate, `note` says how), read from the query history after publishing (the
    summarise step); then copy the folder to an ``s3://`` report base as :func:`write_report` does."""
    index = run_dir / "index.html"
    page = index.read_text(encoding="utf-8")
    start, end = page.find(_COST_START), page.find(_COST_END)
    if start != -1 and end != -1:
        page = page[:start] + page[end + len(_COST_END):]
    total = warehouse_credits + cloud_services_credits
    section = (f"{_COST_START}<h2 id=\"cost\">Cost</h2>\n<p>Model run {html.escape(model_run_id)}: {queries} queries, "
               f"{elapsed_s:,.1f} s elapsed, {execution_s:,.1f} s executing; <b>{total:.5f}</b> credits "
               f"({warehouse_credits:.5f} warehouse, {cloud_services_credits:.5f} cloud services).</p>\n"
               f"<p class=\"note\">Credits are an {html.escape(note)}. From Snowflake's query history by query tag, "
               f"up to publishing.</p>{_COST_END}\n")
    page = page.replace("</body>", section + "</body>", 1)
    index.write_text(page, encoding="utf-8")
    publish(run_dir)
    return index
