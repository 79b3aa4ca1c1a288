"""Static checks of docker-compose.yaml (there is no Docker engine here, so it is never started).

The file's header documents the ``docker compose ... up`` commands (the default, and the CeleryExecutor
profile). Each is parsed (its ``VAR=value`` prefix, ``--profile`` and ``--scale`` flags) and the file is
resolved as compose would for it: ``${...}`` substituted, services outside the active profiles dropped.
The executor tests check those resolved projects, so a command the header documents is a command that works.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yaml"
DEPLOYING_MD = REPO / "docs" / "deploying.md"
AIRFLOW_IMAGE = "apache/airflow:3.3.2-python3.11"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
WORKER = "airflow-worker"
_DEFAULT_RE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:-(?P<default>[^}]*)\}$")
_SUBST_RE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED_RE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>.*))?$", re.DOTALL)
_COMMAND_RE = re.compile(r"^#\s+(?P<command>(?:[A-Z_][A-Z0-9_]*=\S+\s+)*docker compose\b.*\bup\b[^#]*?)\s*(?:#.*)?$")


class Command(NamedTuple):
    """A documented ``[VAR=value ...] docker compose [--profile P ...] up [--scale S=N ...]``."""

    text: str
    env: dict[str, str]
    profiles: frozenset[str]
    scale: dict[str, int]


def parse_command(text: str) -> Command:
    words = shlex.split(text)
    env = {}
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[:2] == ["docker", "compose"], text
    profiles, scale = set(), {}
    for flag, value in zip(words, words[1:], strict=False):
        if flag == "--profile":
            profiles.add(value)
        elif flag == "--scale":
            service, _, count = value.partition("=")
            scale[service] = int(count)
    return Command(text, env, frozenset(profiles), scale)


def documented_commands() -> list[Command]:
    """The ``docker compose ... up`` commands in the file's header comment (before the YAML starts)."""
    header = COMPOSE_FILE.read_text(encoding="utf-8").split("\n---\n", 1)[0]
    return [parse_command(m["command"]) for line in header.splitlines() if (m := _COMMAND_RE.match(line))]


COMMANDS = documented_commands()


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ``${...}`` substitution, for the forms compose files use: ``$$``, ``$VAR``, ``${VAR}``,
    ``${VAR:-default}`` (unset or empty) and ``${VAR-default}`` (unset)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        if m["named"]:
            return env.get(m["named"], "")
        braced = _BRACED_RE.match(m["braced"])
        assert braced, f"compose substitution this test does not model: ${{{m['braced']}}}"
        name, op = braced["name"], braced["op"]
        if op == ":-":
            return env.get(name) or braced["default"]
        if op == "-":
            return env.get(name, braced["default"])
        return env.get(name, "")

    return _SUBST_RE.sub(substitute, value)


def resolve(compose: dict, command: Command) -> dict[str, dict]:
    """The services ``command`` starts, with its variables substituted (no ``.env``: every default applies)."""
    services = interpolate(compose, command.env)["services"]
    return {
        name: svc
        for name, svc in services.items()
        if not svc.get("profiles") or set(svc["profiles"]) & command.profiles
    }


def airflow_services(compose: dict, project: dict[str, dict]) -> dict[str, dict]:
    """The services of a project built from the common Airflow image."""
    return {name: svc for name, svc in project.items() if svc.get("image") == compose["x-airflow-common"]["image"]}


def executor_of(service: dict) -> str:
    return service["environment"]["AIRFLOW__CORE__EXECUTOR"]


def runs_celery_workers(project: dict[str, dict]) -> bool:
    return any(str(svc.get("command", "")).startswith("celery worker") for svc in project.values())


def default_command() -> Command:
    plain = [c for c in COMMANDS if not c.profiles and not c.env]
    assert len(plain) == 1, f"the header of {COMPOSE_FILE.name} should document one plain `docker compose up`"
    return plain[0]


def celery_command() -> Command:
    """The first documented command with the ``celery`` profile and nothing else (the one docs name)."""
    celery = [c for c in COMMANDS if c.profiles == {"celery"} and not c.scale]
    assert celery, f"the header of {COMPOSE_FILE.name} should document the `--profile celery` command"
    return celery[0]


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
    assert set(compose["services"]) == {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES, WORKER, "flower"}
    assert set(compose["volumes"]) >= {"postgres-db-volume"}


class _NoDuplicateKeysLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; compose refuses the file. This loader refuses it too."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode) and key.value != "<<"]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {duplicates}", node.start_mark)
    return loader.construct_mapping(node)


_NoDuplicateKeysLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def test_no_key_is_given_twice(compose):
    with COMPOSE_FILE.open(encoding="utf-8") as f:
        assert yaml.load(f, Loader=_NoDuplicateKeysLoader) == compose


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
        pytest.param(HealthCase("redis", "redis-cli ping"), id="redis"),
        pytest.param(
            HealthCase(WORKER, "celery --app airflow.providers.celery.executors.celery_executor.app inspect ping"),
            id="worker",
        ),
        pytest.param(HealthCase("flower", "http://localhost:5555/"), id="flower"),
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
    for name in (*AIRFLOW_SERVICES, WORKER):
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
        pytest.param(
            EnvCase("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://airflow:airflow@postgres/airflow"),
            id="database",
        ),
        pytest.param(EnvCase("AIRFLOW__CORE__LOAD_EXAMPLES", "false"), id="no-examples"),
        pytest.param(EnvCase("AIRFLOW__CORE__PARALLELISM", "${AIRFLOW_PARALLELISM:-4}"), id="parallelism"),
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
    for name in (*AIRFLOW_SERVICES, WORKER):
        assert "snowseg-reports:/opt/airflow/snowseg" in services[name]["volumes"], name


def test_every_substitution_has_a_default(compose):
    """The header promises the file is valid without a .env: every ``${VAR}`` carries a ``:-`` default."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            found.extend(m[0] for m in _SUBST_RE.finditer(value) if not m["escaped"])

    walk(compose)
    assert found, "the pattern sees the file's substitutions"
    assert [s for s in found if not _DEFAULT_RE.match(s)] == []


# --- the executors: the plain `docker compose up` (LocalExecutor) and the `celery` profile ------------------


def test_header_documents_the_default_and_the_celery_commands():
    default_command()
    assert celery_command().env, "the celery command must switch the executor, not only add services"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.text)
def test_every_documented_command_is_a_consistent_project(compose, command):
    """Every dependency is started too (compose refuses a project otherwise), every --scale names a started
    service, and the Airflow services run the CeleryExecutor exactly when Celery workers are started."""
    project = resolve(compose, command)
    missing = {(name, dep) for name, svc in project.items() for dep in svc.get("depends_on", {}) if dep not in project}
    assert missing == set()
    assert set(command.scale) <= set(project)
    executors = {executor_of(svc) for svc in airflow_services(compose, project).values()}
    assert executors == ({"CeleryExecutor"} if runs_celery_workers(project) else {"LocalExecutor"})


def test_default_up_runs_the_local_executor_and_no_celery_service(compose):
    project = resolve(compose, default_command())
    assert set(project) == {"postgres", "airflow-init", *AIRFLOW_SERVICES}
    assert set(airflow_services(compose, project)) == {"airflow-init", *AIRFLOW_SERVICES}
    assert {executor_of(svc) for svc in airflow_services(compose, project).values()} == {"LocalExecutor"}
    broker = urlparse(project["airflow-scheduler"]["environment"]["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.hostname not in project
    assert not runs_celery_workers(project)


def test_celery_profile_adds_the_broker_and_the_workers(compose):
    default, celery = resolve(compose, default_command()), resolve(compose, celery_command())
    broker = urlparse(celery["airflow-scheduler"]["environment"]["AIRFLOW__CELERY__BROKER_URL"])
    assert set(celery) - set(default) == {broker.hostname, WORKER}
    assert set(airflow_services(compose, celery)) == {"airflow-init", *AIRFLOW_SERVICES, WORKER}


@pytest.mark.parametrize(
    "key", ["AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND"]
)
def test_celery_profile_every_airflow_service_agrees(compose, key):
    airflow = airflow_services(compose, resolve(compose, celery_command()))
    values = {name: svc["environment"].get(key) for name, svc in airflow.items()}
    assert len(set(values.values())) == 1 and None not in values.values(), values
    if key == "AIRFLOW__CORE__EXECUTOR":
        assert set(values.values()) == {"CeleryExecutor"}


def test_broker_is_the_healthy_redis_service(compose):
    project = resolve(compose, celery_command())
    broker = urlparse(project["airflow-scheduler"]["environment"]["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis"
    redis = project[broker.hostname]
    assert redis["image"].split(":")[0] == "redis"
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    assert (broker.port or 6379) in [int(p) for p in redis["expose"]]
    assert "ports" not in redis  # reached over the compose network only


def test_result_backend_is_the_metadata_database(compose):
    env = resolve(compose, celery_command())["airflow-scheduler"]["environment"]
    scheme, _, rest = env["AIRFLOW__CELERY__RESULT_BACKEND"].partition("+")
    assert scheme == "db"  # Celery's SQLAlchemy result backend
    backend, metadata = urlparse(rest), urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert backend.scheme.split("+")[0] == metadata.scheme.split("+")[0] == "postgresql"
    same = ("hostname", "port", "username", "password", "path")
    assert {a: getattr(backend, a) for a in same} == {a: getattr(metadata, a) for a in same}


def test_worker_runs_celery_with_warm_shutdown_and_a_ping_healthcheck(compose):
    worker = resolve(compose, celery_command())[WORKER]
    assert worker["command"] == "celery worker"
    probe = worker["healthcheck"]["test"]
    assert probe[0] == "CMD-SHELL" and 'inspect ping -d "celery@${HOSTNAME}"' in probe[1]
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"


def test_worker_waits_for_the_broker_the_init_and_the_apiserver(compose):
    project = resolve(compose, celery_command())
    broker = urlparse(project["airflow-scheduler"]["environment"]["AIRFLOW__CELERY__BROKER_URL"])
    depends = project[WORKER]["depends_on"]
    assert depends == {
        **project["airflow-scheduler"]["depends_on"],  # postgres healthy, airflow-init completed
        broker.hostname: {"condition": "service_healthy"},
        "airflow-apiserver": {"condition": "service_healthy"},
    }
    assert depends["airflow-init"] == {"condition": "service_completed_successfully"}


def test_worker_is_the_scheduler_image_mounts_and_environment(compose):
    """A task sees the same code, connections and SNOWSEG_* settings on a worker as under the scheduler."""
    airflow = airflow_services(compose, resolve(compose, celery_command()))
    assert len({(svc["image"], repr(svc["build"])) for svc in airflow.values()}) == 1  # one image, one version
    worker, scheduler = airflow[WORKER], airflow["airflow-scheduler"]
    assert worker["user"] == scheduler["user"]
    assert worker["volumes"] == scheduler["volumes"]
    env, reference = worker["environment"], scheduler["environment"]
    assert {k: (v, env.get(k)) for k, v in reference.items() if env.get(k) != v} == {}
    assert set(env) - set(reference) == {"DUMB_INIT_SETSID"}
    snowseg = {"SNOWSEG_REPORT_DIR", "SNOWSEG_ALERTS_FILE", "SNOWSEG_SNOWFLAKE_CONN_ID", "AIRFLOW_CONN_SNOWFLAKE_DEFAULT"}
    assert snowseg <= set(reference)  # so the worker has them too


def test_worker_count_is_settable(compose, services):
    """``deploy.replicas`` comes from a variable (default 1); nothing pins one container, so --scale works."""
    raw = services[WORKER]["deploy"]["replicas"]
    assert int(with_default(raw)) == 1
    variable = re.match(r"^\$\{(\w+):-", raw)
    assert variable, raw
    assert interpolate(raw, {variable[1]: "3"}) == "3"
    assert "container_name" not in services[WORKER] and "ports" not in services[WORKER]
    scaled = [c for c in COMMANDS if WORKER in c.scale]
    assert scaled and all(c.scale[WORKER] > 1 for c in scaled), "the header shows how to start more workers"


def test_flower_runs_only_with_its_own_profile_on_loopback(compose):
    celery = resolve(compose, celery_command())
    assert "flower" not in celery
    with_flower = [resolve(compose, c) for c in COMMANDS if "flower" in c.profiles]
    assert with_flower, "the header documents the flower profile"
    for project in with_flower:
        flower = project["flower"]
        assert flower["command"] == "celery flower"
        assert all(str(p).startswith("127.0.0.1:") for p in flower["ports"])  # its pages show task arguments
        broker = urlparse(flower["environment"]["AIRFLOW__CELERY__BROKER_URL"])
        assert flower["depends_on"][broker.hostname] == {"condition": "service_healthy"}


def test_deploying_md_gives_the_celery_command_of_the_header():
    assert celery_command().text in DEPLOYING_MD.read_text(encoding="utf-8")
