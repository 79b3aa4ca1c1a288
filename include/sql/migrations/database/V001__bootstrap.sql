-- The database, its three schemas and the table the setup records its migrations in.
-- The service role may use them; it creates nothing (every object comes from a migration).
create database if not exists {database};
grant usage on database {database} to role {service_role};
create schema if not exists {database}.{raw};
create schema if not exists {database}.{audit};
create schema if not exists {database}.{analytics};
grant usage on schema {database}.{raw} to role {service_role};
grant usage on schema {database}.{audit} to role {service_role};
grant usage on schema {database}.{analytics} to role {service_role};
create table if not exists {database}.{audit}.SCHEMA_VERSION (
    VERSION varchar(64) not null,
    DATASET varchar not null,
    NAME varchar not null,
    CHECKSUM varchar(64) not null,
    APPLIED_AT timestamp_ntz not null,
    APPLIED_BY varchar
);
grant select on table {database}.{audit}.SCHEMA_VERSION to role {service_role};
