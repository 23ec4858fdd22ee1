"""The schema fuzzing of tests/api/test_fuzz.py at full scale, against the real deployment.

Usage: .venv/bin/python -m bench.fuzz_bench [--max-examples 100 --stateful-examples 50 --seed N]

The suite fuzzes every operation with a few generated requests each, so that
it stays fast; this sends many more (every phase: the schema's examples, the
coverage phase's boundary values, ``--max-examples`` generated requests per
operation, then stateful sequences) to the API and workers started as the
other benches start them. Prints how many requests each part sent, how long
it took, and how many were answered with a server error (the goal: 0). A
non-zero exit status means a server error was found; schemathesis's report
is printed then.
"""

import argparse
import re
import sys
import time

from bench.harness import deployment, start_processes, stop_processes
from tests.support.fuzzing import fuzz_api


def _fuzz(base: str, token: str, *, phases: str, max_examples: int, seed: int) -> bool:
    """Run schemathesis once; print its figures. True when no server error was found."""
    started = time.monotonic()
    result = fuzz_api(
        base, token, phases=phases, max_examples=max_examples, seed=seed, timeout_s=None
    )
    seconds = time.monotonic() - started
    counted = re.search(r"(\d+) generated", result.stdout)
    cases = counted.group(1) if counted else "?"
    found = "no server error" if result.returncode == 0 else "SERVER ERRORS FOUND"
    print(
        f"{phases} (max {max_examples} per operation, seed {seed}): {cases} test cases "
        f"in {seconds:.0f} s: {found}"
    )
    if result.returncode != 0:
        print(result.stdout[-20000:])
    return result.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--stateful-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    deploy = deployment()
    processes, base = start_processes()
    try:
        clean = _fuzz(
            base,
            deploy.token,
            phases="examples,coverage,fuzzing",
            max_examples=args.max_examples,
            seed=args.seed,
        )
        clean &= _fuzz(
            base,
            deploy.token,
            phases="stateful",
            max_examples=args.stateful_examples,
            seed=args.seed,
        )
    finally:
        stop_processes(processes)
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
