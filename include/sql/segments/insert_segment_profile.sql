insert into {database}.{schema}.SEGMENT_PROFILES
    (MODEL_RUN_ID, SEGMENT_ID, SEGMENT_NAME, SIZE, SHARE, MEAN_AMOUNT, CENTROID, TOP_CATEGORIES, STABILITY)
values (%(model_run_id)s, %(segment_id)s, %(segment_name)s, %(size)s, %(share)s, %(mean_amount)s, %(centroid)s, %(top_categories)s, %(stability)s)
