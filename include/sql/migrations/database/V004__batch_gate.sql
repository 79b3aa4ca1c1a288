-- The quality gate's verdict on each load batch: PUBLISHED batches feed the features, HELD ones do not.
create table if not exists {database}.{audit}.BATCH_GATE (
    BATCH_ID varchar(64) not null,
    TARGET_TABLE varchar not null,
    STATUS varchar(16) not null,
    ROWS_CHECKED number(18, 0),
    ROWS_QUARANTINED number(18, 0),
    FAILED_ERRORS varchar,
    RUN_ID varchar,
    CHECKED_AT timestamp_ntz not null
);
grant select, insert on table {database}.{audit}.BATCH_GATE to role {service_role};
