"""Fuzzing the API from its OpenAPI schema with schemathesis, for the suite and the bench."""

import subprocess
import sys
from pathlib import Path

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


def fuzz_api(
    base: str, token: str, *, phases: str, max_examples: int, seed: int, timeout_s: float | None
) -> subprocess.CompletedProcess[str]:
    """Run schemathesis against the API at ``base``; the only check: no server error."""
    return subprocess.run(
        [
            SCHEMATHESIS, "run", f"{base}/api/schema/", "--url", base,
            "-H", f"Authorization: Token {token}",
            "--checks", "not_a_server_error",
            "--phases", phases,
            "--max-examples", str(max_examples),
            "--seed", str(seed),
            "--request-timeout", "20",
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )  # fmt: skip
