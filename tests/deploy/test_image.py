"""The Dockerfile, its .dockerignore and the entrypoint."""

from __future__ import annotations

import json
import re
import subprocess

from tests.deploy.files import (
    APP_SUBCOMMANDS,
    DOCKERFILE,
    DOCKERIGNORE,
    ENTRYPOINT,
    ROOT,
)


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
