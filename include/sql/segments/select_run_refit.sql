-- A published model run's refit decision (RUN_KIND NULL: published before migration database/V014, a refit).
select RUN_KIND, REFIT_REASON, DRIFT from {database}.{schema}.MODEL_RUNS where MODEL_RUN_ID = %(model_run_id)s
