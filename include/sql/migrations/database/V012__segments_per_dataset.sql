-- Segments are kept per dataset (the contract's name, MODEL_RUNS.CONTRACT): segmenting one dataset never ends
-- another's current assignments, and segment ids are carried over within a dataset only. Rows written before
-- this migration take the dataset of the model run they came from.
alter table {database}.{analytics}.SEGMENT_ASSIGNMENTS add column if not exists DATASET varchar;
update {database}.{analytics}.SEGMENT_ASSIGNMENTS as a
set DATASET = r.CONTRACT
from {database}.{analytics}.MODEL_RUNS as r
where a.MODEL_RUN_ID = r.MODEL_RUN_ID and a.DATASET is null;
-- The current assignment of each entity of each dataset. COPY GRANTS keeps the grants consumers were given.
create or replace view {database}.{analytics}.CURRENT_SEGMENTS copy grants as
with source as (
    select * from {database}.{analytics}.SEGMENT_ASSIGNMENTS
),

final as (
    select DATASET, ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, VALID_FROM
    from source
    where VALID_TO is null
)

select * from final;
