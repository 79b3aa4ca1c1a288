-- The raw sales table: the contract's columns, typed, plus load lineage.
create table if not exists {database}.{schema}.{table} (
{columns},
    _FILE varchar,
    _ROW number(18, 0),
    _LOAD_PATH varchar(16),
    _LOADED_AT timestamp_ntz,
    _BATCH_ID varchar(64)
)
