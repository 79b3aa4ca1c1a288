-- The run a model run followed when it was published (NULL for the first).
select FOLLOWS from {database}.{schema}.MODEL_RUNS where MODEL_RUN_ID = %(model_run_id)s
