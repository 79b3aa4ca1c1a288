-- The rows of the batches to check, with each identity's residual computed in the warehouse.
select *{identities}
from {database}.{schema}.{table}
where _BATCH_ID in ({batch_ids})
