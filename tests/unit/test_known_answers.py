"""The segmentation's Python half end to end on data with known answers: transform -> choose_k -> StableKMeans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from snowseg.clustering.choose_k import choose_k
from snowseg.clustering.ensemble import StableKMeans, stability_band
from snowseg.clustering.transform import FeatureTransformer


@pytest.mark.parametrize("true_k", [3, 5, 8])
def test_blobs_give_their_k_their_labels_and_stable_segments(true_k):
    X, y = make_blobs(n_samples=3000, n_features=6, centers=true_k, cluster_std=1.0, center_box=(-20, 20),
                      random_state=true_k)
    frame = pd.DataFrame(X, columns=[f"F{i}" for i in range(X.shape[1])])
    Z = FeatureTransformer(log_columns=[]).fit_transform(frame)
    choice = choose_k(Z, k_values=range(2, 11), n_init=3, stability_pairs=5, random_state=0, n_jobs=2)
    assert choice.structured and choice.k == true_k, choice.reason
    model = StableKMeans(n_clusters=choice.k, n_runs=20, random_state=0, n_jobs=2).fit(Z)
    assert adjusted_rand_score(y, model.labels_) >= 0.95
    assert (model.cluster_stability_ >= 0.85).all()
    assert {stability_band(j) for j in model.cluster_stability_} == {"highly stable"}


def test_uniform_noise_is_called_unstructured_and_its_segments_unstable():
    X = np.random.default_rng(3).uniform(size=(2000, 6))
    Z = FeatureTransformer(log_columns=[]).fit_transform(pd.DataFrame(X, columns=list("ABCDEF")))
    choice = choose_k(Z, k_values=range(2, 9), n_init=3, stability_pairs=5, random_state=0, n_jobs=2)
    assert not choice.structured and choice.k is None and "no cluster structure" in choice.reason.lower()
    model = StableKMeans(n_clusters=4, n_runs=20, random_state=0, n_jobs=2).fit(Z)  # forced k, as with params k=4
    assert all(stability_band(j) in {"doubtful", "dissolved"} for j in model.cluster_stability_)
