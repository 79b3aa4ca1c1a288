"""What every published run shows of its readable rules (snowseg.clustering.rules): rows in SEGMENT_PROFILES and the
rules, with their figures, in the run's HTML report. Shared by the seed, order-line and customer-table tests."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from tests.integration.conftest import query


def published_rules(sf, database: str, model_run_id: str | None = None) -> dict[int, dict]:
    """The rules columns of a run's profiles (the latest published run by default), by segment id."""
    a = f"{database}.ANALYTICS"
    if model_run_id is None:
        ((model_run_id,),) = query(sf, f"select MODEL_RUN_ID from {a}.MODEL_RUNS order by PUBLISHED_AT desc limit 1")
    rows = query(sf, f"select SEGMENT_ID, SEGMENT_NAME, RULES, RULE_ACCURACY, RULE_RECALL, RULES_FIDELITY "
                     f"from {a}.SEGMENT_PROFILES where MODEL_RUN_ID = %(id)s order by SEGMENT_ID", {"id": model_run_id})
    return {sid: {"name": name, "rules": json.loads(rules), "accuracy": acc, "recall": rec, "fidelity": fid,
                  "model_run_id": model_run_id} for sid, name, rules, acc, rec, fid in rows}


def assert_rules_shown(sf, database: str, *, min_fidelity: float, min_accuracy: float) -> dict[int, dict]:
    """Every segment of the latest run has rules in SEGMENT_PROFILES whose figures add up, the run's fidelity is at
    least `min_fidelity`, each segment's rules together are right for at least `min_accuracy` of the customers they
    cover, and the report shows each rule (escaped) with its segment and figures."""
    profiles = published_rules(sf, database)
    assert profiles, "no profiles published"
    fidelities = {p["fidelity"] for p in profiles.values()}
    assert len(fidelities) == 1 and min_fidelity <= fidelities.pop() <= 1, profiles
    for sid, p in profiles.items():
        assert p["rules"], f"segment {sid} ({p['name']}) has no rule"
        assert p["accuracy"] >= min_accuracy and 0 < p["recall"] <= 1, (sid, p)
        for r in p["rules"]:
            assert r["segment_id"] == sid and 0 < r["correct"] <= r["covers"] and r["conditions"], r
            assert r["precision"] == round(r["correct"] / r["covers"], 4)
    run_id = next(iter(profiles.values()))["model_run_id"]
    page = (Path(os.environ["SNOWSEG_REPORT_DIR"]) / run_id / "index.html").read_text(encoding="utf-8")
    assert "<h2 id='rules'>Rules</h2>" in page
    for p in profiles.values():
        for r in p["rules"]:
            assert f"{html.escape(r['text'])} → {html.escape(p['name'])}</td><td>{r['covers']:,}</td>" \
                   f"<td>{r['precision']:.0%}</td>" in page, r["text"]
    return profiles
