-- One row per published model run: parameters, scores per k, why k, the data it saw, timings.
create table if not exists {database}.{schema}.MODEL_RUNS (
    MODEL_RUN_ID varchar(64) not null,
    FINGERPRINT varchar(64) not null,
    CONTRACT varchar not null,
    FEATURE_SET_VERSION varchar not null,
    FEATURES varchar,
    K number(4, 0) not null,
    K_REASON varchar,
    N_INIT number(6, 0),
    RANDOM_STATE number(12, 0),
    SCORES_BY_K varchar,
    ROW_COUNT number(18, 0),
    MAX_LOADED_AT varchar,
    BATCHES varchar,
    TIMINGS varchar,
    AIRFLOW_DAG_ID varchar,
    AIRFLOW_RUN_ID varchar,
    STARTED_AT timestamp_ntz,
    PUBLISHED_AT timestamp_ntz
)
