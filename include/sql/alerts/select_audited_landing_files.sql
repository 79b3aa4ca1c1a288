-- Files the S3 + Snowpipe path has put on record (any status), as <batch id>/<file name>: their path under the
-- landing stage (snowpipe_<content hash>/<name>). A landing file without such a row was never accounted for.
select distinct BATCH_ID, FILE_NAME
from {database}.{schema}.LOAD_AUDIT
where LOAD_PATH = %(load_path)s
