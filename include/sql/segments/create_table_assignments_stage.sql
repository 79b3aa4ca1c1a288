-- Staging for a model run's assignments, loaded by COPY before the publishing transaction.
create table if not exists {database}.{schema}.SEGMENT_ASSIGNMENTS_STAGE (
    MODEL_RUN_ID varchar(64) not null,
    ENTITY_ID varchar not null,
    SEGMENT_ID number(4, 0) not null,
    SEGMENT_NAME varchar not null,
    CONFIDENCE float,
    DISTANCE float
)
