"""The quality gate's run report: verdicts, one row per rule (GX's results) and the batch's pictures.

Every value from the data or from GX is HTML-escaped; the page has no script.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from snowseg.report import publish


def write_quality_report(out_dir: Path, *, run_id: str, verdicts: list, pictures_html: str = "",
                         history: list[tuple] | None = None) -> Path:
    """Write ``out_dir/index.html`` for one gate run; return its path.

    Parameters
    ----------
    out_dir : Path
        The run's quality folder (the pictures live below it).
    run_id : str
    verdicts : list of snowseg.quality.gate.BatchVerdict
    pictures_html : str
        An HTML fragment with the pictures (``snowseg.quality.eda.eda_html``).
    history : list of tuple, optional
        Earlier verdicts (batch, status, rows, quarantined, failed rules, run, checked at), shown below.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    verdict_rows = "\n".join(
        f"<tr class='{v.status.lower()}'><td>{html.escape(v.batch_id)}</td><td>{v.status}</td><td>{v.rows}</td>"
        f"<td>{v.quarantined}</td><td>{html.escape(', '.join(r.rule.name for r in v.failed_errors) or '-')}</td>"
        f"<td>{html.escape(', '.join(r.rule.name for r in v.failed_warnings) or '-')}</td></tr>"
        for v in verdicts
    )
    rule_rows = "\n".join(
        f"<tr class='{'ok' if r.success else r.rule.severity}'><td>{html.escape(v.batch_id)}</td>"
        f"<td>{html.escape(r.rule.name)}</td><td>{html.escape(r.rule.severity)}</td>"
        f"<td>{'pass' if r.success else 'FAIL'}</td><td>{'' if r.unexpected_count is None else r.unexpected_count}</td>"
        f"<td>{html.escape(_short(r.observed_value))}</td></tr>"
        for v in verdicts for r in v.results
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Snowseg quality gate {html.escape(run_id)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse;margin-bottom:1em}}
td,th{{border:1px solid #ccc;padding:3px 8px}}tr.held td,tr.error td{{background:#fdd}}tr.warn td{{background:#ffd}}
img{{max-width:100%}}</style></head>
<body><h1>Quality gate, run {html.escape(run_id)}</h1>
<h2>Batches</h2>
<table><tr><th>batch</th><th>verdict</th><th>rows</th><th>quarantined</th><th>failed error rules</th>
<th>warnings</th></tr>
{verdict_rows or "<tr><td colspan=6>no new batches</td></tr>"}
</table>
<h2>Every rule</h2>
<table><tr><th>batch</th><th>rule</th><th>severity</th><th>result</th><th>unexpected rows</th><th>observed</th></tr>
{rule_rows}
</table>
{_history(history)}
{pictures_html}
</body></html>
"""
    out = out_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    publish(out_dir)  # with an s3:// report base (SNOWSEG_REPORT_DIR): the page and its pictures, copied there
    return out


def _history(history: list[tuple] | None) -> str:
    if not history:
        return ""
    rows = "\n".join("<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in h) + "</tr>"
                     for h in history)
    return ("<h2>Verdicts so far</h2><table><tr><th>batch</th><th>verdict</th><th>rows</th><th>quarantined</th>"
            f"<th>failed error rules</th><th>run</th><th>checked at</th></tr>\n{rows}</table>")


def _short(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
