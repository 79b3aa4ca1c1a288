"""Sample data for the demo, the tests, the benchmarks and ``make test-snowflake``: never shipped to Airflow.

The seeded generator (:mod:`snowseg_samples.generator`) writes invoice rows shaped like the supermarket seed file,
with its hard-coded values (branches, cities, product lines, a latent shopper segment), at any size. It lives with
the dev stack, not in ``include/snowseg``: the DAGs never generate data. ``python -m snowseg_samples --rows 1000
--out data/sample.csv`` writes a file.
"""

from snowseg_samples.generator import generate_sales, write_sales_csv

__all__ = ["generate_sales", "write_sales_csv"]
