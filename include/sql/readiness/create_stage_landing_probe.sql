-- A temporary external stage on the landing URL through the storage integration, as load_s3_snowpipe creates its own.
create temporary stage {database}.{schema}.{probe} url = {url} storage_integration = {storage_integration}
