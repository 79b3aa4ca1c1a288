-- What the model saw: row count, newest load and the batches, for MODEL_RUNS and idempotency.
select count(*) as ROW_COUNT, max(_LOADED_AT) as MAX_LOADED_AT, listagg(distinct _BATCH_ID, ',') within group (order by _BATCH_ID) as BATCHES
from {database}.{schema}.{table}
