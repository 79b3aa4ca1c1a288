-- External stage on the S3 landing prefix that the pipe reads; S3 access through a storage integration.
create stage if not exists {database}.{schema}.{stage}
    url = {url}
    storage_integration = {storage_integration}
