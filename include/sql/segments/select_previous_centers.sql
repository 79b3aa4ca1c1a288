-- The segments of the dataset's latest published model run with their centres in original units (segment ids
-- are carried over to the new run's matching clusters).
with latest_run as (
    select MODEL_RUN_ID from {database}.{schema}.MODEL_RUNS where CONTRACT = %(dataset)s
    order by PUBLISHED_AT desc limit 1
),
final as (
    select p.SEGMENT_ID, p.CENTER
    from {database}.{schema}.SEGMENT_PROFILES as p
    inner join latest_run as r on p.MODEL_RUN_ID = r.MODEL_RUN_ID
)
select * from final order by SEGMENT_ID
