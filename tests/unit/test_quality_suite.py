"""The suite derived from a contract: which rules, which severities, and clear errors for bad contract rules."""

from __future__ import annotations

import pytest
import yaml

from snowseg.config import ContractError, load_contract
from snowseg.quality.suite import Rule, contract_rules, identity_sql, to_gx

NOW = dict(today="2026-11-27", now="2026-11-27 12:00:00")


def test_supermarket_rules_cover_the_issue_list():
    rules = {r.name: r for r in contract_rules(load_contract(), expected_rows=10, **NOW)}
    for name in ("schema:columns", "not_null:INVOICE_ID", "unique:INVOICE_ID", "value_set:BRANCH",
                 "value_set:PRODUCT_LINE", "range:QUANTITY", "range:RATING", "range:UNIT_PRICE",
                 "date_window:SALE_DATE", "identity:tax_is_5_pct_of_cogs", "identity:total_is_cogs_plus_tax",
                 "identity:cogs_is_unit_price_times_quantity", "identity:gross_income_is_tax",
                 "contract:expect_column_values_to_be_between:GROSS_MARGIN_PCT",
                 "batch:row_count_equals_load_audit", "batch:freshness"):
        assert name in rules, name
    assert rules["range:UNIT_PRICE"].kwargs == {"column": "UNIT_PRICE", "min_value": 0, "strict_min": True}
    assert rules["date_window:SALE_DATE"].kwargs["max_value"] == "2026-11-27T23:59:59"
    assert rules["batch:freshness"].severity == "warn" and not rules["batch:freshness"].row_level
    assert rules["range:QUANTITY"].row_level and not rules["schema:columns"].row_level


def test_another_schema_gets_the_generic_checks():
    """The customers contract adds an entity column: it must not be null; identities and ranges carry over."""
    names = {r.name for r in contract_rules(load_contract("supermarket_customers"), expected_rows=None, **NOW)}
    assert "not_null:CUSTOMER_ID" in names and "identity:total_is_cogs_plus_tax" in names
    assert "batch:row_count_equals_load_audit" not in names  # no LOAD_AUDIT count known


def test_every_rule_builds_a_gx_expectation():
    for rule in contract_rules(load_contract(), expected_rows=10, **NOW):
        assert to_gx(rule).meta == {"name": rule.name, "severity": rule.severity}


def test_unknown_expectation_type_is_a_clear_error():
    with pytest.raises(ValueError, match="'expect_column_to_be_purple' is not a GX expectation type"):
        to_gx(Rule("x", "expect_column_to_be_purple", {"column": "A"}, "error", "A"))


def test_identity_residuals_are_computed_in_sql():
    assert "abs((TOTAL) - (COGS + TAX_5_PCT)) as _ID_TOTAL_IS_COGS_PLUS_TAX" in identity_sql(load_contract())


def _contract_with(tmp_path, quality: dict):
    base = yaml.safe_load(load_contract().source.read_text())
    base["quality"] = quality
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(base))
    return path


@pytest.mark.parametrize(("quality", "message"), [
    ({"identities": [{"name": "x", "left": "TOTAL; drop table T", "right": "COGS"}]}, "use columns, numbers"),
    ({"identities": [{"name": "x", "left": "TOTALS", "right": "COGS"}]}, "'TOTALS' is not a contract column"),
    ({"ranges": {"NOPE": {"min": 1}}}, "'NOPE' is not a contract column"),
    ({"expectations": [{"kwargs": {}}]}, "missing 'type'"),
    ({"expectations": [{"type": "expect_column_values_to_not_be_null", "severity": "fatal"}]}, "severity 'fatal'"),
    ({"strategy": "pandas"}, r"quality.strategy: 'pandas' is unknown; allowed: \['sql', 'fetch'\]"),
    ({"picture_rows": 0}, "quality.picture_rows: 0 is not a whole number of at least 1"),
])
def test_bad_quality_section_names_the_entry(tmp_path, quality, message):
    with pytest.raises(ContractError, match=message):
        load_contract(_contract_with(tmp_path, quality))


def test_expectations_added_in_yaml_reach_the_suite(tmp_path):
    contract = load_contract(_contract_with(tmp_path, {"expectations": [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "INVOICE_ID", "regex": r"^\d{3}-\d{2}-\d{4}$"},
         "severity": "warn"}]}))
    (rule,) = [r for r in contract_rules(contract, expected_rows=None, **NOW) if r.name.startswith("contract:")]
    assert (rule.type, rule.severity, rule.row_level) == ("expect_column_values_to_match_regex", "warn", True)
