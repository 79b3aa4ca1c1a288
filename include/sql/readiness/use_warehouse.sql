-- The connection's warehouse, as every query that needs compute uses it.
use warehouse {warehouse}
