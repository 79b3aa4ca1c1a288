"""Publishing a model run on the twin: the assignments CSV arrives in the warehouse exactly as written."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.integration.conftest import query

pytestmark = pytest.mark.integration

# values Python's csv module writes unenclosed (or enclosed, for the quote and the comma) and never escapes
ENTITY_IDS = ["plain", "back\\slash", "ends\\", "\\N", 'quo"te', "com,ma", "C:\\temp\\x"]


def test_entity_ids_with_backslashes_and_backslash_n_arrive_as_written(database, sf):
    """The writeback CSV is read with SNOWSEG_WRITEBACK_CSV. With Snowflake's CSV defaults (the format of 064b242 and
    of migration database/V010 sets no escape options) a backslash in an unenclosed value is an escape character
    (ESCAPE_UNENCLOSED_FIELD = '\\\\': dropped; at the end of a value it joins two rows) and \\N is NULL (NULL_IF's
    default): ids would change, or the COPY would fail. Migration database/V011 sets the options the writer relies
    on."""
    from snowseg import warehouse, writeback
    from snowseg.clustering.profiles import SegmentProfile
    from snowseg.warehouse import Names

    names = Names.from_env(database)
    run = writeback.ModelRun(
        fingerprint="f" * 64, contract="supermarket_sales", feature_set_version="test", features=["x"], k=2,
        k_reason="test", n_init=1, random_state=0, scores_by_k=[],
        snapshot={"row_count": len(ENTITY_IDS), "max_loaded_at": None, "batches": 1},
        started_at=datetime.now(UTC).replace(tzinfo=None),
    )
    labels = np.array([i % 2 for i in range(len(ENTITY_IDS))])
    profiles = [SegmentProfile(0, "Low\\spend", 4, 0.5, 1.0), SegmentProfile(1, "High", 3, 0.5, 2.0)]
    assignments = writeback.Assignments(np.array(ENTITY_IDS, dtype=object), labels, np.full(len(ENTITY_IDS), 0.5),
                                        np.full(len(ENTITY_IDS), 1.0))
    conn = warehouse.connect()
    try:
        run_id, published = writeback.publish(conn, names, run, assignments, profiles)
    finally:
        conn.close()
    assert published
    rows = query(sf, f"select ENTITY_ID, SEGMENT_ID, SEGMENT_NAME from {database}.{names.analytics}.SEGMENT_ASSIGNMENTS "
                     "where MODEL_RUN_ID = %s order by ENTITY_ID", (run_id,))
    expected = sorted((e, i % 2, "Low\\spend" if i % 2 == 0 else "High") for i, e in enumerate(ENTITY_IDS))
    assert sorted(rows) == expected
