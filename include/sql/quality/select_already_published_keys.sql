-- Rows of the batches to check whose invoice id is already in a published batch (the same sales sent again
-- inside new content): uniqueness across batches, which a check of the new batches alone cannot see.
select r._BATCH_ID, r._FILE, r._ROW, r.{key}
from {database}.{schema}.{table} as r
where r._BATCH_ID in ({batch_ids})
    and r.{key} in (select p.{key} from {database}.{schema}.{published_view} as p)
