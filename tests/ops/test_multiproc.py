"""Where a process group keeps its metric files and when they are emptied (ops/multiproc.py)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.processes import ROOT

# Prints the directory chosen by a process started in a session of its own.
_PREPARE = "import sys; from pathlib import Path; from server.ops.multiproc import prepare; "
_PREPARE += "print(prepare(Path(sys.argv[1])))"


def prepare_in_new_group(var_dir: Path, **env: str) -> Path:
    environ = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    environ.pop("AGENTLOOM_METRICS_DIR_GROUP", None)
    environ.update(env, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", _PREPARE, str(var_dir)],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    )
    return Path(done.stdout.strip())


def test_a_group_leader_gets_an_empty_directory_of_its_own(tmp_path):
    first = prepare_in_new_group(tmp_path)
    (first / "counter_1.db").write_bytes(b"x")
    second = prepare_in_new_group(tmp_path)
    assert first.parent == second.parent == tmp_path / "metrics"
    assert second.name.startswith(f"{socket.gethostname()}-")
    assert second != first
    assert list(second.iterdir()) == []
    # The first group has no process left: its directory went with it.
    assert not first.exists()


def test_a_child_in_a_new_session_chooses_again_but_the_operators_choice_stands(tmp_path):
    inherited = tmp_path / "metrics" / "elsewhere"
    inherited.mkdir(parents=True)
    (inherited / "counter_1.db").write_bytes(b"x")
    chosen = prepare_in_new_group(
        tmp_path, PROMETHEUS_MULTIPROC_DIR=str(inherited), AGENTLOOM_METRICS_DIR_GROUP="1"
    )
    assert chosen != inherited
    operators = tmp_path / "operator"
    assert prepare_in_new_group(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(operators)) == operators
    assert operators.is_dir()
    assert (inherited / "counter_1.db").exists()  # not ours to empty
