-- The latest published segmentation run (the one the current assignments come from).
select MODEL_RUN_ID, CONTRACT, K, K_REASON, STRUCTURED, N_RUNS, ROW_COUNT, FIT_ROWS, ASSIGNED_IN, FOLLOWS,
    AIRFLOW_DAG_ID, AIRFLOW_RUN_ID, STARTED_AT, PUBLISHED_AT
from {database}.{schema}.MODEL_RUNS
order by PUBLISHED_AT desc
limit 1
