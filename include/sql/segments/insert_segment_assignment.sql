insert into {database}.{schema}.SEGMENT_ASSIGNMENTS
    (ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, VALID_FROM, VALID_TO)
values (%(entity_id)s, %(segment_id)s, %(segment_name)s, %(confidence)s, %(distance)s, %(model_run_id)s, %(valid_from)s, null)
