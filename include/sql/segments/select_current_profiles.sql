-- The profiles of the model run that the dataset's current assignments come from.
with current_run as (
    select MODEL_RUN_ID from {database}.{schema}.MODEL_RUNS where CONTRACT = %(dataset)s
    order by PUBLISHED_AT desc limit 1
),
final as (
    select p.SEGMENT_ID, p.SEGMENT_NAME, p.SIZE, p.SHARE, p.MEAN_AMOUNT, p.TOP_CATEGORIES, p.MODEL_RUN_ID,
        p.STABILITY, p.STABILITY_BAND, p.MEAN_CONFIDENCE
    from {database}.{schema}.SEGMENT_PROFILES p
    join current_run r on p.MODEL_RUN_ID = r.MODEL_RUN_ID
)
select * from final order by SEGMENT_ID
