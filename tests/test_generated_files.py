"""The files the frontend takes from the engine and the server are the ones the code makes now.

`frontend/src/generated/` is checked in so the frontend builds without a Python environment; these
tests catch a change to the engine's catalog or to the API that was not followed by
`make generate`. (`api.ts` is not checked in: the frontend's build and typecheck derive it from
`openapi.json`.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "frontend" / "src" / "generated"
STALE = (
    "{name} is not what the code generates now: run `make generate` at the repository root "
    "and commit the regenerated files in frontend/src/generated/."
)


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _checked_in(name: str) -> Any:
    return json.loads((GENERATED / name).read_text())


def test_engine_catalog_is_current() -> None:
    generated = json.loads(_run(["-m", "workers.engine.catalog"], dict(os.environ)))
    assert generated == _checked_in("engineCatalog.json"), STALE.format(name="engineCatalog.json")


def test_openapi_schema_is_current(tmp_path: Path) -> None:
    # As `make generate` makes it: the embedded mode, whatever services this shell points at.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "server.settings", "AGENTLOOM_VAR_DIR": str(tmp_path)}
    out = tmp_path / "openapi.json"
    _run(["manage.py", "spectacular", "--format", "openapi-json", "--file", str(out)], env)
    generated = json.loads(out.read_text())
    assert generated == _checked_in("openapi.json"), STALE.format(name="openapi.json")
