insert into {database}.{schema}.MODEL_RUNS (
    MODEL_RUN_ID, FINGERPRINT, CONTRACT, FEATURE_SET_VERSION, FEATURES, K, K_REASON, N_INIT, RANDOM_STATE,
    SCORES_BY_K, ROW_COUNT, MAX_LOADED_AT, BATCHES, TIMINGS, AIRFLOW_DAG_ID, AIRFLOW_RUN_ID, STARTED_AT, PUBLISHED_AT,
    FEATURE_LEVEL, N_RUNS, SUBSAMPLE, SCALING, STRUCTURED, K_CHOICE, DROPPED_FEATURES, TRANSFORM, CENTERS,
    SEGMENT_MATCHES, FIT_ROWS, ASSIGNED_IN, FOLLOWS,
    RUN_KIND, REFIT_REASON, REFIT_RUN_ID, REFIT_KEY, DRIFT, DRIFT_BY_SEGMENT, MIGRATION, MOVED_SHARE, CENTROID_SHIFT
) values (
    %(model_run_id)s, %(fingerprint)s, %(contract)s, %(feature_set_version)s, %(features)s, %(k)s, %(k_reason)s,
    %(n_init)s, %(random_state)s, %(scores_by_k)s, %(row_count)s, %(max_loaded_at)s, %(batches)s, %(timings)s,
    %(dag_id)s, %(run_id)s, %(started_at)s, %(published_at)s,
    %(feature_level)s, %(n_runs)s, %(subsample)s, %(scaling)s, %(structured)s, %(k_choice)s, %(dropped_features)s,
    %(transform)s, %(centers)s, %(segment_matches)s, %(fit_rows)s, %(assigned_in)s, %(follows)s,
    %(run_kind)s, %(refit_reason)s, %(refit_run_id)s, %(refit_key)s, %(drift)s, %(drift_by_segment)s, %(migration)s,
    %(moved_share)s, %(centroid_shift)s
)
