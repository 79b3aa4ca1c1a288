"""The Airflow-facing code of Snowseg; the rest of the package never imports Airflow's task context.

- :mod:`~snowseg.airflow.tasks`: what every DAG and task shares (``dag_args``, ``default_args``, the task's
  connection, which failures end a task at once, the run's contract and names);
- :mod:`~snowseg.airflow.notifier`: the failure callback that turns a failed task into an alert, from the typed
  failure's fields;
- :mod:`~snowseg.airflow.sensors`: the deferrable Snowpipe sensor and its trigger;
- :mod:`~snowseg.airflow.assets`: the ``raw_sales`` Asset and the segmentation's schedule;
- :mod:`~snowseg.airflow.alert_state`: the alerted keys of ``watch_loads``, in an Airflow Variable.

Every module here imports Airflow absolutely (``from airflow.sdk import ...``), which always means the installed
``airflow`` package, never this one (``include/`` is on ``sys.path``, not ``include/snowseg/``).
"""
