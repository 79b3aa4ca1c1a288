-- Rows a load rejected: where they were in the source file, why, and the raw record.
create table if not exists {database}.{raw}.{rejected_table} (
    BATCH_ID varchar(64) not null,
    LOAD_PATH varchar(16) not null,
    FILE_NAME varchar not null,
    STAGED_FILE varchar,
    LINE number(18, 0),
    CHARACTER number(18, 0),
    COLUMN_NAME varchar,
    ERROR varchar,
    CODE number(10, 0),
    REJECTED_RECORD varchar,
    REJECTED_AT timestamp_ntz
);
grant select, insert, delete on table {database}.{raw}.{rejected_table} to role {service_role};
