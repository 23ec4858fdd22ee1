"""docker-compose.yml, and the settings the code reads and the docs name."""

from __future__ import annotations

import json
import re
import shlex
from functools import cache
from typing import Any

import yaml

from tests.deploy.files import (
    APP_SUBCOMMANDS,
    COMPOSE,
    DISTRIBUTED_ENV,
    OPERATIONS_DOC,
    allowed_env_names,
    entrypoint_env_names,
    entrypoint_subcommands,
    settings_env_names,
)
from workers.engine.document import DEFAULT_TIMEOUT_S


def test_the_env_name_extraction_finds_the_known_variables():
    # Guards the regexes above: an empty set would make every check below vacuous.
    names = settings_env_names()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "AGENTLOOM_MAX_NODES"} <= names
    assert {"AGENTLOOM_VAR_DIR", "AWS_S3_ENDPOINT_URL", "AGENTLOOM_PING_INTERVAL_S"} <= names
    assert {"API_WORKERS", "AGENTS_CONCURRENCY", "CONTROL_CONCURRENCY"} <= entrypoint_env_names()
    assert entrypoint_subcommands() >= APP_SUBCOMMANDS


# --- docker-compose.yml -------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's ${NAME:-default} with an empty shell: defaults win, required names show."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if operator and operator.endswith("-"):
            return argument
        return f"<{name}>"

    return _INTERPOLATION.sub(replace, value).replace("$$", "$")


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: interpolate(str(value)) for name, value in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def is_app_service(service: dict[str, Any]) -> bool:
    build = service.get("build")
    dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
    return dockerfile == "deploy/Dockerfile"


def app_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in services().items() if is_app_service(svc)}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def test_every_service_has_an_image_or_a_build():
    assert services()
    for name, service in services().items():
        assert service.get("image") or service.get("build"), name


def test_every_app_process_has_a_service_running_its_subcommand():
    by_subcommand = {command(svc)[0]: name for name, svc in app_services().items() if command(svc)}
    assert set(by_subcommand) >= APP_SUBCOMMANDS, by_subcommand
    for name, service in app_services().items():
        assert command(service), f"{name} has no command"
        assert command(service)[0] in entrypoint_subcommands(), (name, command(service))


def test_app_services_set_only_variables_the_code_reads():
    allowed = allowed_env_names()
    for name, service in app_services().items():
        unknown = set(environment(service)) - allowed
        assert not unknown, f"{name} sets {sorted(unknown)}, which nothing reads"


def test_app_services_configure_the_distributed_topology():
    for name, service in app_services().items():
        env = environment(service)
        missing = DISTRIBUTED_ENV - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert env["SECRET_KEY"] == "<SECRET_KEY>", "SECRET_KEY must come from the operator"


def test_connection_urls_point_at_services_of_this_file():
    from urllib.parse import urlsplit

    for name, service in app_services().items():
        env = environment(service)
        for variable in ("DATABASE_URL", "REDIS_URL", "AWS_S3_ENDPOINT_URL"):
            host = urlsplit(env[variable]).hostname
            assert host in services(), f"{name}: {variable} points at {host!r}"
        assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"


def test_the_s3_server_knows_the_keys_the_app_uses():
    config = json.loads(interpolate(compose()["configs"]["seaweedfs-s3"]["content"]))
    keys = {
        (cred["accessKey"], cred["secretKey"])
        for identity in config["identities"]
        for cred in identity.get("credentials", [])
    }
    for name, service in app_services().items():
        env = environment(service)
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) in keys, name
    s3 = services()["s3"]
    assert any(c["source"] == "seaweedfs-s3" for c in s3["configs"])
    assert "-s3" in command(s3)


def test_depends_on_refers_to_existing_services_with_sound_conditions():
    for name, service in services().items():
        for dependency, condition in depends_on(service).items():
            assert dependency in services(), f"{name} depends on unknown {dependency}"
            assert condition in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }, (name, condition)
            target = services()[dependency]
            if condition == "service_healthy":
                assert target.get("healthcheck", {}).get("test"), f"{dependency} has no healthcheck"
            if condition == "service_completed_successfully":
                assert target.get("restart") == "no", f"{dependency} is waited on but restarts"


def test_the_depends_on_graph_is_acyclic():
    graph = {name: set(depends_on(service)) for name, service in services().items()}
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in done:
            return
        assert node not in visiting, f"depends_on cycle: {' -> '.join([*path, node])}"
        visiting.add(node)
        for dependency in graph.get(node, ()):
            visit(dependency, [*path, node])
        visiting.discard(node)
        done.add(node)

    for node in graph:
        visit(node, [])


def test_application_processes_wait_for_migrations():
    for name, service in app_services().items():
        if command(service)[0] in APP_SUBCOMMANDS - {"migrate"}:
            assert depends_on(service).get("migrate") == "service_completed_successfully", name
    migrate = next(s for s in app_services().values() if command(s)[0] == "migrate")
    assert depends_on(migrate).get("postgres") == "service_healthy"


def test_exactly_one_beat():
    beats = [name for name, svc in app_services().items() if command(svc)[:1] == ["beat"]]
    assert len(beats) == 1, beats
    beat = services()[beats[0]]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert not beat.get("ports")


def test_worker_pools_can_be_scaled():
    for name in ("worker-agents", "worker-control"):
        service = services()[name]
        # A fixed name or a published port would collide on `--scale`.
        assert "container_name" not in service, name
        assert not service.get("ports"), name


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def test_agent_workers_get_time_to_finish_a_model_call_on_stop():
    grace = _seconds(services()["worker-agents"].get("stop_grace_period", "10s"))
    assert grace > DEFAULT_TIMEOUT_S


def test_the_api_publishes_port_8000_and_checks_readiness_on_an_allowed_host():
    api = services()["api"]
    assert any(str(port).split(":")[-1] == "8000" for port in api.get("ports", []))
    test = " ".join(api["healthcheck"]["test"])
    match = re.search(r"http://([^:/]+):8000/readyz", test)
    assert match, test
    allowed_hosts = environment(api)["ALLOWED_HOSTS"].split(",")
    assert match.group(1) in allowed_hosts, "Django would answer the healthcheck with 400"


def test_postgres_connections_come_from_a_bounded_pool():
    # Persistent per-thread connections would leak under ASGI (one thread per
    # request); a pool per process lends and takes back.
    from django.conf import settings
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    database = settings.DATABASES["default"]
    # Django's backend (the suite's adds only a cheaper flush: tests/support/postgres).
    assert isinstance(connections["default"], DatabaseWrapper)
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_size"] >= 1


def test_the_stores_have_healthchecks():
    for name in ("postgres", "redis", "s3", "api"):
        assert services()[name].get("healthcheck", {}).get("test"), name
    assert str(services()["postgres"]["image"]).startswith("postgres:16")
    assert str(services()["redis"]["image"]).startswith("redis:7")


# --- docs ---------------------------------------------------------------------------------


def test_operations_doc_documents_every_setting():
    doc = OPERATIONS_DOC.read_text()
    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in doc)
    assert not missing, f"docs/operations.md does not document {missing}"
