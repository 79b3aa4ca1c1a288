-- Named internal stage for bulk loads; each batch goes under its own prefix.
create stage if not exists {database}.{raw}.SNOWSEG_BULK;
grant read, write on stage {database}.{raw}.SNOWSEG_BULK to role {service_role};
