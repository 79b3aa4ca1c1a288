"""The k-means++ model and the block scaler."""

from __future__ import annotations

import numpy as np
import pytest

from snowseg.clustering.selection import make_model


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_make_model_rejects_bad_k(bad):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        make_model(bad)


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
        labels = make_model(3, n_init=10, random_state=42, groups=groups).fit(X.to_numpy()).named_steps["kmeans"].labels_
        return sorted(df["Total"][labels == k].mean() for k in range(3))

    flat = mean_totals(groups=())
    weighted = mean_totals(groups=onehot_groups(X.columns))
    assert flat[-1] / flat[0] < 1.1
    assert weighted[-1] / weighted[1] > 2.5
