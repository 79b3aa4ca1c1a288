-- The migrations the setup has applied, with the checksum of each file as it was then.
select VERSION, DATASET, CHECKSUM
from {database}.{schema}.SCHEMA_VERSION
