-- The raw table's columns and types as the warehouse has them (schema drift shows here).
select COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, CHARACTER_MAXIMUM_LENGTH
from {database}.INFORMATION_SCHEMA.COLUMNS
where TABLE_SCHEMA = %(schema)s and TABLE_NAME = %(table)s
order by ORDINAL_POSITION
