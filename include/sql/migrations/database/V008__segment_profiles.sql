-- Per model run and segment: size, centroid in original units, stability (clusterboot Jaccard), name.
create table if not exists {database}.{analytics}.SEGMENT_PROFILES (
    MODEL_RUN_ID varchar(64) not null,
    SEGMENT_ID number(4, 0) not null,
    SEGMENT_NAME varchar not null,
    SIZE number(18, 0) not null,
    SHARE float not null,
    MEAN_AMOUNT float,
    CENTROID varchar,
    TOP_CATEGORIES varchar,
    STABILITY float,
    STABILITY_BAND varchar,
    MEAN_CONFIDENCE float,
    OVER_INDEX varchar,
    CENTER varchar
);
-- tables an earlier Snowseg created (its DAGs ran CREATE TABLE IF NOT EXISTS) lack the later columns
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists STABILITY_BAND varchar;
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists MEAN_CONFIDENCE float;
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists OVER_INDEX varchar;
alter table {database}.{analytics}.SEGMENT_PROFILES add column if not exists CENTER varchar;
grant select, insert on table {database}.{analytics}.SEGMENT_PROFILES to role {service_role};
