insert into {database}.{schema}.SEGMENT_PROFILES
    (MODEL_RUN_ID, SEGMENT_ID, SEGMENT_NAME, SIZE, SHARE, MEAN_AMOUNT, CENTROID, TOP_CATEGORIES, STABILITY,
     STABILITY_BAND, MEAN_CONFIDENCE, OVER_INDEX, CENTER, RULES, RULE_ACCURACY, RULE_RECALL, RULES_FIDELITY)
values (%(model_run_id)s, %(segment_id)s, %(segment_name)s, %(size)s, %(share)s, %(mean_amount)s, %(centroid)s,
        %(top_categories)s, %(stability)s, %(stability_band)s, %(mean_confidence)s, %(over_index)s, %(center)s,
        %(rules)s, %(rule_accuracy)s, %(rule_recall)s, %(rules_fidelity)s)
