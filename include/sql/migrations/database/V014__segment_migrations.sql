-- Segment migrations and the refit policy (issue 16). Each assignment records the segment its entity had
-- in the dataset's previous run (NULL: new, or written before this migration); each model run records
-- whether it refitted or assigned to the last refit's centroids, why, the run whose model it uses, the
-- drift from that refit, the migration matrix, the moved share and the centroid shift per segment.
alter table {database}.{analytics}.SEGMENT_ASSIGNMENTS add column if not exists PREVIOUS_SEGMENT_ID number(4, 0);
alter table {database}.{analytics}.MODEL_RUNS add column if not exists RUN_KIND varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists REFIT_REASON varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists REFIT_RUN_ID varchar(64);
alter table {database}.{analytics}.MODEL_RUNS add column if not exists REFIT_KEY varchar(64);
alter table {database}.{analytics}.MODEL_RUNS add column if not exists DRIFT float;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists DRIFT_BY_SEGMENT varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists MIGRATION varchar;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists MOVED_SHARE float;
alter table {database}.{analytics}.MODEL_RUNS add column if not exists CENTROID_SHIFT varchar;
-- The current assignment of each entity of each dataset, with the segment it had before. COPY GRANTS keeps
-- the grants consumers were given.
create or replace view {database}.{analytics}.CURRENT_SEGMENTS copy grants as
with source as (
    select * from {database}.{analytics}.SEGMENT_ASSIGNMENTS
),

final as (
    select DATASET, ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, VALID_FROM,
        PREVIOUS_SEGMENT_ID
    from source
    where VALID_TO is null
)

select * from final;
