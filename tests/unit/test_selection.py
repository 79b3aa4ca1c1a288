"""Elbow curve and final fit on tiny hand-computed data."""

from __future__ import annotations

import numpy as np
import pytest

from snowseg.clustering.profiles import spend_names
from snowseg.clustering.selection import elbow_curve, fit_segments, make_model


def test_elbow_inertia_hand_computed():
    # two pairs 0/1 and 10/11: k=1 inertia = sum of squared distances to 5.5 = 2*(5.5^2 + 4.5^2) = 101
    # k=2: each pair around its mean: 4 * 0.5^2 = 1
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    curve = elbow_curve(X, k_values=[1, 2, 3], n_init=5, random_state=0, scale=False)
    assert [(p.k, round(p.inertia, 6)) for p in curve] == [(1, 101.0), (2, 1.0), (3, 0.5)]
    assert curve[0].silhouette is None and curve[1].silhouette > 0.8


def test_k_above_rows_is_skipped_with_warning():
    with pytest.warns(UserWarning, match=r"k values \[5\] exceed the 4 rows"):
        curve = elbow_curve(np.arange(4.0).reshape(-1, 1), k_values=[1, 5], n_init=1, scale=False)
    assert [p.k for p in curve] == [1]


def test_fit_segments_confidence_and_distance():
    X = np.array([[0.0, 0.0], [0.2, 0.0], [10.0, 10.0], [10.2, 10.0]])
    _model, labels, distance, confidence = fit_segments(X, 2, n_init=5, random_state=0)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert np.all(confidence > 0.9) and np.all(distance < 0.1)


def test_degenerate_fit_warns():
    X = np.zeros((5, 2))
    with pytest.warns(Warning):
        fit_segments(X, 3, n_init=1, random_state=0)


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_make_model_rejects_bad_k(bad):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        make_model(bad)


def test_spend_names_unique_and_ranked():
    assert spend_names([5.0, 1.0]) == ["High spend", "Low spend"]
    names = spend_names([4.0, 3.0, 2.0, 1.0])
    assert names == ["Spend tier 4 of 4", "Spend tier 3 of 4", "Spend tier 2 of 4", "Spend tier 1 of 4"]


def test_block_scaler_rejects_unknown_columns():
    from snowseg.clustering.selection import BlockStandardScaler

    with pytest.raises(ValueError, match=r"groups refers to columns \[1, 5\], but X has 2 columns"):
        BlockStandardScaler(groups=[[1, 5]]).fit(np.zeros((3, 2)))


def test_weighted_onehot_lets_spend_separate_on_the_seed(seed_csv):
    """Unweighted, 16 one-hot columns outvote 4 numeric ones and k=3 splits by category (mean totals
    within 10 % of each other); weighted per variable, one segment is the high payers, as in the seed."""
    import pandas as pd

    from snowseg.features import onehot_groups

    df = pd.read_csv(seed_csv)
    num = df[["Unit price", "Quantity", "Total", "Rating"]].astype(float)
    dummies = pd.get_dummies(df[["Branch", "Customer type", "Gender", "Product line", "Payment"]], prefix_sep="__")
    X = pd.concat([num, dummies.astype(float)], axis=1)

    def mean_totals(groups):
        _, labels, _, _ = fit_segments(X.to_numpy(), 3, n_init=10, random_state=42, groups=groups)
        return sorted(df["Total"][labels == k].mean() for k in range(3))

    flat = mean_totals(groups=())
    weighted = mean_totals(groups=onehot_groups(X.columns))
    assert flat[-1] / flat[0] < 1.1
    assert weighted[-1] / weighted[1] > 2.5
