-- The model run the dataset's current assignments come from (its latest published).
select MODEL_RUN_ID, FINGERPRINT from {database}.{schema}.MODEL_RUNS
where CONTRACT = %(dataset)s
order by PUBLISHED_AT desc limit 1
