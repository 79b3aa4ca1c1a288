-- Named internal stage for bulk loads; each batch goes under its own prefix.
create stage if not exists {database}.{schema}.SNOWSEG_BULK
