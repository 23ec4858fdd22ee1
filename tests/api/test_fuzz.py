"""Bad input never gives a 500: every operation of our OpenAPI schema, fuzzed.

schemathesis generates thousands of requests from the schema (wrong types,
missing fields, odd strings, ids that are not ids) and sends them to the real
ASGI server, alone and in stateful sequences; the only check is that none is
answered with a server error. Every boundary value of the coverage phase is
sent; the generated ones are a few per operation here, to keep the suite
fast, and many more in ``bench/fuzz_bench.py``.
"""

import pytest

from tests.support.fuzzing import fuzz_api

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _schemathesis(asgi: str, token: str, *, phases: str, max_examples: int, seed: int) -> None:
    result = fuzz_api(
        asgi, token, phases=phases, max_examples=max_examples, seed=seed, timeout_s=600
    )
    assert result.returncode == 0, result.stdout[-6000:]


def test_no_generated_request_gets_a_server_error(asgi, token):
    _schemathesis(asgi, token, phases="examples,coverage,fuzzing", max_examples=10, seed=20261126)


def test_stateful_schema_fuzzing_finds_no_server_error(asgi, token):
    """Sequences of calls linked through the schema (create, then read, edit,
    run, delete what was created), with generated values at every step."""
    _schemathesis(asgi, token, phases="stateful", max_examples=20, seed=20261205)
