"""``make test-snowflake``: prove that a Snowflake account (and S3) runs Snowseg, the step before production.

In a throwaway database ``SNOWSEG_SMOKE_<id>`` that an admin connection sets up with the versioned setup and drops
at the end, the suite runs, as the connection the DAGs use:

- the connection checks of ``make check-connection`` (:mod:`snowseg.readiness`);
- one statement of every form the pipeline sends, through the pipeline's own functions and SQL files, each
  followed by a look at the tables (:mod:`snowseg.smoke.forms`);
- the three load DAGs and ``segment_customers`` with ``dag.test()`` on a 1,000-row generated sample
  (:mod:`snowseg.smoke.dag_runs`).

It prints one line per check and exits 1 if any failed. Modules: :mod:`~snowseg.smoke.cli` (the command),
:mod:`~snowseg.smoke.suite` (the order of work), :mod:`~snowseg.smoke.database` (the throwaway database),
:mod:`~snowseg.smoke.samples` (the input files), :mod:`~snowseg.smoke.forms` and :mod:`~snowseg.smoke.dag_runs`
(the checks). Run it with ``make test-snowflake CONN=<connection> [ADMIN_CONN=...] [AWS_CONN=...]`` or
``python -m snowseg.smoke --conn <connection>``; ``docs/real-snowflake.md`` says where it fits.
"""
