"""Data-quality checks and views of raw sales batches for the run report."""
