"""Numbers from clients, in bodies, query strings and the run socket's `after`.

Python's int() and DRF's IntegerField read Arabic-Indic and fullwidth "12" as
12, "1_000" as 1000, " 1", "+1" and "1.0" as 1; Decimal() reads them too.
Through the real API, every number a client sends is a JSON number or ASCII
digits (with a decimal point for decimals) within range; any other spelling is
a clear 400 naming the field (a 4400 close on the socket), and nothing is
written.
"""

import asyncio
import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from drf_spectacular.generators import SchemaGenerator

from server.accounts.models import Workspace
from tests.hostile.conftest import row_counts
from tests.support.documents import chain
from tests.support.ws import close_code

pytestmark = pytest.mark.django_db


class Raw(str):
    """JSON text put into the body as it is."""


MARK = "__number__"
# Each is refused wherever an integer goes; most are numbers to Python.
NOT_INTEGERS: dict[str, Any] = {
    "Arabic-Indic 12": "\u0661\u0662",
    "fullwidth 12": "\uff11\uff12",
    "Devanagari 1": "\u0967",
    "superscript 2": "\u00b2",
    "mathematical 2": "\U0001d7da",
    "underscores": "1_0",
    "a leading space": " 1",
    "a trailing newline": "1\n",
    "a plus sign": "+1",
    "text 1.0": "1.0",
    "text 1e0": "1e0",
    "hexadecimal": "0x1",
    "empty text": "",
    "text of 400 digits": "9" * 400,
    "true": True,
    "null": None,
    "JSON 1.0": Raw("1.0"),
    "JSON 1e0": Raw("1e0"),
    "JSON 1E2": Raw("1E2"),
    "a fraction": 1.5,
    "a list": [1],
    "an object": {"v": 1},
}
# Refused by the body parser before any field sees them.
NOT_JSON = {"NaN": Raw("NaN"), "Infinity": Raw("Infinity"), "1e400": Raw("1e400")}
OUT_OF_RANGE = {"10**400": 10**400, "-(10**400)": -(10**400), "2**63": 2**63, "0": 0}

# Each is refused wherever a decimal goes (here: 0 to 10**9, four places); most
# are numbers to Python's Decimal().
NOT_DECIMALS: dict[str, Any] = {
    "Arabic-Indic 12": "\u0661\u0662",
    "fullwidth 12": "\uff11\uff12",
    "Arabic-Indic 1.5": "\u0661.\u0665",
    "underscores": "1_0",
    "a leading space": " 1",
    "a trailing newline": "1.5\n",
    "a plus sign": "+1",
    "text 1e3": "1e3",
    "text NaN": "NaN",
    "text Infinity": "Infinity",
    "a trailing point": "1.",
    "a leading point": ".5",
    "a comma": "1,5",
    "hexadecimal": "0x1",
    "empty text": "",
    "spaces": "  ",
    "text of 400 digits": "9" * 400,
    "true": True,
    "a list": [1],
    "an object": {"v": 1},
    "10**400": 10**400,
    "negative": -1,
    "above the maximum": 10**9 + 1,
    "five places": Raw("0.00001"),
}
REFUSED = {
    "integer": {**NOT_INTEGERS, **OUT_OF_RANGE},
    # A field where null means "the default" (retention_days).
    "nullable integer": {
        k: v for k, v in {**NOT_INTEGERS, **OUT_OF_RANGE}.items() if v is not None
    },
    "decimal": NOT_DECIMALS,
    # A field where 0 is a value (a webhook's wait_s: answer at once).
    "integer from 0": {k: v for k, v in {**NOT_INTEGERS, **OUT_OF_RANGE}.items() if v != 0},
}
# Stands in a body for the id of the `world`'s workflow.
WORKFLOW = "__workflow__"

# (method, path as the API schema names it, a valid body, the number field, its kind)
BODIES = [
    ("patch", "/api/v1/workflows/{id}/", {"name": "n"}, "version", "integer"),
    ("put", "/api/v1/workflows/{id}/", {"document": chain(1)}, "version", "integer"),
    (
        "post",
        "/api/v1/workflows/{workflow_pk}/versions/{number}/restore/",
        {},
        "version",
        "integer",
    ),
    ("post", "/api/v1/workflows/{workflow_id}/runs/", {"inputs": {}}, "version", "integer"),
    ("post", "/api/v1/workflows/{workflow_id}/estimate/", {"inputs": {}}, "version", "integer"),
    ("post", "/api/v1/runs/{id}/resume/", {}, "version", "integer"),
    (
        "put",
        "/api/v1/workflows/{workflow_id}/notifications/",
        {"notifications": []},
        "version",
        "integer",
    ),
    *(
        (method, path, base, "retention_days", "nullable integer")
        for method, path, base in [
            ("post", "/api/v1/workflows/", {"name": "w"}),
            ("patch", "/api/v1/workflows/{id}/", {"version": 1}),
            ("put", "/api/v1/workflows/{id}/", {"version": 1, "document": chain(1)}),
        ]
    ),
    *(
        (method, path, {"name": "w"}, field, kind)
        for method, path in [
            ("patch", "/api/v1/workspaces/{id}/"),
            ("put", "/api/v1/workspaces/{id}/"),
            ("post", "/api/v1/workspaces/"),
        ]
        for field, kind in [("max_running_runs", "integer"), ("monthly_budget_usd", "decimal")]
    ),
    *(
        (method, path, base, field, kind)
        for method, path, base in [
            ("post", "/api/v1/triggers/", {"workflow": WORKFLOW, "name": "hook"}),
            ("patch", "/api/v1/triggers/{id}/", {"name": "hook"}),
        ]
        for field, kind in [("wait_s", "integer from 0"), ("rate_per_minute", "integer")]
    ),
]
# Which of the `world`'s objects a path parameter names, by the collection before it.
_PATH_IDS = {
    "workflows": "workflow",
    "runs": "run",
    "workspaces": "workspace",
    "triggers": "trigger",
    "schedules": "schedule",
}


@pytest.fixture
def numbers_world(world):
    """The `world` with a webhook trigger and a schedule on its workflow."""
    api, ids = world["api"], world["ids"]
    trigger = api.post(
        "/api/v1/triggers/", {"workflow": ids["workflow"], "name": "hook"}, format="json"
    )
    schedule = api.post(
        "/api/v1/schedules/", {"workflow": ids["workflow"], "cron": "0 * * * *"}, format="json"
    )
    assert trigger.status_code == schedule.status_code == 201, (trigger.content, schedule.content)
    return {
        **world,
        "ids": {**ids, "trigger": trigger.json()["id"], "schedule": schedule.json()["id"]},
    }


def _url(path: str, ids: dict[str, Any]) -> str:
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part == "{number}":
            parts[i] = "1"
        elif part.startswith("{"):
            parts[i] = str(ids[_PATH_IDS[parts[i - 1]]])
    return "/".join(parts)


def _body(base: dict[str, Any], field: str, value: Any, ids: dict[str, Any]) -> bytes:
    base = {key: ids["workflow"] if given == WORKFLOW else given for key, given in base.items()}
    text = json.dumps({**base, field: MARK if isinstance(value, Raw) else value})
    if isinstance(value, Raw):
        text = text.replace(json.dumps(MARK), value)
    return text.encode()


def _refusals(response, field: str | None = None, code: str = "invalid") -> list[Any]:
    """What is wrong with `response` as a clear 400 of `code` naming `field`."""
    answer = response.json() if response["Content-Type"] == "application/json" else {}
    wrong = []
    if response.status_code != 400 or answer.get("code") != code or not answer.get("message"):
        wrong.append((response.status_code, response.content[:200]))
    elif field is not None and field not in answer.get("fields", {}):
        wrong.append(("no error for the field", answer))
    return wrong


@pytest.mark.parametrize(("method", "path", "base", "field", "kind"), BODIES)
def test_numbers_in_bodies_are_ascii_digits_within_range(
    numbers_world, method, path, base, field, kind
):
    world, wrong = numbers_world, []
    for label, value in {**REFUSED[kind], **NOT_JSON}.items():
        before = row_counts()
        response = getattr(world["api"], method)(
            _url(path, world["ids"]),
            _body(base, field, value, world["ids"]),
            content_type="application/json",
        )
        code, named = ("malformed_json", None) if label in NOT_JSON else ("invalid", field)
        wrong += [(label, *problem) for problem in _refusals(response, named, code)]
        if row_counts() != before:
            wrong.append((label, "wrote rows"))
    assert wrong == []


def test_ascii_digits_in_text_are_still_numbers(world):
    url = f"/api/v1/workspaces/{world['ids']['workspace']}/"
    body = {"max_running_runs": "7", "monthly_budget_usd": "12.5"}
    response = world["api"].patch(url, body, format="json")
    assert response.status_code == 200, response.content
    stored = Workspace.objects.get(pk=world["ids"]["workspace"])
    assert (stored.max_running_runs, stored.monthly_budget_usd) == (7, Decimal("12.5"))
    assert world["api"].patch(url, {"monthly_budget_usd": 0.25}, format="json").status_code == 200
    assert Workspace.objects.get(pk=world["ids"]["workspace"]).monthly_budget_usd == Decimal("0.25")
    response = world["api"].patch(url, {"max_running_runs": 10**400}, format="json")
    assert response.json()["fields"]["max_running_runs"] == [
        "Ensure this value is less than or equal to 9223372036854775807."
    ]


# Query strings are text: each value as a client would put it into the URL.
NOT_INTEGER_TEXT = [v for v in NOT_INTEGERS.values() if isinstance(v, str)] + [
    str(10**400),
    str(2**63),
    "-1",
]
# (path as the API schema names it, parameter, the answer's code, the field it names)
QUERIES = [
    ("/api/v1/runs/{id}/events/", "after", "invalid", "after"),
    ("/api/v1/runs/{id}/events/", "limit", "invalid", "limit"),
    ("/api/v1/workflows/{workflow_pk}/versions/{number}/diff/", "against", "invalid_version", None),
    ("/api/v1/workflows/", "page_size", "invalid_query", None),
    ("/api/v1/runs/", "page_size", "invalid_query", None),
    ("/api/v1/workflows/{workflow_pk}/versions/", "page_size", "invalid_query", None),
    ("/api/v1/credentials/", "page_size", "invalid_query", None),
    ("/api/v1/triggers/", "page_size", "invalid_query", None),
    ("/api/v1/schedules/", "page_size", "invalid_query", None),
    ("/api/v1/schedules/{id}/preview/", "n", "invalid", "n"),
    ("/api/v1/schedules/preview/?cron=0+*+*+*+*&", "n", "invalid", "n"),
]


@pytest.mark.parametrize(("path", "name", "code", "field"), QUERIES)
def test_integers_in_query_strings_are_ascii_digits_within_range(
    numbers_world, path, name, code, field
):
    world, wrong = numbers_world, []
    for text in NOT_INTEGER_TEXT:
        separator = "" if path.endswith("&") else "?"
        url = f"{_url(path, world['ids'])}{separator}{name}={quote(text)}"
        wrong += [(text, *problem) for problem in _refusals(world["api"].get(url), field, code)]
    assert wrong == []


def test_valid_query_integers_are_read(world):
    api, ids = world["api"], world["ids"]
    events = api.get(f"/api/v1/runs/{ids['run']}/events/?after=0&limit=1").json()["events"]
    assert [event["seq"] for event in events] == [1]
    api.post("/api/v1/workflows/", {"name": "second"}, format="json")
    assert len(api.get("/api/v1/workflows/?page_size=1").json()["results"]) == 1
    # Above the largest page is the largest page, as DRF does: the value itself is well-formed.
    assert api.get("/api/v1/workflows/?page_size=100000").status_code == 200
    diff = api.get(f"/api/v1/workflows/{ids['workflow']}/versions/1/diff/?against=1")
    assert diff.status_code == 200, diff.content


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_run_socket_refuses_an_after_that_is_not_ascii_digits(asgi, token, api):
    workflow = api.post("/api/v1/workflows/", {"document": chain(1)}, format="json").json()
    run = api.post(f"/api/v1/workflows/{workflow['id']}/runs/", {}, format="json").json()

    async def codes() -> dict[str, int | None]:
        path = f"/ws/runs/{run['id']}/?after="
        values = ["\u0661", "\uff11", "1_0", "+1", " 1", "1.0", "-1", str(10**400), "0"]
        return {value: await close_code(asgi, path + quote(value), token=token) for value in values}

    assert asyncio.run(codes()) == {
        **dict.fromkeys(["\u0661", "\uff11", "1_0", "+1", " 1", "1.0", "-1", str(10**400)], 4400),
        "0": None,
    }


def _number_inputs() -> set[tuple[str, str, str]]:
    """(method, path, name) of each number a client gives, as the API's schema documents them."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def is_number(prop: dict[str, Any]) -> bool:
        return prop.get("type") in ("integer", "number") or prop.get("format") == "decimal"

    found = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and is_number(parameter["schema"]):
                    found.add((method, path, parameter["name"]))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                body = components[content["schema"]["$ref"].rsplit("/", 1)[1]]
                for name, prop in body.get("properties", {}).items():
                    if is_number(prop) and not prop.get("readOnly"):
                        found.add((method, path, name))
    return found


def test_every_number_the_api_takes_is_tested_here():
    """So that a number field or parameter added later cannot bring int()'s reading back."""
    tested = {(method, path, field) for method, path, _, field, _ in BODIES}
    tested |= {("get", path.split("?")[0], name) for path, name, _, _ in QUERIES}
    assert _number_inputs() - tested == set()
