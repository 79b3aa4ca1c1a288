"""FeatureTransformer on tiny hand-computed frames, and the shape of the nearest-centroid SQL built from it."""

from __future__ import annotations

import json
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from snowseg.clustering.selection import BlockStandardScaler
from snowseg.clustering.sql_assign import argmin_case, assignment_sql
from snowseg.clustering.transform import FeatureTransformer
from snowseg.features import onehot_groups

# money-like TOTAL (right-skewed, >= 0), a signed column, a rating, one one-hot block of width 3
FRAME = pd.DataFrame({
    "TOTAL": [10.0, 12.0, 15.0, 11.0, 400.0, 13.0, 9.0, 950.0],
    "DELTA": [-5.0, 1.0, 2.0, 0.0, 300.0, 1.0, 2.0, 900.0],
    "RATING": [4.0, 5.5, 7.0, 9.1, 6.0, 8.0, 5.0, 7.5],
    "BRANCH__A": [1, 0, 0, 1, 0, 0, 1, 0],
    "BRANCH__B": [0, 1, 0, 0, 1, 0, 0, 1],
    "BRANCH__C": [0, 0, 1, 0, 0, 1, 0, 0],
})
GROUPS = onehot_groups(FRAME.columns)  # [[3, 4, 5]]


def test_fit_transform_inverse_round_trip():
    t = FeatureTransformer(groups=GROUPS).fit(FRAME)
    Z = t.transform(FRAME)
    assert Z.dtype == float and Z.shape == FRAME.shape
    np.testing.assert_allclose(t.inverse_transform(Z), FRAME.to_numpy(float), rtol=1e-12, atol=1e-9)
    assert list(t.feature_names_in_) == list(FRAME.columns) and t.n_features_in_ == 6
    assert list(t.get_feature_names_out()) == list(FRAME.columns)


def test_transform_selects_columns_by_name_and_ignores_others():
    t = FeatureTransformer(columns=["RATING", "TOTAL"]).fit(FRAME)
    shuffled = FRAME[["BRANCH__A", "TOTAL", "RATING"]]
    np.testing.assert_array_equal(t.transform(shuffled), t.transform(FRAME[["RATING", "TOTAL"]].to_numpy()))
    assert list(t.feature_names_in_) == ["RATING", "TOTAL"]


def test_auto_log_picks_the_skewed_money_column_only():
    """TOTAL and DELTA are both skewed (> 1), but DELTA has a negative value; one-hot columns never log."""
    assert FRAME["TOTAL"].skew() > 1 and FRAME["DELTA"].skew() > 1
    assert FRAME["BRANCH__C"].skew() > 1  # skewed and >= 0, yet excluded as one-hot
    t = FeatureTransformer(groups=GROUPS, skew_threshold=0.5).fit(FRAME)
    assert t.log_columns_ == ["TOTAL"]
    z = t.transform(FRAME)[:, 0]
    logged = np.log1p(FRAME["TOTAL"].to_numpy())
    np.testing.assert_allclose(z, (logged - logged.mean()) / logged.std())
    # without groups the 0/1 columns are plain numeric columns, and the skewed ones are logged too
    assert FeatureTransformer(skew_threshold=1.0).fit(FRAME).log_columns_ == ["TOTAL", "BRANCH__C"]
    # a high threshold logs nothing; an explicit list logs exactly it
    assert FeatureTransformer(skew_threshold=10).fit(FRAME).log_columns_ == []
    assert FeatureTransformer(log_columns=["RATING"]).fit(FRAME).log_columns_ == ["RATING"]


class ScaleCase(NamedTuple):
    scaling: str
    values: list[float]
    center: float
    scale: float


SCALE_CASES = [
    # mean 3, population std sqrt(((2^2)*2 + 1 + 1 + 0)/5) = sqrt(2)
    pytest.param(ScaleCase("standard", [1, 2, 3, 4, 5], 3.0, np.sqrt(2.0)), id="standard"),
    # median 3, IQR = q75 - q25 = 4 - 2 = 2, whatever the outlier
    pytest.param(ScaleCase("robust", [1, 2, 3, 4, 500], 3.0, 2.0), id="robust"),
    # IQR 0 (mostly one value): falls back to the std, sqrt(((100 - 20)^2 + 4 * 20^2) / 5) = 40
    pytest.param(ScaleCase("robust", [0, 0, 0, 0, 100], 0.0, 40.0), id="robust-iqr-0-uses-std"),
    # a constant column is only centred
    pytest.param(ScaleCase("standard", [7, 7, 7], 7.0, 1.0), id="standard-constant"),
    pytest.param(ScaleCase("robust", [7, 7, 7], 7.0, 1.0), id="robust-constant"),
]


@pytest.mark.parametrize("case", SCALE_CASES)
def test_scaling_center_and_scale(case):
    t = FeatureTransformer(log_columns=[], scaling=case.scaling).fit(pd.DataFrame({"A": case.values}))
    assert (t.center_[0], t.scale_[0]) == pytest.approx((case.center, case.scale))


def test_robust_differs_from_standard_on_an_outlier():
    X = pd.DataFrame({"A": [1.0, 2.0, 3.0, 4.0, 500.0]})
    robust = FeatureTransformer(log_columns=[], scaling="robust").fit_transform(X)[:, 0]
    standard = FeatureTransformer(log_columns=[], scaling="standard").fit_transform(X)[:, 0]
    assert robust.tolist() == [-1.0, -0.5, 0.0, 0.5, 248.5]
    assert abs(standard[:4]).max() < 0.6  # the outlier squashes the others together


def test_to_dict_from_dict_gives_the_identical_transform():
    t = FeatureTransformer(groups=GROUPS, skew_threshold=0.5, scaling="robust").fit(FRAME)
    d = json.loads(json.dumps(t.to_dict()))
    u = FeatureTransformer.from_dict(d)
    assert np.array_equal(u.transform(FRAME), t.transform(FRAME))
    assert u.sql_expressions() == t.sql_expressions()
    assert u.to_dict() == d and u.groups_ == [["BRANCH__A", "BRANCH__B", "BRANCH__C"]]
    assert u.get_params() == {**t.get_params(), "groups": [["BRANCH__A", "BRANCH__B", "BRANCH__C"]]}


def test_from_dict_rejects_what_is_not_a_transformer():
    d = FeatureTransformer().fit(FRAME).to_dict()
    with pytest.raises(ValueError, match="not a FeatureTransformer description"):
        FeatureTransformer.from_dict({"center": []})
    with pytest.raises(ValueError, match="version 99; this code reads 1 and 2"):
        FeatureTransformer.from_dict({**d, "version": 99})
    with pytest.raises(ValueError, match=r"\['scale'\] must be 6 finite numbers"):
        FeatureTransformer.from_dict({**d, "scale": d["scale"][:2]})


def test_groups_give_each_onehot_block_total_variance_category_weight():
    """Standardised, a block of width w weighted sqrt(c / w) has total variance c: 0.5 by default (half a
    numeric column, so one binary column cannot outbid every numeric one), 1 with category_weight=1."""
    X = pd.DataFrame([[0.0, 1, 0, 0, 0], [2.0, 0, 1, 0, 0], [0.0, 0, 0, 1, 0], [2.0, 0, 0, 0, 1]],
                     columns=["TOTAL", "P__A", "P__B", "P__C", "P__D"])
    Z = FeatureTransformer(log_columns=[], groups=[["P__A", "P__B", "P__C", "P__D"]]).fit_transform(X)
    assert [round(float(v), 3) for v in Z.var(axis=0)] == [1.0, 0.125, 0.125, 0.125, 0.125]
    assert Z[:, 1:].var(axis=0).sum() == pytest.approx(0.5)
    # category_weight=1 gives BlockStandardScaler's numbers (version 1 of the transform), groups given by position
    expected = BlockStandardScaler(groups=GROUPS).fit_transform(FRAME.to_numpy(float))
    got = FeatureTransformer(log_columns=[], groups=GROUPS, category_weight=1.0).fit_transform(FRAME)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got[:, 3:].var(axis=0).sum(), 1.0)
    half = FeatureTransformer(log_columns=[], groups=GROUPS).fit_transform(FRAME)
    np.testing.assert_allclose(half[:, :3], expected[:, :3], rtol=1e-12)  # numeric columns are untouched
    np.testing.assert_allclose(half[:, 3:], expected[:, 3:] * np.sqrt(0.5), rtol=1e-12)


def test_a_version_1_description_still_reads_with_its_weights():
    t = FeatureTransformer(groups=GROUPS, category_weight=1.0).fit(FRAME)
    d = t.to_dict()
    old = {**d, "version": 1, "params": {k: v for k, v in d["params"].items() if k != "category_weight"}}
    u = FeatureTransformer.from_dict(old)
    assert u.category_weight == 1.0 and np.array_equal(u.transform(FRAME), t.transform(FRAME))


class ErrorCase(NamedTuple):
    params: dict
    X: object
    error: type
    match: str


ERROR_CASES = [
    pytest.param(ErrorCase({"scaling": "minmax"}, FRAME, ValueError,
                           r"scaling='minmax' is not supported; use one of \['standard', 'robust'\]"), id="unknown-scaling"),
    pytest.param(ErrorCase({"log_columns": "all"}, FRAME, ValueError, "log_columns='all': use 'auto' or a list"),
                 id="bad-log-columns"),
    pytest.param(ErrorCase({"log_columns": ["NOPE"]}, FRAME, ValueError, r"log_columns \['NOPE'\] are not feature columns"),
                 id="unknown-log-column"),
    pytest.param(ErrorCase({"log_columns": ["DELTA"]}, FRAME, ValueError,
                           r"log_columns \['DELTA'\] have negative values; log1p needs values >= 0"), id="negative-log-column"),
    pytest.param(ErrorCase({"skew_threshold": "high"}, FRAME, ValueError, "skew_threshold='high': use a finite number"),
                 id="bad-threshold"),
    pytest.param(ErrorCase({"groups": [["BRANCH__A", "NOPE"]]}, FRAME, ValueError,
                           "groups refers to column 'NOPE', which is not a feature column"), id="unknown-group-column"),
    pytest.param(ErrorCase({"groups": [[3, 9]]}, FRAME, ValueError,
                           "groups refers to column position 9, but there are 6 features"), id="group-position-out-of-range"),
    pytest.param(ErrorCase({"groups": [[3, 4], ["BRANCH__B", "BRANCH__C"]]}, FRAME, ValueError,
                           r"columns \['BRANCH__B'\] are in more than one block"), id="overlapping-groups"),
    pytest.param(ErrorCase({"columns": ["TOTAL", "NOPE"]}, FRAME, ValueError, r"fit: X has no columns \['NOPE'\]"),
                 id="missing-column-at-fit"),
    pytest.param(ErrorCase({}, FRAME.assign(CITY=["Yangon"] * 8), ValueError,
                           r"fit: columns \{'CITY': 'object'\} are not numeric; encode categoricals first"),
                 id="non-numeric"),
    pytest.param(ErrorCase({}, FRAME.assign(RATING=np.nan), ValueError, r"fit: columns \['RATING'\] have missing or infinite"),
                 id="nan"),
    pytest.param(ErrorCase({}, FRAME.to_numpy(), TypeError, "fit needs a pandas DataFrame"), id="not-a-frame"),
    pytest.param(ErrorCase({"category_weight": 0}, FRAME, ValueError, r"category_weight=0: use a finite number > 0"),
                 id="zero-category-weight"),
]


@pytest.mark.parametrize("case", ERROR_CASES)
def test_fit_errors(case):
    with pytest.raises(case.error, match=case.match):
        FeatureTransformer(**case.params).fit(case.X)


def test_transform_errors():
    t = FeatureTransformer(groups=GROUPS, skew_threshold=0.5).fit(FRAME)
    with pytest.raises(ValueError, match=r"transform: X has no columns \['RATING'\]; it needs \['TOTAL', 'DELTA', 'RATING'"):
        t.transform(FRAME.drop(columns="RATING"))
    with pytest.raises(ValueError, match=r"transform: columns \{'RATING': 'object'\} are not numeric"):
        t.transform(FRAME.assign(RATING="high"))
    with pytest.raises(ValueError, match=r"columns \['TOTAL'\] were log1p-transformed at fit and must be >= 0"):
        t.transform(FRAME.assign(TOTAL=-1.0))
    with pytest.raises(ValueError, match=r"or an array of shape \(n, 6\), got shape \(8, 2\)"):
        t.transform(FRAME.to_numpy()[:, :2])
    with pytest.raises(ValueError, match=r"inverse_transform needs shape \(n, 6\), got \(3,\)"):
        t.inverse_transform(np.zeros(3))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FeatureTransformer().transform(FRAME)


def test_sql_expressions_exact_text():
    X = pd.DataFrame({"TOTAL": [0.0, np.e - 1], "RATING": [1.0, 3.0], "G__A": [1, 0], "G__B": [0, 1]})
    t = FeatureTransformer(log_columns=["TOTAL"], groups=[["G__A", "G__B"]]).fit(X)
    assert t.sql_expressions() == [
        "(ln(1 + cast(TOTAL as float)) - 0.5) / 0.5",
        "(cast(RATING as float) - 2.0) / 1.0",
        "(cast(G__A as float) - 0.5) / 0.5 * 0.5",  # sqrt(0.5 / 2): the block weighs half a column
        "(cast(G__B as float) - 0.5) / 0.5 * 0.5",
    ]
    assert t.sql_expressions({"RATING": "r.SCORE"})[1] == "(cast(r.SCORE as float) - 2.0) / 1.0"
    with pytest.raises(ValueError, match=r"column_sql names \['NOPE'\], which are not features"):
        t.sql_expressions({"NOPE": "1"})


def test_sql_expressions_keep_full_precision_and_parenthesise_negatives():
    X = pd.DataFrame({"A": [-1 / 3, -2 / 3, -0.1]})
    t = FeatureTransformer(log_columns=[]).fit(X)
    (expr,) = t.sql_expressions()
    assert expr == f"(cast(A as float) - ({float(t.center_[0])!r})) / {float(t.scale_[0])!r}"
    center = float(expr.split("- (")[1].split(")")[0])
    assert center == t.center_[0] and center < 0


# ----------------------------------------------------------------------------- snowseg.clustering.sql_assign
def _fitted():
    X = pd.DataFrame({"TOTAL": [10.0, 12.0, 15.0, 400.0, 950.0], "QUANTITY": [1.0, 2.0, 5.0, 7.0, 10.0],
                      "RATING": [4.0, 5.5, 7.0, 9.1, 6.0]})
    t = FeatureTransformer(log_columns=["TOTAL"]).fit(X)
    return t, np.array([[-1.0, -1.0, 0.0], [0.0, 0.5, -0.25], [1.5, 1.0, 0.125]])


def test_assignment_sql_parses_as_snowflake_with_the_cte_chain():
    t, centers = _fitted()
    source = "select INVOICE_ID, BRANCH, TOTAL, QUANTITY, RATING from SNOWSEG.RAW.SALES_PUBLISHED where BRANCH = %(b)s"
    sql = assignment_sql(source, ["INVOICE_ID", "branch"], t, centers)
    tree = sqlglot.parse_one(sql.replace("%(b)s", "'A'"), read="snowflake")
    assert [c.alias for c in tree.find(exp.With).expressions] == ["source", "transformed", "distances", "assigned", "final"]
    assigned = next(c.this for c in tree.find(exp.With).expressions if c.alias == "assigned")
    assert assigned.named_selects == ["INVOICE_ID", "BRANCH", "SEGMENT_ID", "DISTANCE"]
    distances = next(c.this for c in tree.find(exp.With).expressions if c.alias == "distances")
    assert distances.named_selects == ["INVOICE_ID", "BRANCH", "D0", "D1", "D2"]
    assert (
        "        (TOTAL - (-1.0)) * (TOTAL - (-1.0))\n"
        "            + (QUANTITY - (-1.0)) * (QUANTITY - (-1.0))\n"
        "            + (RATING - 0.0) * (RATING - 0.0) as D0,\n"
    ) in sql
    assert "%(b)s" in sql  # the source's bound parameters pass through


def test_assignment_sql_single_center_parses():
    t, centers = _fitted()
    sql = assignment_sql("select ID, TOTAL, QUANTITY, RATING from T", ["ID"], t, centers[:1])
    assert "case when D0 is null then null else 0 end as SEGMENT_ID" in sql and "sqrt(D0) as DISTANCE" in sql
    sqlglot.parse_one(sql, read="snowflake")


def test_argmin_case_matches_numpy_argmin_with_ties():
    """Evaluate the CASE chain in Python over every small pattern of ties; it must equal np.argmin."""
    import itertools

    for k in (1, 2, 3, 4):
        text = argmin_case(k)
        whens = [(cond, int(j)) for cond, j in re.findall(r"when ([D\d <=and]+) then (\d+)", text)]
        last = int(re.search(r"else (\d+) end$", text).group(1))
        assert len(whens) == k - 1
        for d in itertools.product([0.0, 1.0, 2.0], repeat=k):
            env = {f"D{j}": v for j, v in enumerate(d)}
            got = next((j for cond, j in whens if eval(cond, {}, env)), last)
            assert got == int(np.argmin(d)), (k, d, text)


class KeyCase(NamedTuple):
    keys: object
    centers_shape: tuple
    match: str


KEY_CASES = [
    pytest.param(KeyCase(["TOTAL"], (3, 3), r"key_columns \['TOTAL'\] clash with a feature or an output column"),
                 id="key-is-a-feature"),
    pytest.param(KeyCase(["segment_id"], (3, 3), r"key_columns \['SEGMENT_ID'\] clash"), id="key-is-output"),
    pytest.param(KeyCase(["D1"], (3, 3), r"key_columns \['D1'\] clash .* D0..D2\)"), id="key-is-a-distance"),
    pytest.param(KeyCase(["ID", "id"], (3, 3), r"key_columns \['ID', 'ID'\] repeat a column"), id="repeated-key"),
    pytest.param(KeyCase("ID", (3, 3), "key_columns must be a non-empty list"), id="key-string"),
    pytest.param(KeyCase(["ID; drop table T"], (3, 3), "identifier 'ID; drop table T' is not allowed"), id="key-injection"),
    pytest.param(KeyCase(["ID"], (3, 2), r"centers must have shape \(k >= 1, 3\) for features"), id="centers-width"),
    pytest.param(KeyCase(["ID"], (0, 3), r"centers must have shape"), id="no-centers"),
]


@pytest.mark.parametrize("case", KEY_CASES)
def test_assignment_sql_errors(case):
    t, _ = _fitted()
    with pytest.raises(ValueError, match=case.match):
        assignment_sql("select * from T", case.keys, t, np.zeros(case.centers_shape))


def test_assignment_sql_refuses_nan_centers_and_trailing_semicolon():
    t, centers = _fitted()
    with pytest.raises(ValueError, match="centers has NaN or infinite values"):
        assignment_sql("select * from T", ["ID"], t, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="source_sql must be one query without a trailing ';'"):
        assignment_sql("select * from T;", ["ID"], t, centers)
