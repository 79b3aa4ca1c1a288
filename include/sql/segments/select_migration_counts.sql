-- The migration matrix of a model run as it is published (inside the publishing transaction): customers per
-- (previous segment, segment); FROM_SEGMENT NULL for new customers, TO_SEGMENT NULL for the previous run's
-- customers absent from this one (their rows closed at this instant, with no row in the new run).
with moved as (
    select PREVIOUS_SEGMENT_ID as FROM_SEGMENT, SEGMENT_ID as TO_SEGMENT, count(*) as CUSTOMERS
    from {database}.{schema}.SEGMENT_ASSIGNMENTS
    where MODEL_RUN_ID = %(model_run_id)s and DATASET = %(dataset)s
    group by PREVIOUS_SEGMENT_ID, SEGMENT_ID
),

gone as (
    select p.SEGMENT_ID as FROM_SEGMENT, cast(null as number(4, 0)) as TO_SEGMENT, count(*) as CUSTOMERS
    from {database}.{schema}.SEGMENT_ASSIGNMENTS as p
    where p.DATASET = %(dataset)s and p.VALID_TO = %(valid_from)s
        and not exists (
            select 1 from {database}.{schema}.SEGMENT_ASSIGNMENTS as n
            where n.MODEL_RUN_ID = %(model_run_id)s and n.ENTITY_ID = p.ENTITY_ID
        )
    group by p.SEGMENT_ID
),

final as (
    select * from moved
    union all
    select * from gone
)

select * from final
