# Snowseg: `make demo` runs the whole job on the local twin; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# `make setup` installs the dev lock (runtime + twin + tests + tooling); the Airflow image installs requirements.txt only.
LOCK_HASH := $(shell sha256sum requirements-dev.txt | cut -c1-16)
STAMP := $(VENV)/.synced-$(LOCK_HASH)

# The local twin and a project-local Airflow home. Override any of these from the environment.
export PYTHONPATH := $(CURDIR)/include:$(CURDIR)/devstack:$(CURDIR)/devstack/sitecustomize
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM ?= 4
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
export SNOWSEG_TWIN_HOME ?= $(CURDIR)/.twin
export SNOWSEG_TWIN_PORT ?= 8765
export SNOWSEG_S3_PORT ?= 8766
export SNOWSEG_REPORT_DIR ?= $(CURDIR)/reports
export AIRFLOW_CONN_SNOWFLAKE_DEFAULT ?= {"conn_type": "snowflake", "login": "snowseg", "password": "local-twin-no-secret", "schema": "RAW", "extra": {"account": "twin", "database": "SNOWSEG", "warehouse": "SNOWSEG_WH", "role": "SNOWSEG_ROLE", "host": "127.0.0.1", "port": $(SNOWSEG_TWIN_PORT), "protocol": "http", "private_key_file": "$(SNOWSEG_TWIN_HOME)/keys/rsa_key.p8"}}
export AIRFLOW_CONN_SNOWFLAKE_ADMIN ?= {"conn_type": "snowflake", "login": "snowseg_admin", "password": "local-twin-no-secret", "extra": {"account": "twin", "warehouse": "SNOWSEG_WH", "role": "SYSADMIN", "host": "127.0.0.1", "port": $(SNOWSEG_TWIN_PORT), "protocol": "http", "private_key_file": "$(SNOWSEG_TWIN_HOME)/keys/admin_rsa_key.p8"}}
# The twin checks Snowflake's privileges (roles, grants, ownership); SNOWSEG_TWIN_PRIVILEGES=off starts it without
export AIRFLOW_CONN_AWS_DEFAULT ?= {"conn_type": "aws", "extra": {"endpoint_url": "http://127.0.0.1:$(SNOWSEG_S3_PORT)", "region_name": "us-east-1"}}
export AWS_ACCESS_KEY_ID ?= local-twin
export AWS_SECRET_ACCESS_KEY ?= local-twin-no-secret
export AWS_DEFAULT_REGION ?= us-east-1
# `make check-connection` checks this Airflow connection (and AWS_CONN, default aws_default); SNOWPIPE=no skips S3.
# `make setup-warehouse` applies the versioned setup through CONN (default: the admin connection snowflake_admin).
# `make test-snowflake` runs only with CONN given (ADMIN_CONN default snowflake_admin, AWS_CONN default aws_default).
CONN ?= snowflake_default

.PHONY: help setup demo contract lint test airflow airflow-stop twin-up twin-down twin-status setup-warehouse check-connection test-snowflake lock bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install --quiet uv
	$(UV) pip sync --quiet --python $(PY) requirements-dev.txt
	@rm -f $(VENV)/.synced-*; touch $(STAMP)

setup: $(STAMP) ## create .venv and install the dev lock requirements-dev.txt (skipped when the lock is unchanged)

demo: setup ## run the main job on the local twin: load a sample (or FILE=..., CONTRACT=name|path.yaml, LOAD=small|bulk|snowpipe), segment, print segments
	$(PY) -m snowseg_twin.demo $(if $(FILE),--file "$(FILE)") $(if $(CONTRACT),--contract "$(CONTRACT)") $(if $(ROWS),--rows $(ROWS)) $(if $(LOAD),--load $(LOAD))

contract: setup ## draft a dataset contract from a CSV's header and rows: FILE=my.csv [LEVEL=customer|customer_table|invoice] [OUT=contracts/] (stdout without OUT)
	@test -n "$(FILE)" || { echo "make contract: give FILE=path/to/file.csv" >&2; exit 2; }
	$(PY) -m snowseg.contract_draft "$(FILE)" $(if $(LEVEL),--level $(LEVEL)) $(if $(OUT),--out "$(OUT)")

lint: setup ## ruff and mypy on include/ and dags/ (make test runs it first; settings in pyproject.toml)
	$(VENV)/bin/ruff check include dags
	$(VENV)/bin/mypy include/snowseg dags

test: setup lint ## lint, then the test suite (starts its own twin on free ports)
	$(PY) -m pytest $(PYTEST_ARGS)

twin-up: setup ## start the local twin (fakesnow + moto S3) in the background
	$(PY) -m snowseg_twin up

twin-down: ## stop the local twin
	@test -x $(PY) && $(PY) -m snowseg_twin down || true

twin-status: ## show the local twin's services
	$(PY) -m snowseg_twin status

setup-warehouse: setup ## apply the versioned warehouse setup as an admin (CONN=snowflake_admin, SNOWPIPE=no skips the pipes)
	$(PY) -m snowseg.migrations --conn $(if $(filter command line environment,$(origin CONN)),$(CONN),snowflake_admin) $(if $(filter no false 0,$(SNOWPIPE)),,--snowpipe)

check-connection: setup ## is a connection ready for the DAGs? (CONN=snowflake_default, AWS_CONN=, SNOWPIPE=no) starts nothing
	$(PY) -m snowseg.readiness --conn $(CONN) $(if $(AWS_CONN),--aws-conn $(AWS_CONN)) $(if $(filter no false 0,$(SNOWPIPE)),--no-snowpipe)

test-snowflake: setup ## the step before production: every statement form + the DAGs, in a throwaway database (CONN=, ADMIN_CONN=, AWS_CONN=, SNOWPIPE=no, LANDING_URL=, KEEP=1)
	$(PY) -m snowseg.smoke $(if $(filter command line environment,$(origin CONN)),--conn $(CONN)) $(if $(ADMIN_CONN),--admin-conn $(ADMIN_CONN)) $(if $(AWS_CONN),--aws-conn $(AWS_CONN)) $(if $(filter no false 0,$(SNOWPIPE)),--no-snowpipe) $(if $(LANDING_URL),--landing-url $(LANDING_URL)) $(if $(KEEP),--keep)

airflow: setup twin-up ## start Airflow (api-server, scheduler, dag-processor, triggerer) on the twin, in the background
	$(PY) -m snowseg_twin.airflow_ui up

airflow-stop: ## stop the Airflow started by `make airflow` (its whole process group)
	@test -x $(PY) && $(PY) -m snowseg_twin.airflow_ui down || true

lock: ## re-pin requirements.txt (runtime) and requirements-dev.txt (runtime + twin, tests, tooling) (+ overrides.txt)
	@test -x $(UV) || ( $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet uv )
	$(UV) pip compile --quiet requirements.in --override overrides.txt --python-version 3.11 -o requirements.txt
	$(UV) pip compile --quiet requirements-dev.in --override overrides.txt --python-version 3.11 -o requirements-dev.txt

bench: setup ## benchmarks: print a table per stage and save JSON under bench/results/
	$(PY) bench/bench_demo.py
	$(PY) bench/bench_loads.py
	$(PY) bench/bench_gate.py
	$(PY) bench/bench_ensemble.py
	$(PY) bench/bench_segment.py
	$(MAKE) bench-docs

.PHONY: bench-docs
bench-docs: ## regenerate docs/benchmarks.md from bench/results/*.json (bench/render.py; stdlib only)
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) bench/render.py

clean: airflow-stop twin-down ## stop the twin, remove local state (.twin, .airflow, reports, data) -- keeps .venv
	rm -rf .twin .airflow reports data .pytest_cache
