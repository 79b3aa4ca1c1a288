delete from {database}.{schema}.SEGMENT_ASSIGNMENTS_STAGE where MODEL_RUN_ID = %(model_run_id)s
