-- The dataset's raw table: the contract's columns, typed, plus load lineage.
create table if not exists {database}.{raw}.{table} (
{columns},
    _FILE varchar,
    _ROW number(18, 0),
    _LOAD_PATH varchar(16),
    _LOADED_AT timestamp_ntz,
    _BATCH_ID varchar(64)
);
grant select, insert on table {database}.{raw}.{table} to role {service_role};
