"""Plots and the HTML run report: elbow curve now; stability and profiles join as they land."""

from __future__ import annotations

import html
import os
from pathlib import Path

from snowseg.clustering.profiles import SegmentProfile
from snowseg.clustering.selection import ElbowPoint


def report_root() -> Path:
    """Where run reports go: SNOWSEG_REPORT_DIR, else $AIRFLOW_HOME/snowseg_reports, else ./reports."""
    if d := os.environ.get("SNOWSEG_REPORT_DIR"):
        return Path(d)
    if h := os.environ.get("AIRFLOW_HOME"):
        return Path(h) / "snowseg_reports"
    return Path("reports")


def elbow_plot(points: list[ElbowPoint], chosen_k: int, path: Path) -> Path:
    """Inertia by k with the chosen k marked (and silhouette on a second axis); saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [p.k for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(ks, [p.inertia for p in points], marker="o", color="#1f5f8b", label="inertia (k-means++)")
    chosen = [p for p in points if p.k == chosen_k]
    if chosen:
        ax.scatter([chosen_k], [chosen[0].inertia], s=180, facecolors="none", edgecolors="#d1495b", linewidths=2,
                   label=f"chosen k = {chosen_k}", zorder=3)
    ax.set_xlabel("k (number of segments)")
    ax.set_ylabel("inertia (within-cluster sum of squares, scaled features)")
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    sil = [(p.k, p.silhouette) for p in points if p.silhouette is not None]
    if sil:
        ax2 = ax.twinx()
        ax2.plot([k for k, _ in sil], [s for _, s in sil], marker="s", linestyle="--", color="#edae49", label="silhouette")
        ax2.set_ylabel("silhouette")
        lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
        ax.legend(lines, labels, loc="upper right")
    else:
        ax.legend(loc="upper right")
    ax.set_title("Elbow curve")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(run_dir: Path, *, model_run_id: str, k: int, k_reason: str, snapshot: dict,
                 profiles: list[SegmentProfile], images: dict[str, str], amount_label: str,
                 links: dict[str, str] | None = None) -> Path:
    """A self-contained index.html linking the run's PNGs and its segment table."""
    rows = "\n".join(
        f"<tr><td>{p.segment_id}</td><td>{html.escape(p.name)}</td><td>{p.size}</td><td>{p.share:.1%}</td>"
        f"<td>{'' if p.mean_amount is None else f'{p.mean_amount:,.2f}'}</td></tr>"
        for p in profiles
    )
    figs = "\n".join(
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(title)}"><figcaption>{html.escape(title)}</figcaption></figure>'
        for title, src in images.items()
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Snowseg run {html.escape(model_run_id)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}img{{max-width:100%}}</style></head>
<body><h1>Snowseg run {html.escape(model_run_id)}</h1>
<p>k = {k} ({html.escape(k_reason)}); {snapshot['row_count']} rows, newest load {html.escape(str(snapshot['max_loaded_at']))}.</p>
<h2>Segments</h2>
<table><tr><th>id</th><th>name</th><th>size</th><th>share</th><th>mean {html.escape(amount_label)}</th></tr>
{rows}
</table>
<h2>Pictures</h2>
{figs}
{"".join(f'<p><a href="{html.escape(href)}">{html.escape(label)}</a></p>' for label, href in (links or {}).items())}
</body></html>
"""
    run_dir.mkdir(parents=True, exist_ok=True)
    out = run_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    return out
