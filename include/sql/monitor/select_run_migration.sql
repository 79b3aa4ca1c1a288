-- A model run's refit decision, drift, migration matrix, moved share and centroid shift per segment
-- (migration database/V014).
select RUN_KIND, REFIT_REASON, REFIT_RUN_ID, DRIFT, DRIFT_BY_SEGMENT, MIGRATION, MOVED_SHARE, CENTROID_SHIFT
from {database}.{schema}.MODEL_RUNS
where MODEL_RUN_ID = %(model_run_id)s
