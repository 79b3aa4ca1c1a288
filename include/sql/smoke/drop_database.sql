-- make test-snowflake's throwaway database, with every object in it (run by the admin role that created it).
drop database if exists {database}
