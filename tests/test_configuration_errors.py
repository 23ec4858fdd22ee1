"""A missing or malformed setting stops manage.py with one line naming it, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTED = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/agentloom_config_errors",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def _manage(extra: dict[str, str], drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in drop and k != "DJANGO_SETTINGS_MODULE"}
    env.update(extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_distributed_mode_without_a_secret_key_says_which_variable_and_how():
    line = _one_line(_manage(DISTRIBUTED, drop=("SECRET_KEY",)))
    assert line.startswith("agentloom: SECRET_KEY is not set.")
    assert "export SECRET_KEY=" in line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AGENTS_CONCURRENCY", "abc"),
        ("AGENTLOOM_MAX_NODES", "\u0661\u0660"),
        ("DB_POOL_MAX_SIZE", "1e400"),
    ],
)
def test_a_malformed_number_names_its_variable(name, value):
    line = _one_line(_manage({**DISTRIBUTED, "SECRET_KEY": "k", name: value}))
    assert line.startswith(f"agentloom: {name}=")


def test_half_a_distributed_setup_says_what_is_missing():
    line = _one_line(_manage({"DATABASE_URL": DISTRIBUTED["DATABASE_URL"]}, drop=("REDIS_URL",)))
    assert "Set both DATABASE_URL and REDIS_URL" in line
