-- Writeback staging: a model run's assignments go up as one gzip CSV (PUT to the internal stage,
-- COPY into the staging table) before the publishing transaction moves them.
create table if not exists {database}.{analytics}.SEGMENT_ASSIGNMENTS_STAGE (
    MODEL_RUN_ID varchar(64) not null,
    ENTITY_ID varchar not null,
    SEGMENT_ID number(4, 0) not null,
    SEGMENT_NAME varchar not null,
    CONFIDENCE float,
    DISTANCE float
);
grant select, insert, delete on table {database}.{analytics}.SEGMENT_ASSIGNMENTS_STAGE to role {service_role};
create stage if not exists {database}.{analytics}.SNOWSEG_WRITEBACK;
grant read, write on stage {database}.{analytics}.SNOWSEG_WRITEBACK to role {service_role};
create file format if not exists {database}.{analytics}.SNOWSEG_WRITEBACK_CSV
    type = csv
    field_optionally_enclosed_by = '"'
    skip_header = 1
    empty_field_as_null = true;
grant usage on file format {database}.{analytics}.SNOWSEG_WRITEBACK_CSV to role {service_role};
