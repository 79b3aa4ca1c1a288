-- The segment profiles of one model run.
select SEGMENT_ID, SEGMENT_NAME, SIZE, SHARE, MEAN_AMOUNT, STABILITY, STABILITY_BAND, MEAN_CONFIDENCE
from {database}.{schema}.SEGMENT_PROFILES
where MODEL_RUN_ID = %(model_run_id)s
order by SEGMENT_ID
