import pytest

from server.workflow_templates.models import Template
from server.workflow_templates.services import load_builtin_templates
from server.workflow_templates.variables import TooLarge, substitute

pytestmark = pytest.mark.django_db

TEMPLATE = {
    "name": "Greeter",
    "description": "",
    "category": "demo",
    "variables": [
        {"name": "greeting", "type": "string", "default": "Hello", "required": True},
        {"name": "temperature", "type": "number", "default": 0.5, "required": True},
        {"name": "stream", "type": "boolean", "default": True, "required": True},
        {"name": "model", "type": "model", "default": "mock/echo", "required": True},
        {
            "name": "tone",
            "type": "enum",
            "options": ["warm", "dry"],
            "default": "warm",
            "required": True,
        },
        {"name": "extra", "type": "prompt", "required": False},
    ],
    "document": {
        "schema_version": 1,
        "name": "${greeting} workflow",
        "description": "",
        "settings": {"default_model": {"$var": "model"}},
        "inputs": {"who": {"type": "string", "required": True}},
        "nodes": [
            {
                "id": "input",
                "type": "input",
                "position": {"x": 0, "y": 0},
                "data": {"label": "In", "config": {}},
            },
            {
                "id": "greeter",
                "type": "researcher",
                "position": {"x": 200, "y": 0},
                "data": {
                    "label": "Greeter",
                    "config": {
                        "model": {"$var": "model"},
                        "temperature": {"$var": "temperature"},
                        "stream": {"$var": "stream"},
                        "system_prompt": "Be ${tone}. ${extra}",
                        "prompt": "${greeting}, {{ $.run.who }}!",
                    },
                },
            },
            {
                "id": "output",
                "type": "output",
                "position": {"x": 400, "y": 0},
                "data": {"label": "Out", "config": {}},
            },
        ],
        "edges": [
            {"id": "e1", "source": "input", "target": "greeter"},
            {"id": "e2", "source": "greeter", "target": "output"},
        ],
    },
}


@pytest.fixture
def template(api):
    response = api.post("/api/v1/templates/", TEMPLATE, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_instantiate_substitutes_typed_values_in_the_data(api, template):
    tricky = 'He said "hi" {braces} {{ $.run.who }} ${tone} \\ end'
    response = api.post(
        f"/api/v1/templates/{template['id']}/instantiate/",
        {"variables": {"greeting": tricky, "temperature": 1.25, "stream": False}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    config = body["document"]["nodes"][1]["data"]["config"]
    assert config["temperature"] == 1.25
    assert config["stream"] is False
    assert config["model"] == "mock/echo"
    # The value is inserted as it is: its own `${tone}` and `{{ }}` are not expanded again.
    assert config["prompt"] == tricky + ", {{ $.run.who }}!"
    assert config["system_prompt"] == "Be warm. "
    assert body["name"] == tricky + " workflow"
    assert body["problems"] == []
    assert body["tags"] == ["demo"]


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"temperature": "hot"}, "temperature: must be a number"),
        ({"stream": "yes"}, "stream: must be true or false"),
        ({"tone": "angry"}, "tone: must be one of warm, dry"),
        ({"model": "nope/none"}, "unknown model"),
        ({"unknown": 1}, "unknown: not a variable"),
        ({"temperature": True}, "temperature: must be a number"),
    ],
)
def test_bad_variables_are_400_and_create_nothing(api, template, variables, fragment):
    response = api.post(
        f"/api/v1/templates/{template['id']}/instantiate/", {"variables": variables}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_variables"
    assert fragment in response.json()["message"]
    assert api.get("/api/v1/workflows/").json()["results"] == []


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ([{"name": "1bad", "type": "string"}], "identifier"),
        ([{"name": "a", "type": "colour"}], '"colour" is not a valid choice'),
        ([{"name": "a", "type": "enum"}], "options"),
        ([{"name": "a", "type": "number", "default": "x"}], "must be a number"),
        ([{"name": "a", "type": "string"}, {"name": "a", "type": "string"}], "twice"),
    ],
)
def test_bad_variable_definitions(api, variables, fragment):
    response = api.post("/api/v1/templates/", {**TEMPLATE, "variables": variables}, format="json")
    assert response.status_code == 400
    assert fragment in str(response.json())
    assert not Template.objects.exists()


def test_built_in_templates_are_valid_and_protected(api):
    load_builtin_templates()
    listed = api.get("/api/v1/templates/").json()
    built_in = [t for t in listed if t["built_in"]]
    assert len(built_in) >= 5
    for template in built_in:
        response = api.post(f"/api/v1/templates/{template['id']}/instantiate/", {}, format="json")
        assert response.status_code == 201, (template["name"], response.content)
        errors = [p for p in response.json()["problems"] if p["severity"] == "error"]
        assert errors == [], template["name"]
    assert api.delete(f"/api/v1/templates/{built_in[0]['id']}/").status_code == 403


def test_loading_built_ins_twice_updates_in_place():
    first = {t.pk for t in load_builtin_templates()}
    assert {t.pk for t in load_builtin_templates()} == first


def test_substitute_leaves_unknown_references_and_non_strings():
    data = {"a": "${known} ${unknown}", "b": [1, {"$var": "known"}], "c": {"$var": "unknown"}}
    assert substitute(data, {"known": 3}, max_chars=1000) == {
        "a": "3 ${unknown}",
        "b": [1, 3],
        "c": {"$var": "unknown"},
    }


def test_substitute_stops_as_soon_as_the_copy_is_too_large():
    data = {"prompt": "${long}" * 1000, "nested": [{"$var": "long"}] * 1000}
    with pytest.raises(TooLarge):
        substitute(data, {"long": "x" * 100_000}, max_chars=1_000_000)
    assert substitute(data, {"long": "x"}, max_chars=1_000_000)["prompt"] == "x" * 1000
