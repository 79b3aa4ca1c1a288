-- One row per published model run: parameters, scores per k, why k, the data it saw, the fitted
-- transform and centres (enough to re-assign rows in SQL), segment-id carry-over, timings.
create table if not exists {database}.{analytics}.MODEL_RUNS (
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
    PUBLISHED_AT timestamp_ntz,
    FEATURE_LEVEL varchar,
    N_RUNS number(6, 0),
    SUBSAMPLE float,
    SCALING varchar,
    STRUCTURED boolean,
    K_CHOICE varchar,
    DROPPED_FEATURES varchar,
    TRANSFORM varchar,
    CENTERS varchar,
    SEGMENT_MATCHES varchar,
    FIT_ROWS number(18, 0),
    ASSIGNED_IN varchar,
    FOLLOWS varchar(64)
);
-- tables an earlier Snowseg created (its DAGs ran CREATE TABLE IF NOT EXISTS) lack the later columns
alter table {database}.{analytics}.MODEL_RUNS add column if not exists FEATURE_LEVEL varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists N_RUNS number(6, 0);
alter table {database}.{analytics}.MODEL_RUNS add column if not exists SUBSAMPLE float;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists SCALING varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists STRUCTURED boolean;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists K_CHOICE varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists DROPPED_FEATURES varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists TRANSFORM varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists CENTERS varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists SEGMENT_MATCHES varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists FIT_ROWS number(18, 0);
alter table {database}.{analytics}.MODEL_RUNS add column if not exists ASSIGNED_IN varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists FOLLOWS varchar(64);
grant select, insert on table {database}.{analytics}.MODEL_RUNS to role {service_role};
