-- Per segment of a staged model run: assigned rows and their mean confidence.
select SEGMENT_ID, count(*) as ROWS_ASSIGNED, avg(CONFIDENCE) as MEAN_CONFIDENCE
from {database}.{schema}.SEGMENT_ASSIGNMENTS_STAGE
where MODEL_RUN_ID = %(model_run_id)s
group by SEGMENT_ID
