"""The docs cannot go stale: generated parts equal their generators, settings are complete, links resolve.

- docs/configuration.md holds exactly the tables ``snowseg.settings`` and ``snowseg_twin.settings`` render;
- every ``SNOWSEG_*`` name in the shipped code (include/, dags/, plugins/) is a setting or a named
  Snowflake object, and every ``SNOWSEG_*`` variable the dev stack, the benchmarks and the tests read is a
  setting of one of the two tables;
- docs/benchmarks.md is what bench/render.py renders from bench/results/;
- every relative link in README.md and docs/*.md points to a file that exists (and a heading that exists,
  when it names one).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from snowseg import settings
from snowseg_twin import settings as twin_settings

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
NAME = re.compile(r"SNOWSEG_[A-Z0-9_]*")

#: ``SNOWSEG_*`` names in the shipped code that are not environment variables: Snowflake objects that
#: admin_setup.sql and the migrations create (role, warehouse, service and admin users, integration, stages,
#: file format), the smoke suite's database prefix and its doctest example, and the settings module's own
#: examples.
NOT_SETTINGS = frozenset({
    "SNOWSEG_ROLE", "SNOWSEG_WH", "SNOWSEG_SVC", "SNOWSEG_ADMIN", "SNOWSEG_S3_INT", "SNOWSEG_BULK",
    "SNOWSEG_LANDING", "SNOWSEG_WRITEBACK", "SNOWSEG_WRITEBACK_CSV", "SNOWSEG_SMOKE_", "SNOWSEG_SMOKE_0A1B2C3D",
    "SNOWSEG_", "SNOWSEG_NO_SUCH_SETTING", "SNOWSEG_X",
})

#: How code reads an environment variable: os.environ.get / [] / setdefault / pop, os.getenv, settings.get,
#: a NAME_ENV = "..." constant, or a Makefile/compose assignment.
READ = re.compile(r"""(?:environ(?:\.get|\.setdefault|\.pop)?\s*[\[(]\s*|getenv\(\s*"""
                  r"""|settings\.(?:get|value|path_list)\(\s*|_ENV\s*=\s*|\bENV\s*=\s*)["'](SNOWSEG_[A-Z0-9_]+)["']""")


def _sources(*folders: str, suffixes: tuple[str, ...] = (".py", ".sql", ".yaml", ".yml")) -> list[Path]:
    return [p for f in folders for p in sorted((REPO / f).rglob("*")) if p.suffix in suffixes and p.is_file()]


def _between(text: str, marker: str) -> str:
    begin, end = f"<!-- {marker}:begin -->\n", f"\n<!-- {marker}:end -->"
    assert begin in text and end in text, f"docs/configuration.md lost its {marker} markers"
    return text[text.index(begin) + len(begin):text.index(end)]


def test_configuration_md_holds_the_generated_tables():
    text = (DOCS / "configuration.md").read_text()
    assert _between(text, "settings") == settings.markdown_table(), (
        "docs/configuration.md differs from snowseg.settings: paste `python -m snowseg.settings --markdown`")
    assert _between(text, "twin-settings") == twin_settings.markdown_table(), (
        "docs/configuration.md differs from snowseg_twin.settings: paste `python -m snowseg_twin.settings`")


def test_every_snowseg_name_in_shipped_code_is_a_setting_or_an_object():
    unknown = {}
    for path in _sources("include", "dags", "plugins"):
        for name in set(NAME.findall(path.read_text())) - set(settings.SETTINGS) - NOT_SETTINGS:
            unknown.setdefault(name, str(path.relative_to(REPO)))
    assert not unknown, f"add these to snowseg.settings.SETTINGS (or to NOT_SETTINGS if an object): {unknown}"


def test_every_variable_read_anywhere_is_in_a_settings_table():
    known = set(settings.SETTINGS) | set(twin_settings.TWIN_SETTINGS)
    read = {}
    for path in [*_sources("include", "dags", "plugins", "devstack", "bench", "tests"),
                 REPO / "Makefile", REPO / "docker-compose.yaml"]:
        for name in READ.findall(path.read_text()):
            read.setdefault(name, str(path.relative_to(REPO)))
    assert "SNOWSEG_ALERTS_FILE" in read and "SNOWSEG_TWIN_PORT" in read  # the pattern sees both kinds of read
    unknown = {n: p for n, p in read.items() if n not in known and n != "SNOWSEG_PROBE_SECRET"}  # a test's fake secret
    assert not unknown, f"read but in no settings table (snowseg.settings or snowseg_twin.settings): {unknown}"


def test_settings_tables_do_not_overlap():
    assert not set(settings.SETTINGS) & set(twin_settings.TWIN_SETTINGS)


def _render_module():
    spec = importlib.util.spec_from_file_location("bench_render", REPO / "bench" / "render.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_benchmarks_md_is_rendered_from_bench_results():
    render = _render_module()
    assert (DOCS / "benchmarks.md").read_text() == render.render(REPO / "bench" / "results"), (
        "docs/benchmarks.md is out of date with bench/results/: run `make bench-docs`")


def test_render_is_generic_over_results(tmp_path: Path):
    render = _render_module()
    (tmp_path / "bench_new.json").write_text('{"machine": {"cores": 2}, "date": "2026-12-05", '
                                             '"table": [{"rows": 1000, "path": "a|b", "median_s": 0.5}, '
                                             '{"rows": 2000, "path": "c"}]}')
    text = render.render(tmp_path)
    assert "## bench_new\n" in text and "Machine: 2 cores; measured 2026-12-05." in text
    assert "| rows | path | median_s |\n|---:|---|---:|\n| 1,000 | a\\|b | 0.5 |\n| 2,000 | c | – |" in text
    assert "No results in `bench/results/bench_loads.json` yet" in text  # a known bench without results


class Link(NamedTuple):
    source: str
    target: str


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file (code fences skipped)."""
    anchors, fenced = set(), False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6}\s+(.*)", line)):
            title = m.group(1).strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def _links() -> list[Link]:
    links = []
    for doc in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if not re.match(r"[a-z]+:", target):
                links.append(Link(str(doc.relative_to(REPO)), target))
    return links


@pytest.mark.parametrize("link", _links(), ids=lambda link: f"{link.source}->{link.target}")
def test_relative_links_resolve(link: Link):
    path, _, anchor = link.target.partition("#")
    source = REPO / link.source
    target = (source.parent / path).resolve() if path else source
    assert target.exists(), f"{link.source} links to {link.target}, which does not exist"
    if anchor and target.suffix == ".md":
        assert anchor in _anchors(target), f"{link.source} links to #{anchor}, not a heading of {target.name}"


def test_readme_is_a_five_minute_read():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert "make demo    # " in text and "make test    # " in text
