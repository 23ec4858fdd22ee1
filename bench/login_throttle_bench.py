"""Login throttling figure of the hardening issue, against a real ASGI server.

Usage: .venv/bin/python -m bench.login_throttle_bench [seconds]   (default 150)

For one user, wrong passwords are sent as fast as 16 concurrent clients can,
for the given number of seconds, each attempt from a different address (the
server trusts ``X-Forwarded-For`` from loopback, as it would from a proxy), so
only the per-user limit stands in the way. Prints the attempts the server
accepted (answered 400 ``invalid_credentials``; the rest are 429) in the first
minute, and the most it accepted within any 60 seconds (goal ≤ 10). Longer than a minute, so
the figure covers the window rolling over too.
"""

import itertools
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.harness import deployment


def _address(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def _most_in_a_minute(times: list[float]) -> int:
    """The most accepted attempts within any 60 seconds (a sliding window)."""
    return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)


def _hammer(base: str, seconds: float) -> tuple[list[tuple[float, int]], float]:
    counter = itertools.count(1)
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def client() -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            while time.monotonic() < deadline:
                i = next(counter)
                response = http.post(
                    "/api/v1/auth/login/",
                    json={"username": "bench", "password": f"wrong-{i}"},
                    headers={"X-Forwarded-For": _address(i)},
                )
                with lock:
                    results.append((time.monotonic() - started, response.status_code))

    with ThreadPoolExecutor(max_workers=16) as pool:
        for future in [pool.submit(client) for _ in range(16)]:
            future.result()  # a client that failed fails the bench
    return sorted(results), time.monotonic() - started


def main() -> None:
    from tests.support.processes import start_asgi

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 150.0
    deployment()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    server, base = start_asgi(workers=2)
    try:
        results, elapsed = _hammer(base, seconds)
    finally:
        server.stop()
    codes = [code for _, code in results]
    unexpected = sorted({code for code in codes if code not in (400, 429)})
    accepted = [t for t, code in results if code == 400]
    print(f"attempts sent: {len(codes)} in {elapsed:.1f} s (16 clients, one address per attempt)")
    first_minute = sum(1 for t in accepted if t < 60)
    print(f"wrong-password attempts accepted for one user in the first 60 s: {first_minute}")
    print(
        "wrong-password attempts accepted per minute for one user before 429: "
        f"{_most_in_a_minute(accepted)} at most in any 60 s "
        f"({len(accepted)} in all {elapsed:.0f} s; goal ≤ 10)"
    )
    if unexpected:
        print(f"unexpected status codes: {unexpected}")


if __name__ == "__main__":
    main()
