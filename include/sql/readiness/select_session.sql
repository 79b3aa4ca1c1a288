-- Who the connection logged in as: its user, role and warehouse (NULL when the warehouse is missing or not usable).
select current_user() as user_name, current_role() as role_name, current_warehouse() as warehouse_name
