-- The database's schemas; fails with 002003 when the database is missing or the role may not use it.
show schemas in database {database}
