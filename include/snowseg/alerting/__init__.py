"""Alerts without Airflow: :mod:`~snowseg.alerting.delivery` sends one alert through every configured channel (with
secrets redacted), :mod:`~snowseg.alerting.watch` finds loads past their deadline. Failure callbacks, which turn a
failed task into an alert, are Airflow code: :mod:`snowseg.airflow.notifier`."""
