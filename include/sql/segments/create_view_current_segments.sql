create or replace view {database}.{schema}.CURRENT_SEGMENTS as
with source as (
    select * from {database}.{schema}.SEGMENT_ASSIGNMENTS
),
final as (
    select ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, VALID_FROM
    from source
    where VALID_TO is null
)
select * from final
