-- Segment per entity with history: the open row (VALID_TO is null) is the current assignment.
create table if not exists {database}.{analytics}.SEGMENT_ASSIGNMENTS (
    ENTITY_ID varchar not null,
    SEGMENT_ID number(4, 0) not null,
    SEGMENT_NAME varchar not null,
    CONFIDENCE float,
    DISTANCE float,
    MODEL_RUN_ID varchar(64) not null,
    VALID_FROM timestamp_ntz not null,
    VALID_TO timestamp_ntz
);
grant select, insert, update on table {database}.{analytics}.SEGMENT_ASSIGNMENTS to role {service_role};
