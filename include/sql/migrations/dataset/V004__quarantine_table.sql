-- Raw rows that failed a row-level `error` expectation: one row per raw row and failed expectation.
create table if not exists {database}.{raw}.{quarantine_table} (
    BATCH_ID varchar(64) not null,
    _FILE varchar,
    _ROW number(18, 0),
    EXPECTATION varchar not null,
    COLUMN_NAME varchar,
    VALUE varchar,
    RUN_ID varchar,
    QUARANTINED_AT timestamp_ntz not null
);
grant select, insert on table {database}.{raw}.{quarantine_table} to role {service_role};
