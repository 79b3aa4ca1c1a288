"""The seed file's feature matrix as the segmentation job builds it, reproduced in pandas (no warehouse).

The job reads its features with SQL in the warehouse (:func:`snowseg.features.feature_sql`: one row per
invoice, ordered by ENTITY_ID; the contract's numeric columns cast to float; each categorical one-hot
encoded with one 0/1 column per contract value, named ``COL__VALUE``), then drops redundant columns
(:func:`snowseg.features.drop_correlated`) and applies a
:class:`~snowseg.clustering.transform.FeatureTransformer` (see :func:`snowseg.segmentation.run_segmentation`).
Here the first step is the same query done in pandas on the CSV, and the other two are the job's own
code with the job's default parameters. The integration test of the seed run
(tests/integration/test_segment_customers.py) checks that :func:`seed_feature_frame` equals what
the warehouse returns for the loaded seed file.

Tests and benchmarks read the seed file where it lives (``/work/shared/data/supermarket_sales.csv``);
it is never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from snowseg import features as feats
from snowseg.clustering.transform import FeatureTransformer
from snowseg.config import load_contract
from snowseg.segmentation import SegmentationParams

SEED_CSV = Path("/work/shared/data/supermarket_sales.csv")


def seed_feature_frame(path: Path = SEED_CSV, contract_name: str = "supermarket") -> pd.DataFrame:
    """The invoice-level feature table of a sales CSV: what :func:`snowseg.features.read_features` returns."""
    contract = load_contract(contract_name)
    if contract.features.level != "invoice":
        raise NotImplementedError(f"features.level={contract.features.level!r}: only the invoice level is reproduced")
    raw = pd.read_csv(path, dtype=str).rename(columns={c.name: c.column for c in contract.columns})
    key = contract.column_for_role("invoice_id").column
    if raw[key].duplicated().any():
        raise ValueError(f"{path}: repeated {key} values; the warehouse keeps the last loaded, this helper does not")
    out = {"ENTITY_ID": raw[key]}
    for col in contract.features.numeric:
        out[col] = raw[col].astype(float)
    for col in contract.features.categorical:
        for value in contract.column(col).values:
            out[f"{col}__{feats._slug(value)}"] = (raw[col] == value).astype(float)
    return pd.DataFrame(out).sort_values("ENTITY_ID").set_index("ENTITY_ID")


def seed_feature_matrix(path: Path = SEED_CSV, params: SegmentationParams = SegmentationParams()) -> np.ndarray:
    """The matrix the job clusters: the feature table without redundant columns, transformed (log, scale, weights)."""
    X, _ = feats.drop_correlated(seed_feature_frame(path), params.correlation_max)
    transformer = FeatureTransformer(scaling=params.scaling, groups=feats.onehot_groups(X.columns)).fit(X)
    return transformer.transform(X)
