-- Open the new run's assignments, from staging, at the instant the dataset's previous ones closed.
insert into {database}.{schema}.SEGMENT_ASSIGNMENTS
    (DATASET, ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, VALID_FROM, VALID_TO)
select %(dataset)s, ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, %(valid_from)s, null
from {database}.{schema}.SEGMENT_ASSIGNMENTS_STAGE
where MODEL_RUN_ID = %(model_run_id)s
