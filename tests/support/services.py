"""Restarting the machine's real services mid-test."""

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def restart_redis() -> None:
    """Stop Redis without saving (everything in it is lost) and start it again."""
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False
    )
    time.sleep(0.3)
    subprocess.run(["bash", "deploy/local/ensure-services.sh"], check=True, cwd=ROOT)
