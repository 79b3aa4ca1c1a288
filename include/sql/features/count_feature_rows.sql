-- How many rows a feature query returns: above max_fit_rows the model is fitted on a sample of them.
select count(*) from ({feature_query}) as f
