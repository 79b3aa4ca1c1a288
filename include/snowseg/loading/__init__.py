"""Loading core shared by the load DAGs: file checks, warehouse objects, COPY, load accounting."""
