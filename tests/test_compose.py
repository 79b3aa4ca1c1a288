"""Static checks of docker-compose.yaml (there is no Docker engine here, so it is never started)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yaml"
AIRFLOW_IMAGE = "apache/airflow:3.3.2-python3.11"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
_DEFAULT_RE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:-(?P<default>[^}]*)\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def one_shot_services(services: dict) -> set[str]:
    """Services others wait on to *finish* (condition service_completed_successfully)."""
    return {
        name
        for svc in services.values()
        if isinstance(svc.get("depends_on"), dict)
        for name, dep in svc["depends_on"].items()
        if dep.get("condition") == "service_completed_successfully"
    }


def bind_sources(service: dict) -> list[str]:
    """Host paths of a service's bind mounts (short ``src:dst[:mode]`` or long ``type: bind`` syntax)."""
    sources = []
    for vol in service.get("volumes", []):
        if isinstance(vol, dict):
            if vol.get("type") == "bind":
                sources.append(vol["source"])
        else:
            src = vol.split(":", 1)[0]
            if src.startswith((".", "/", "~", "$")):
                sources.append(src)
    return sources


def with_default(value: str) -> str:
    """``${VAR:-default}`` -> ``default``; anything else unchanged."""
    m = _DEFAULT_RE.match(str(value))
    return m.group("default") if m else str(value)


def test_file_parses_into_services_and_volumes(compose):
    assert isinstance(compose, dict)
    assert set(compose["services"]) == {"postgres", "airflow-init", *AIRFLOW_SERVICES}
    assert set(compose["volumes"]) >= {"postgres-db-volume"}


def test_only_airflow_init_is_one_shot(services):
    assert one_shot_services(services) == {"airflow-init"}
    assert "healthcheck" not in services["airflow-init"]
    assert "restart" not in services["airflow-init"]


def test_every_long_running_service_has_a_healthcheck(services):
    missing = [
        name
        for name, svc in services.items()
        if name not in one_shot_services(services) and not (svc.get("healthcheck") or {}).get("test")
    ]
    assert missing == []


class HealthCase(NamedTuple):
    service: str
    probe: str  # a fragment the healthcheck command must contain


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(HealthCase("postgres", "pg_isready"), id="postgres"),
        pytest.param(HealthCase("airflow-apiserver", "http://localhost:8080/api/v2/version"), id="apiserver"),
        pytest.param(HealthCase("airflow-scheduler", "http://localhost:8974/health"), id="scheduler"),
        pytest.param(
            HealthCase("airflow-dag-processor", "airflow jobs check --job-type DagProcessorJob --local"),
            id="dag-processor",
        ),
        pytest.param(
            HealthCase("airflow-triggerer", "airflow jobs check --job-type TriggererJob --local"), id="triggerer"
        ),
    ],
)
def test_healthcheck_probes_the_right_thing(services, case):
    test = services[case.service]["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else test
    assert case.probe in text


def test_scheduler_health_server_is_enabled(compose):
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_bind_mounted_host_paths_exist(services):
    missing = sorted(
        {
            src
            for svc in services.values()
            for src in bind_sources(svc)
            if src.startswith("./") and not (REPO / src).exists()
        }
    )
    assert missing == [], f"bind mounts in {COMPOSE_FILE.name} point at paths missing from the repo"


def test_bind_mounts_are_relative_to_the_repo(services):
    absolute = sorted({src for svc in services.values() for src in bind_sources(svc) if not src.startswith("./")})
    assert absolute == []


class MountCase(NamedTuple):
    source: str
    target: str


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(MountCase("./dags", "/opt/airflow/dags"), id="dags"),
        pytest.param(MountCase("./include", "/opt/airflow/include"), id="include"),
        pytest.param(MountCase("./plugins", "/opt/airflow/plugins"), id="plugins"),
        pytest.param(MountCase("./requirements.txt", "/opt/airflow/requirements.txt"), id="requirements"),
    ],
)
def test_airflow_services_mount_the_project(services, case):
    for name in AIRFLOW_SERVICES:
        targets = {v.split(":")[0]: v.split(":")[1] for v in services[name]["volumes"] if isinstance(v, str)}
        assert targets.get(case.source) == case.target, name


def test_apiserver_publishes_8080(services):
    ports = [str(p) for p in services["airflow-apiserver"]["ports"]]
    assert "8080:8080" in ports


def test_images_are_pinned(services):
    unpinned = {}
    for name, svc in services.items():
        image = with_default(svc.get("image", ""))
        _repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
        if not image or not tag or tag == "latest":
            unpinned[name] = image
    assert unpinned == {}


def test_airflow_image_builds_from_the_pinned_official_image(compose):
    build = compose["x-airflow-common"]["build"]
    assert with_default(build["args"]["AIRFLOW_IMAGE"]) == AIRFLOW_IMAGE
    dockerfile = build["dockerfile_inline"]
    assert "FROM $${AIRFLOW_IMAGE}" in dockerfile  # $$ is compose's escape for a literal $
    assert "pip install --no-cache-dir --no-deps -r /tmp/requirements.txt" in dockerfile
    assert (REPO / build.get("context", ".") / "requirements.txt").is_file()


# The twin, the tests and the tooling are dev-only (requirements-dev.txt): never in the image's lock.
DEV_ONLY = ("fakesnow", "moto", "duckdb", "sqlglot", "pytest", "pytest-timeout", "pytest-xdist", "playwright", "ruff", "mypy", "uv")
_PIN_RE = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)", re.MULTILINE)


def locked(name: str) -> dict[str, str]:
    """The name -> version pins of a uv lock file at the repository's top."""
    return {k.lower(): v for k, v in _PIN_RE.findall((REPO / name).read_text(encoding="utf-8"))}


def test_image_lock_holds_no_dev_tools():
    assert sorted(set(DEV_ONLY) & set(locked("requirements.txt"))) == []


def test_dev_lock_is_the_runtime_lock_plus_dev_tools():
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    assert {k: (v, dev.get(k)) for k, v in runtime.items() if dev.get(k) != v} == {}
    assert sorted(set(DEV_ONLY) - set(dev)) == []


def test_no_pip_install_at_container_start(compose):
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "_PIP_ADDITIONAL_REQUIREMENTS:" not in text
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in compose["x-airflow-common"]["environment"]


class EnvCase(NamedTuple):
    key: str
    value: str


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(EnvCase("AIRFLOW__CORE__EXECUTOR", "LocalExecutor"), id="executor"),
        pytest.param(
            EnvCase("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://airflow:airflow@postgres/airflow"),
            id="database",
        ),
        pytest.param(EnvCase("AIRFLOW__CORE__LOAD_EXAMPLES", "false"), id="no-examples"),
        pytest.param(EnvCase("AIRFLOW__CORE__PARALLELISM", "4"), id="parallelism"),
        pytest.param(EnvCase("PYTHONPATH", "/opt/airflow/include"), id="pythonpath"),
        pytest.param(
            EnvCase("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "http://airflow-apiserver:8080/execution/"),
            id="execution-api",
        ),
        pytest.param(
            EnvCase("SNOWSEG_SNOWFLAKE_CONN_ID", "${SNOWSEG_SNOWFLAKE_CONN_ID:-snowflake_default}"), id="conn-id"
        ),
        pytest.param(
            EnvCase("AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "${AIRFLOW_CONN_SNOWFLAKE_DEFAULT:-}"), id="conn-from-env"
        ),
    ],
)
def test_common_environment(compose, case):
    assert str(compose["x-airflow-common"]["environment"][case.key]) == case.value


def test_execution_api_url_points_at_the_apiserver(compose, services):
    url = urlparse(compose["x-airflow-common"]["environment"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname in services
    assert f"{url.port}:{url.port}" in [str(p) for p in services[url.hostname]["ports"]]


def test_database_url_points_at_the_postgres_service(compose, services):
    url = urlparse(compose["x-airflow-common"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert url.hostname == "postgres"
    assert services["postgres"]["environment"]["POSTGRES_DB"] == url.path.lstrip("/")


def test_start_order(services):
    assert services["airflow-init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "db migrate" in " ".join(services["airflow-init"]["command"])
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "airflow-init": {"condition": "service_completed_successfully"},
        }, name


def test_no_secrets_in_the_file():
    """Connection values come from .env; the compose file only references them."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert re.search(r"AIRFLOW_CONN_\w+:\s*['\"]?(snowflake|aws)://", text) is None
    assert "env_file" not in text  # compose reads .env for ${...} on its own; nothing else to load


def test_reports_and_alerts_are_on_a_volume_every_airflow_service_shares(compose, services):
    """Tasks write the run reports and the alerts file; the api-server's loads monitor serves the reports."""
    env = compose["x-airflow-common"]["environment"]
    assert env["SNOWSEG_REPORT_DIR"].startswith("/opt/airflow/snowseg/")
    assert env["SNOWSEG_ALERTS_FILE"].startswith("/opt/airflow/snowseg/")
    assert "snowseg-reports" in compose["volumes"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert "snowseg-reports:/opt/airflow/snowseg" in services[name]["volumes"], name
