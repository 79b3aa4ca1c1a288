-- One row per file per load. rows_parsed = rows_loaded + rows_rejected, always.
create table if not exists {database}.{audit}.LOAD_AUDIT (
    AUDIT_ID varchar(64) not null,
    BATCH_ID varchar(64) not null,
    FILE_NAME varchar not null,
    FILE_PATH varchar,
    STAGE_PATH varchar,
    LOAD_PATH varchar(16) not null,
    TARGET_TABLE varchar not null,
    STATUS varchar(16) not null,
    ROWS_PARSED number(18, 0),
    ROWS_LOADED number(18, 0),
    ROWS_REJECTED number(18, 0),
    BYTES number(18, 0),
    CHECKSUM varchar(64),
    FIRST_ERROR varchar,
    FIRST_ERROR_LINE number(18, 0),
    FIRST_ERROR_CHARACTER number(18, 0),
    FIRST_ERROR_COLUMN varchar,
    STARTED_AT timestamp_ntz,
    FINISHED_AT timestamp_ntz,
    AIRFLOW_DAG_ID varchar,
    AIRFLOW_RUN_ID varchar
);
grant select, insert on table {database}.{audit}.LOAD_AUDIT to role {service_role};
