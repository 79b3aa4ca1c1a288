-- The current assignment of each entity. COPY GRANTS keeps the grants consumers were given on the view.
create or replace view {database}.{analytics}.CURRENT_SEGMENTS copy grants as
with source as (
    select * from {database}.{analytics}.SEGMENT_ASSIGNMENTS
),

final as (
    select ENTITY_ID, SEGMENT_ID, SEGMENT_NAME, CONFIDENCE, DISTANCE, MODEL_RUN_ID, VALID_FROM
    from source
    where VALID_TO is null
)

select * from final;
grant select on view {database}.{analytics}.CURRENT_SEGMENTS to role {service_role};
