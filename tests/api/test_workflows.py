import pytest
import yaml

from server.workflows.models import Workflow, WorkflowVersion
from tests.support.documents import agent, chain, document, edge, node

pytestmark = pytest.mark.django_db


def create(api, doc=None, **fields):
    response = api.post(
        "/api/v1/workflows/", {"document": doc or chain(2), **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_create_get_list_and_search(api):
    created = create(api, tags=["research", "daily", "research"])
    assert created["version"] == 1
    assert created["tags"] == ["daily", "research"]
    assert created["problems"] == []
    assert api.get(f"/api/v1/workflows/{created['id']}/").json()["document"] == created["document"]

    create(api, document(name="Other", nodes=[node("input", "input")]))
    names = lambda **q: [w["name"] for w in api.get("/api/v1/workflows/", q).json()["results"]]  # noqa: E731
    assert names(tag="daily") == ["Test workflow"]
    assert names(q="oth") == ["Other"]
    listed = api.get("/api/v1/workflows/").json()["results"]
    assert {w["node_count"] for w in listed} == {4, 1}
    assert all("document" not in w for w in listed)


def test_create_with_only_a_name_gets_an_empty_document(api):
    response = api.post("/api/v1/workflows/", {"name": "Blank"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["document"]["nodes"] == []
    assert body["document"]["name"] == "Blank"
    assert {p["code"] for p in body["problems"]} >= {"no_input_node", "no_output_node"}


def test_put_makes_a_new_immutable_version(api):
    created = create(api)
    doc = chain(3)
    response = api.put(
        f"/api/v1/workflows/{created['id']}/",
        {"version": 1, "document": doc, "message": "longer"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    versions = api.get(f"/api/v1/workflows/{created['id']}/versions/").json()["results"]
    assert [(v["number"], v["message"]) for v in versions] == [(2, "longer"), (1, "Created")]
    assert (
        api.get(f"/api/v1/workflows/{created['id']}/versions/1/").json()["document"]
        == created["document"]
    )


def test_a_stale_write_gets_409_and_the_first_save_is_intact(api, owner, client_for):
    created = create(api)
    url = f"/api/v1/workflows/{created['id']}/"
    alice, bob = api, client_for(owner[0])
    alice_doc = chain(3, expression="'alice'")
    bob_doc = chain(3, expression="'bob'")
    assert alice.put(url, {"version": 1, "document": alice_doc}, format="json").status_code == 200
    response = bob.put(url, {"version": 1, "document": bob_doc}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    assert response.json()["current_version"] == 2
    stored = Workflow.objects.get(pk=created["id"])
    assert stored.document == alice_doc
    assert stored.version == 2
    assert WorkflowVersion.objects.filter(workflow=stored).count() == 2
    # Bob keeps his work as a new version by saving against the current one.
    assert bob.put(url, {"version": 2, "document": bob_doc}, format="json").json()["version"] == 3


def test_patch_of_name_updates_the_document(api):
    created = create(api)
    response = api.patch(
        f"/api/v1/workflows/{created['id']}/", {"version": 1, "name": "Renamed"}, format="json"
    )
    assert response.json()["name"] == "Renamed"
    assert response.json()["document"]["name"] == "Renamed"
    assert response.json()["version"] == 2


def test_tags_only_patch_keeps_the_version(api):
    created = create(api)
    response = api.patch(
        f"/api/v1/workflows/{created['id']}/", {"version": 1, "tags": ["x"]}, format="json"
    )
    assert response.json()["version"] == 1
    assert response.json()["tags"] == ["x"]


def test_graph_problems_are_saved_and_reported_but_block_running(api):
    doc = chain(2)
    doc["edges"].append(edge("n1", "n0"))
    created = create(api, doc)
    assert [p["code"] for p in created["problems"] if p["severity"] == "error"] == ["cycle"]
    cycle = next(p for p in created["problems"] if p["code"] == "cycle")
    assert set(cycle["path"]) == {"n0", "n1"}
    response = api.post(f"/api/v1/workflows/{created['id']}/runs/", {"inputs": {}}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_workflow"


def test_validate_an_unsaved_document(api):
    created = create(api)
    bad = chain(1)
    bad["nodes"][1]["data"]["config"]["expression"] = "$foo("
    response = api.post(
        f"/api/v1/workflows/{created['id']}/validate/", {"document": bad}, format="json"
    )
    body = response.json()
    assert response.status_code == 200
    assert body["valid"] is False
    assert body["problems"][0]["node_id"] == "n0"
    assert api.post(f"/api/v1/workflows/{created['id']}/validate/", {}, format="json").json() == {
        "valid": True,
        "problems": [],
    }


def test_diff_and_restore(api):
    created = create(api, chain(2))
    url = f"/api/v1/workflows/{created['id']}/"
    doc = chain(2)
    doc["nodes"][1]["data"]["config"]["expression"] = "$.run"
    doc["nodes"].append(agent("writer", "coder"))
    doc["edges"].append(edge("n1", "writer"))
    doc["edges"] = [e for e in doc["edges"] if e["id"] != "n1->output"]
    api.put(url, {"version": 1, "document": doc}, format="json")
    diff = api.get(f"{url}versions/2/diff/").json()
    assert diff["from"] == 1
    assert diff["to"] == 2
    assert diff["nodes"] == {
        "added": ["writer"],
        "removed": [],
        "changed": [{"id": "n0", "fields": ["data.config.expression"]}],
    }
    assert diff["edges"]["added"] == ["n1->writer"]
    assert diff["edges"]["removed"] == ["n1->output"]

    restored = api.post(f"{url}versions/1/restore/", {"version": 2}, format="json").json()
    assert restored["version"] == 3
    assert restored["document"] == created["document"]
    stale = api.post(f"{url}versions/1/restore/", {"version": 2}, format="json")
    assert stale.status_code == 409
    assert api.get(f"{url}versions/9/").status_code == 404


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_then_import_round_trips(api, fmt):
    doc = chain(2)
    doc["nodes"][1]["data"]["config"]["expression"] = '"quotes \\" and {{ braces }}: ünïcødé"'
    created = create(api, doc)
    response = api.get(f"/api/v1/workflows/{created['id']}/export/", {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = response.content.decode()
    parsed = yaml.safe_load(text)
    assert parsed == doc
    imported = api.post("/api/v1/workflows/import/", {"content": text}, format="json")
    assert imported.status_code == 201, imported.content
    assert imported.json()["document"] == doc
    assert imported.json()["id"] != created["id"]


def test_import_freshens_duplicate_ids(api):
    doc = chain(1)
    doc["nodes"].append(node("n0", "transformer", expression="1"))
    doc["edges"].append(edge("input", "output", edge_id="input->n0"))
    response = api.post("/api/v1/workflows/import/", {"document": doc}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert [n["id"] for n in body["document"]["nodes"]] == ["input", "n0", "output", "n0-2"]
    assert [e["id"] for e in body["document"]["edges"]] == [
        "input->n0",
        "n0->output",
        "input->n0-2",
    ]
    assert "renamed" in api.get(f"/api/v1/workflows/{body['id']}/versions/1/").json()["message"]


def test_delete(api):
    created = create(api)
    assert api.delete(f"/api/v1/workflows/{created['id']}/").status_code == 204
    assert api.get(f"/api/v1/workflows/{created['id']}/").status_code == 404
    assert not WorkflowVersion.objects.filter(workflow_id=created["id"]).exists()


@pytest.mark.parametrize(
    "name", ["Рабочий процесс 研究 🧵", 'quote " and \\ back', "line\nbreak\r\nagain"]
)
def test_export_of_any_name_gives_a_valid_download(api, name):
    doc = chain(1)
    doc["name"] = name
    created = create(api, doc)
    response = api.get(f"/api/v1/workflows/{created['id']}/export/")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    disposition.encode("latin-1")  # what a header may carry
    assert "\n" not in disposition
    assert "\r" not in disposition
    assert disposition.startswith("attachment;")
