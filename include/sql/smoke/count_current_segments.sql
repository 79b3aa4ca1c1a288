-- Current assignments per model run: after a publish, every one is the new run's.
select MODEL_RUN_ID, count(*) as ASSIGNMENTS
from {database}.{schema}.CURRENT_SEGMENTS
group by MODEL_RUN_ID
order by MODEL_RUN_ID
