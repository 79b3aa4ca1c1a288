-- One row per expectation per batch per gate run: what was checked, how it went, how much failed.
create table if not exists {database}.{audit}.DQ_RESULTS (
    RUN_ID varchar not null,
    DAG_ID varchar,
    BATCH_ID varchar(64) not null,
    SUITE varchar not null,
    EXPECTATION varchar not null,
    EXPECTATION_TYPE varchar not null,
    COLUMN_NAME varchar,
    SEVERITY varchar(8) not null,
    SUCCESS boolean not null,
    OBSERVED_VALUE varchar,
    UNEXPECTED_COUNT number(18, 0),
    ELEMENT_COUNT number(18, 0),
    CHECKED_AT timestamp_ntz not null
);
grant select, insert on table {database}.{audit}.DQ_RESULTS to role {service_role};
