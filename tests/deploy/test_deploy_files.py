"""Structural checks of the deployment files: docker-compose.yml, the Dockerfile and
its entrypoint, and the Helm chart.

No Docker engine or helm binary is needed: the files are parsed (PyYAML, a few
regular expressions) and cross-checked against the code they deploy: the
environment variables settings.py reads, the entrypoint's subcommands, the
Celery queues in server/celery.py.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from workers.engine.document import DEFAULT_TIMEOUT_S
from workers.llm import catalog

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
CHART = ROOT / "helm" / "agentloom"
TEMPLATES = CHART / "templates"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

APP_SUBCOMMANDS = {"api", "worker-agents", "worker-control", "beat", "migrate"}
# What the distributed topology must configure (docs/operations.md).
DISTRIBUTED_ENV = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_REGION_NAME",
}


# --- what the code reads ----------------------------------------------------------


@cache
def settings_env_names() -> frozenset[str]:
    """Every environment variable server/settings.py reads."""
    source = (ROOT / "server" / "settings.py").read_text()
    pattern = re.compile(
        r"""(?:env\.(?:str|int|bool|float|list|db_url)|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    )
    return frozenset(pattern.findall(source))


@cache
def entrypoint_env_names() -> frozenset[str]:
    """Variables the entrypoint itself reads (${NAME...})."""
    return frozenset(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", ENTRYPOINT.read_text()))


@cache
def entrypoint_subcommands() -> frozenset[str]:
    """The labels of the entrypoint's `case "$command" in` (the `*)` fallback excluded)."""
    text = ENTRYPOINT.read_text()
    body = text[text.index('case "$command" in') : text.rindex("esac")]
    return frozenset(re.findall(r"^  ([a-z][a-z-]*)\)\s*$", body, re.MULTILINE))


def provider_env_names() -> set[str]:
    """The provider variables the model catalog (and litellm) read."""
    return {*catalog.PROVIDER_ENV.values(), catalog.OPENAI_BASE_ENV, catalog.OPENAI_MODELS_ENV}


def allowed_env_names() -> set[str]:
    return set(settings_env_names()) | set(entrypoint_env_names()) | provider_env_names()


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

    database = settings.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_size"] >= 1


def test_the_stores_have_healthchecks():
    for name in ("postgres", "redis", "s3", "api"):
        assert services()[name].get("healthcheck", {}).get("test"), name
    assert str(services()["postgres"]["image"]).startswith("postgres:16")
    assert str(services()["redis"]["image"]).startswith("redis:7")


# --- Dockerfile, .dockerignore, entrypoint ---------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.strip("/")
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    # A pattern matching a directory excludes everything below it.
    return re.compile(f"^{out}(?:/.*)?$")


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if _dockerignore_regex(line.lstrip("!")).match(path):
            ignored = not negate
    return ignored


def test_the_dockerignore_matcher_itself():
    assert dockerignored(".venv/bin/python")
    assert dockerignored("frontend/node_modules/react/index.js")
    assert dockerignored("server/__pycache__/settings.cpython-311.pyc")
    assert not dockerignored("server/settings.py")


def test_the_build_context_holds_what_the_image_needs_and_nothing_private():
    for needed in (
        "pyproject.toml",
        "uv.lock",
        "manage.py",
        "server/settings.py",
        "server/celery.py",
        "workers/runtime/tasks.py",
        "deploy/entrypoint.sh",
        "frontend/package-lock.json",
        "frontend/src/main.tsx",
    ):
        assert (ROOT / needed).exists(), needed
        assert not dockerignored(needed), needed
    for private in (".git/config", ".venv/bin/python", "var/agentloom.sqlite3", ".env", "tests/x"):
        assert dockerignored(private), private


def test_every_dockerfile_copy_source_exists_in_the_context():
    stages = set()
    copies = 0
    for instruction, args in dockerfile_instructions():
        if instruction == "FROM":
            match = re.search(r"\bAS\s+(\S+)", args, re.IGNORECASE)
            if match:
                stages.add(match.group(1))
        if instruction != "COPY":
            continue
        words = args.split()
        flags = [w for w in words if w.startswith("--")]
        sources = [w for w in words if not w.startswith("--")][:-1]
        source_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
        if source_stage is not None:
            # Either an earlier stage or an image reference (name:tag).
            assert source_stage in stages or ":" in source_stage, source_stage
            continue
        for source in sources:
            copies += 1
            path = ROOT / source
            assert path.exists(), f"COPY {source}: no such file in the repository"
            files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
            kept = [p for p in files if not dockerignored(p.relative_to(ROOT).as_posix())]
            assert kept, f"COPY {source}: everything is excluded by .dockerignore"
    assert copies >= 6


def test_the_image_is_built_as_specified():
    instructions = dockerfile_instructions()
    text = "\n".join(f"{i} {a}" for i, a in instructions)
    args = dict(a.split("=", 1) for i, a in instructions if i == "ARG" and "=" in a.split()[0])
    froms = [a.split()[0] for i, a in instructions if i == "FROM"]
    base_images = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], f) for f in froms]
    assert base_images[-1].startswith("python:3.11-slim"), base_images
    assert any(image.startswith("node:20") for image in base_images), base_images
    assert "npm ci" in text
    assert "npm run build" in text
    assert re.search(r"uv sync --frozen --no-dev\b", text)
    assert "collectstatic --noinput" in text
    # The last USER is not root, and the entrypoint is the script that was copied.
    users = [a for i, a in instructions if i == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    entrypoint = next(a for i, a in reversed(instructions) if i == "ENTRYPOINT")
    assert json.loads(entrypoint) == ["/app/deploy/entrypoint.sh"]
    assert "deploy/entrypoint.sh ./deploy/entrypoint.sh" in text
    assert "frontend/dist ./frontend/dist" in text  # where settings.FRONTEND_DIST looks


def test_the_entrypoint_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_entrypoint_refuses_to_start_processes_without_the_distributed_stores(tmp_path):
    for subcommand in sorted(APP_SUBCOMMANDS):
        result = subprocess.run(
            ["bash", str(ENTRYPOINT), subcommand],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            timeout=30,
        )
        assert result.returncode == 64, (subcommand, result.stderr)
        assert "DATABASE_URL" in result.stderr
        assert "REDIS_URL" in result.stderr


def test_the_entrypoint_runs_any_other_command():
    result = subprocess.run(
        ["bash", str(ENTRYPOINT), "echo", "a b"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert result.stdout == "a b\n"


def test_every_celery_queue_has_a_worker_subcommand():
    from server import queues
    from server.celery import app

    text = ENTRYPOINT.read_text()
    pools = re.findall(r"worker -Q (\w+)", text)
    assert sorted(pools) == sorted(queues.POOLS)
    # A worker named after a pool reads all of that pool's queues.
    consumed = set(queues.expand_pools(pools))
    assert consumed == {queue.name for queue in app.conf.task_queues}
    assert re.search(r"-Q agents\s*\\\s*\n\s*--pool threads", text)
    assert re.search(r"-Q control\s*\\\s*\n\s*--pool prefork", text)


# --- Helm chart ---------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.DOTALL)


def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.iterdir() if p.is_file())


def manifest_files() -> list[Path]:
    return [p for p in template_files() if p.suffix == ".yaml"]


@cache
def values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def values_references() -> set[tuple[str, ...]]:
    refs = set()
    for path in template_files():
        for match in re.finditer(
            r"(?<![\w])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", path.read_text()
        ):
            refs.add(tuple(match.group(1).strip(".").split(".")))
    return refs


def value_leaves(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict) and node:
        return [leaf for key, child in node.items() for leaf in value_leaves(child, (*prefix, key))]
    return [prefix]


def test_chart_metadata_and_values_parse():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "agentloom"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert chart["appVersion"]
    assert isinstance(values(), dict)


def test_every_values_reference_exists_in_values_yaml():
    refs = values_references()
    assert len(refs) > 20
    for ref in sorted(refs):
        node: Any = values()
        for depth, key in enumerate(ref):
            missing = f".Values.{'.'.join(ref)}: no {'.'.join(ref[: depth + 1])} in values.yaml"
            assert isinstance(node, dict), missing
            assert key in node, missing
            node = node[key]


def test_every_value_is_used_by_a_template():
    refs = values_references()
    for leaf in value_leaves(values()):
        used = any(leaf[: len(ref)] == ref or ref[: len(leaf)] == leaf for ref in refs)
        assert used, f"values.yaml {'.'.join(leaf)} is used by no template"


@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.name)
def test_template_actions_balance(path):
    text = path.read_text()
    assert text.count("{{") == text.count("}}"), "unbalanced {{ }}"
    stack: list[str] = []
    for number, action in enumerate(_ACTION.findall(_COMMENT.sub("", text)), 1):
        keyword = action.split(None, 1)[0] if action.split() else ""
        if keyword in {"if", "with", "range", "define", "block"}:
            stack.append(keyword)
        elif keyword == "else":
            assert stack[-1:] in (["if"], ["with"], ["range"]), f"stray else (action {number})"
        elif keyword == "end":
            assert stack, f"end without a block (action {number})"
            stack.pop()
    assert not stack, f"unclosed {stack}"


def test_included_templates_are_defined():
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    defined = set(re.findall(r'define\s+"([^"]+)"', helpers))
    assert defined
    for path in template_files():
        for name in re.findall(r'include\s+"([^"]+)"', path.read_text()):
            assert name in defined, f"{path.name} includes undefined {name}"


def stripped_documents(path: Path) -> list[dict[str, Any]]:
    """The manifest with its template actions removed, parsed as YAML.

    Lines that are only actions (if/end/include … | nindent) go; an action inside
    a line becomes a placeholder scalar. What is left must already be YAML.
    """
    lines = []
    for line in _COMMENT.sub("", path.read_text()).splitlines():
        if re.fullmatch(r"\s*(\{\{.*?\}\}\s*)+", line):
            continue
        lines.append(re.sub(r"\{\{.*?\}\}", "TEMPLATED", line))
    return [doc for doc in yaml.safe_load_all("\n".join(lines)) if doc is not None]


@cache
def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in manifest_files():
        for doc in stripped_documents(path):
            assert isinstance(doc, dict), path.name
            for key in ("apiVersion", "kind", "metadata"):
                assert key in doc, f"{path.name}: a document without {key}"
            assert doc["metadata"].get("name"), path.name
            docs.append(doc)
    return docs


def component(doc: dict[str, Any]) -> str | None:
    return (doc["metadata"].get("labels") or {}).get("app.kubernetes.io/component")


def deployments() -> dict[str, dict[str, Any]]:
    return {component(d): d for d in manifests() if d["kind"] == "Deployment"}


def test_templates_are_yaml_once_actions_are_removed():
    kinds = {doc["kind"] for doc in manifests()}
    assert {
        "Deployment",
        "Job",
        "Service",
        "Ingress",
        "ConfigMap",
        "Secret",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    } <= kinds


def test_one_deployment_per_process_with_matching_selectors():
    assert set(deployments()) == {"api", "worker-agents", "worker-control", "beat"}
    for name, deployment in deployments().items():
        spec = deployment["spec"]
        selector = spec["selector"]["matchLabels"]["app.kubernetes.io/component"]
        labels = spec["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        assert selector == labels == name
        container = spec["template"]["spec"]["containers"][0]
        assert container["args"] == [name]


def test_beat_runs_two_replicas_behind_the_leader_lease():
    # Safe because only the lease holder sends (server/runs/scheduler.py); the
    # rolling update never leaves no beat.
    spec = deployments()["beat"]["spec"]
    assert spec["replicas"] == "TEMPLATED"
    assert values()["beat"]["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_api_probes_health_and_readiness_with_an_allowed_host():
    container = deployments()["api"]["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    allowed = re.search(r'ALLOWED_HOSTS: \{\{ prepend \S+ "([^"]+)"', helpers)
    assert allowed, "ALLOWED_HOSTS must always include the probes' Host"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        headers = {h["name"]: h["value"] for h in container[probe]["httpGet"]["httpHeaders"]}
        assert headers["Host"] == allowed.group(1), probe


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook():
    jobs = [d for d in manifests() if d["kind"] == "Job"]
    assert len(jobs) == 1
    job = jobs[0]
    assert set(job["metadata"]["annotations"]["helm.sh/hook"].split(",")) == {
        "pre-install",
        "pre-upgrade",
    }
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # The Job's ConfigMap and Secret exist before it: hooks of a lower weight.
    weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    hook_config = [
        d
        for d in manifests()
        if d["kind"] in {"ConfigMap", "Secret"}
        and "helm.sh/hook" in (d["metadata"].get("annotations") or {})
    ]
    assert {d["kind"] for d in hook_config} == {"ConfigMap", "Secret"}
    for doc in hook_config:
        assert int(doc["metadata"]["annotations"]["helm.sh/hook-weight"]) < weight


def _ranged_pools(path: Path) -> dict[str, str]:
    """The `dict "component" .Values.key …` a per-pool template ranges over."""
    match = re.search(r":= dict ((?:\"[\w-]+\" \.Values\.\w+\s*)+)\}\}", path.read_text())
    assert match, f"{path.name} does not range over the pools"
    return dict(re.findall(r'"([\w-]+)" \.Values\.(\w+)', match.group(1)))


def test_workers_have_disruption_budgets_autoscaling_and_time_to_stop():
    budgets = _ranged_pools(TEMPLATES / "pdb.yaml")
    scaled = _ranged_pools(TEMPLATES / "hpa.yaml")
    for component_name, key in (
        ("worker-agents", "workerAgents"),
        ("worker-control", "workerControl"),
    ):
        assert budgets.get(component_name) == key
        assert scaled.get(component_name) == key
        assert values()[key]["podDisruptionBudget"]["enabled"] is True
        assert "enabled" in values()[key]["autoscaling"]
        # With the HPA on, the Deployment must leave `replicas` to it.
        deployment = (TEMPLATES / f"deployment-{component_name}.yaml").read_text()
        unless = f"(or .Values.{key}.autoscaling.enabled .Values.{key}.keda.enabled)"
        assert f"{{{{- if not {unless} }}}}\n  replicas:" in deployment
    assert values()["workerAgents"]["terminationGracePeriodSeconds"] > DEFAULT_TIMEOUT_S
    for name in ("worker-agents", "worker-control"):
        assert "terminationGracePeriodSeconds" in deployments()[name]["spec"]["template"]["spec"]


def test_the_chart_sets_only_variables_the_code_reads():
    allowed = allowed_env_names()
    # In the helpers, upper-case keys at the start of a line are the env data.
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    keys = set(re.findall(r"^([A-Z][A-Z0-9_]+):", helpers, re.MULTILINE))
    for path in manifest_files():
        keys |= set(re.findall(r"- name: ([A-Z][A-Z0-9_]+)\n\s+value:", path.read_text()))
    assert keys >= DISTRIBUTED_ENV
    assert {"API_WORKERS", "AGENTS_CONCURRENCY", "CONTROL_CONCURRENCY"} <= keys
    assert keys - allowed == set()


# --- docs ---------------------------------------------------------------------------------


def test_operations_doc_documents_every_setting():
    doc = OPERATIONS_DOC.read_text()
    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in doc)
    assert not missing, f"docs/operations.md does not document {missing}"
