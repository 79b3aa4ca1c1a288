-- A model run's segments: name, centre in original units (every feature's mean) and stability.
select SEGMENT_ID, SEGMENT_NAME, CENTER, STABILITY
from {database}.{schema}.SEGMENT_PROFILES
where MODEL_RUN_ID = %(model_run_id)s
order by SEGMENT_ID
