-- External stage on the S3 landing prefix that the pipe reads; S3 access through a storage integration.
create stage if not exists {database}.{raw}.SNOWSEG_LANDING
    url = {url}
    storage_integration = {storage_integration};
grant usage on stage {database}.{raw}.SNOWSEG_LANDING to role {service_role};
