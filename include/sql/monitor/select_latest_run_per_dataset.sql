-- Each dataset's current model run (its latest published): datasets are segmented apart.
select CONTRACT, MODEL_RUN_ID, K, ROW_COUNT, PUBLISHED_AT
from {database}.{schema}.MODEL_RUNS
qualify row_number() over (partition by CONTRACT order by PUBLISHED_AT desc) = 1
order by CONTRACT
