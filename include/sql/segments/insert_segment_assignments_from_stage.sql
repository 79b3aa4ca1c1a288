-- Open the new run's assignments, from staging, at the instant the dataset's previous ones closed; each row
-- records the segment its entity had in the rows closed at that instant (NULL: a new entity).
insert into {database}.{schema}.SEGMENT_ASSIGNMENTS
    (DATASET, ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, VALID_FROM, VALID_TO,
     PREVIOUS_SEGMENT_ID)
select %(dataset)s, s.ENTITY_ID, s.SEGMENT_ID, s.SEGMENT_NAME, s.CONFIDENCE, s.DISTANCE, s.MODEL_RUN_ID,
    %(valid_from)s, null, p.SEGMENT_ID
from {database}.{schema}.SEGMENT_ASSIGNMENTS_STAGE as s
left join {database}.{schema}.SEGMENT_ASSIGNMENTS as p
    on p.DATASET = %(dataset)s and p.VALID_TO = %(valid_from)s and p.ENTITY_ID = s.ENTITY_ID
where s.MODEL_RUN_ID = %(model_run_id)s
