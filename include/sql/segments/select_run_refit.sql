-- A published model run's refit decision (RUN_KIND NULL: published before migration database/V014, a refit), its
-- migration matrix and centroid shifts.
select RUN_KIND, REFIT_REASON, DRIFT, MIGRATION, CENTROID_SHIFT
from {database}.{schema}.MODEL_RUNS
where MODEL_RUN_ID = %(model_run_id)s
