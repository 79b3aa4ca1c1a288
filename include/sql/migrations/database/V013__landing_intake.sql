-- The scheduled intake's ledger: one row per landing file (URL, size, last-modified as listed) that a scheduled
-- load_bulk_stage run took, and what came of it. A listed file that matches a row here is not read again; a file
-- rewritten in place (another size or last-modified) is new. LOAD_AUDIT still decides by content whether rows load.
create table if not exists {database}.{audit}.LANDING_INTAKE (
    LANDING_URL varchar not null,
    FILE_URL varchar not null,
    FILE_SIZE number(18, 0) not null,
    FILE_MODIFIED_AT timestamp_ntz not null,
    TARGET_TABLE varchar not null,
    LOAD_PATH varchar(16) not null,
    STATUS varchar(16) not null,
    BATCH_ID varchar(64),
    AIRFLOW_DAG_ID varchar,
    AIRFLOW_RUN_ID varchar,
    TAKEN_AT timestamp_ntz not null
);
grant select, insert on table {database}.{audit}.LANDING_INTAKE to role {service_role};
