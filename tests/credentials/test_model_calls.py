"""Model calls with workspace credentials, end to end: API → worker process → local model server.

Everything goes through the API: the credential, the workflow (validated for
its workspace, where the credential makes any model name valid) and the run.
Two workspaces' runs in one worker process each reach the model server with
their own key; a wrong key fails with its message scrubbed; a base the guard
refuses is never contacted; another workspace's credential cannot be used; and
afterwards no table and no worker log holds a key.
"""

import pytest

from server.runs.models import NodeRun, Run
from tests.credentials.test_no_leak import every_row_as_text
from tests.support.documents import agent, document, edge, node
from tests.support.http_servers import TrapServer
from tests.support.openai_server import OpenAICompatibleServer
from tests.support.processes import start_worker
from tests.support.runs import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = {"alpha": "sk-alpha-0123456789abcd", "beta": "sk-beta-9876543210wxyz"}
WRONG_KEY = "sk-wrong-5555666677778888"


@pytest.fixture(scope="module")
def model_server():
    with OpenAICompatibleServer(api_keys=set(KEYS.values())) as server:
        yield server


@pytest.fixture(scope="module")
def trap():
    with TrapServer() as server:
        yield server
    assert server.requests == []


@pytest.fixture(scope="module")
def guarded_worker(django_db_setup, django_db_blocker, model_server, trap):
    """One worker process; only the model server is allowed past the guard."""
    with django_db_blocker.unblock():
        process = start_worker(
            "credentials",
            concurrency=8,
            AGENTLOOM_EGRESS_ALLOW=f"127.0.0.1:{model_server.port}",
        )
    yield process
    process.stop()


def one_agent(credential_id: str, prompt: str, model: str = "openai/slow-300") -> dict:
    return document(
        [
            node("in", "input"),
            agent("ask", model=model, credential=credential_id, prompt=prompt),
            node("out", "output"),
        ],
        [edge("in", "ask"), edge("ask", "out")],
    )


def save(api, workspace, doc: dict) -> dict:
    answer = api.post(
        "/api/v1/workflows/", {"workspace": str(workspace.pk), "document": doc}, format="json"
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def start(api, workspace, doc: dict) -> str:
    """A run of ``doc``, saved without a problem first."""
    workflow = save(api, workspace, doc)
    assert workflow["problems"] == []
    answer = api.post(f"/api/v1/workflows/{workflow['id']}/runs/", {"inputs": {}}, format="json")
    assert answer.status_code == 202, answer.content
    return str(answer.json()["id"])


def local_credential(api, workspace, name: str, api_key: str, base: str) -> str:
    answer = api.post(
        "/api/v1/credentials/",
        {
            "workspace": str(workspace.pk),
            "name": name,
            "provider": "openai_compatible",
            "secret": {"api_key": api_key},
            "config": {"api_base": base},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    return str(answer.json()["id"])


@pytest.mark.usefixtures("guarded_worker")
def test_each_workspace_calls_with_its_own_key(make_member, client_for, model_server):
    model_server.reset()
    runs = {}
    for label, key in KEYS.items():
        owner, workspace = make_member(label)
        api = client_for(owner)
        credential = local_credential(api, workspace, "local", key, model_server.base_url)
        runs[label] = [
            start(api, workspace, one_agent(credential, f"from {label} {n}")) for n in range(3)
        ]
    for label, run_ids in runs.items():
        for run_id in run_ids:
            assert wait_for_run(run_id, timeout=60).state == "succeeded", label
    assert len(model_server.requests) == 6
    for request in model_server.requests:
        prompt = request.body["messages"][-1]["content"]
        label = prompt.split()[1]
        assert request.headers["authorization"] == f"Bearer {KEYS[label]}", prompt
    # Each answer takes 300 ms: calls of both workspaces were in flight at once.
    starts = {
        label: [r.at for r in model_server.requests if f"from {label}" in str(r.body)]
        for label in KEYS
    }
    assert any(abs(a - b) < 0.3 for a in starts["alpha"] for b in starts["beta"])


@pytest.mark.usefixtures("guarded_worker")
def test_a_typed_model_name_reaches_the_server_as_typed(make_member, client_for, model_server):
    model_server.reset()
    owner, workspace = make_member("vllm")
    api = client_for(owner)
    credential = local_credential(api, workspace, "vllm", KEYS["alpha"], model_server.base_url)
    served = "meta-llama/Llama-3.1-8B-Instruct"
    doc = one_agent(credential, "hello", model=f"openai_compatible/{served}")
    assert wait_for_run(start(api, workspace, doc), timeout=60).state == "succeeded"
    assert [request.body["model"] for request in model_server.requests] == [served]


@pytest.mark.usefixtures("guarded_worker")
def test_a_wrong_key_fails_and_no_key_is_left_anywhere(
    make_member, client_for, model_server, guarded_worker
):
    owner, workspace = make_member("wrong")
    api = client_for(owner)
    credential = local_credential(api, workspace, "bad", WRONG_KEY, model_server.base_url)
    run_id = start(api, workspace, one_agent(credential, "hi", "openai/echo"))
    assert wait_for_run(run_id, timeout=60).state == "failed"
    error = NodeRun.objects.get(run_id=run_id, node_id="ask").error
    assert error["code"] == "auth"
    assert "*****" not in str(error)
    assert model_server.requests[-1].headers["authorization"] == f"Bearer {WRONG_KEY}"
    workflow_id = Run.objects.get(pk=run_id).workflow_id
    answers = [
        api.get(f"/api/v1/runs/{run_id}/"),
        api.get(f"/api/v1/runs/{run_id}/events/"),
        *(
            api.get(f"/api/v1/workflows/{workflow_id}/export/", {"format": fmt})
            for fmt in ("json", "yaml")
        ),
    ]
    assert [answer.status_code for answer in answers] == [200] * 4
    stored = every_row_as_text() + guarded_worker.log()
    stored += "".join(answer.content.decode() for answer in answers)
    for key in (*KEYS.values(), WRONG_KEY):
        assert key not in stored
        assert key[-12:] not in stored


@pytest.mark.usefixtures("guarded_worker")
def test_a_refused_base_is_never_contacted(make_member, client_for, trap):
    owner, workspace = make_member("trapped")
    api = client_for(owner)
    credential = local_credential(api, workspace, "trap", KEYS["alpha"], f"{trap.url}/v1")
    run_id = start(api, workspace, one_agent(credential, "hi", "openai/echo"))
    assert wait_for_run(run_id, timeout=60).state == "failed"
    error = NodeRun.objects.get(run_id=run_id, node_id="ask").error
    assert error["code"] == "egress_refused"
    assert trap.requests == []


@pytest.mark.usefixtures("guarded_worker")
def test_another_workspace_credential_is_unusable(make_member, client_for, model_server):
    owner, workspace = make_member("owner-a")
    theirs_owner, theirs = make_member("owner-b")
    api = client_for(owner)
    foreign = local_credential(
        client_for(theirs_owner), theirs, "b", KEYS["beta"], model_server.base_url
    )
    calls_before = len(model_server.requests)
    workflow = save(api, workspace, one_agent(foreign, "hi"))
    assert [p["code"] for p in workflow["problems"]] == ["credential_not_found"]
    refused = api.post(f"/api/v1/workflows/{workflow['id']}/runs/", {"inputs": {}}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_workflow"
    assert api.get(f"/api/v1/credentials/{foreign}/").status_code == 404
    assert not Run.objects.filter(workspace=workspace).exists()
    assert len(model_server.requests) == calls_before
