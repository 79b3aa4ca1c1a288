-- Stage a model run's assignments computed in the warehouse (the scale path): {assignment} selects
-- ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE for every row of the feature query.
insert into {database}.{schema}.SEGMENT_ASSIGNMENTS_STAGE
    (MODEL_RUN_ID, ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE)
select %(model_run_id)s, cast(a.ENTITY_ID as varchar), a.SEGMENT_ID, a.SEGMENT_NAME, a.CONFIDENCE, a.DISTANCE
from ({assignment}) as a
