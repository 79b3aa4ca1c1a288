-- The model run the current assignments come from (the latest published).
select MODEL_RUN_ID, FINGERPRINT from {database}.{schema}.MODEL_RUNS order by PUBLISHED_AT desc limit 1
