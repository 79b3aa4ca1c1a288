-- The integrations the role may use (USAGE or OWNERSHIP): a missing one and an ungranted one look the same.
show integrations
