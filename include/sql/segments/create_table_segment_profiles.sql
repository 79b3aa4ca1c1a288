-- Per model run and segment: size, centroid in original units, stability (clusterboot Jaccard), name.
create table if not exists {database}.{schema}.SEGMENT_PROFILES (
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
)
