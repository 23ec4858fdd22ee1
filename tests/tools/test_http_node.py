"""The http node in a real worker, against a real local server (SPEC §11)."""

import json

import pytest

from server.credentials.services import create_credential
from server.runs.models import NodeRun, RunEvent, SideEffect
from server.runs.outputs import load_output
from tests.support.runs import events_of, start_run, wait_for_run
from tests.tools.helpers import http, pipeline

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "tok-Very-Secret-7Hq2Lm9Xc4Rz"


def node_of(run_id, node_id) -> NodeRun:
    return NodeRun.objects.get(run_id=run_id, node_id=node_id)


def output_of(run_id, node_id):
    row = node_of(run_id, node_id)
    return load_output(row.output, row.output_artifact_id)


def test_json_response_is_parsed_and_templates_are_rendered(api, fresh_api, tool_worker):
    doc = pipeline(
        http(
            "call",
            f"{fresh_api.url}/json",
            query={"q": "{{ $.run.topic }}"},
            headers={"X-Topic": "about {{ $.run.topic }}"},
        ),
        inputs={"topic": {"type": "string"}},
    )
    run = start_run(api, doc, {"topic": "rivers"})
    assert wait_for_run(run["id"]).state == "succeeded"
    out = output_of(run["id"], "call")
    assert out["status"] == 200
    assert out["json"] == {"hello": "world", "q": "rivers"}
    assert json.loads(out["text"]) == out["json"]
    assert out["headers"]["content-type"] == "application/json"
    (request,) = fresh_api.seen("GET", "/json")
    assert request["headers"]["X-Topic"] == "about rivers"
    # GET has no side effect unless the node says so.
    assert not SideEffect.objects.filter(run_id=run["id"]).exists()


def test_text_response_and_json_format_refusing_text(api, fresh_api, tool_worker):
    run = start_run(api, pipeline(http("call", f"{fresh_api.url}/text")))
    assert wait_for_run(run["id"]).state == "succeeded"
    assert output_of(run["id"], "call")["json"] is None
    assert output_of(run["id"], "call")["text"] == "plain words"

    strict = pipeline(http("call", f"{fresh_api.url}/text", response_format="json"))
    run = start_run(api, strict)
    assert wait_for_run(run["id"]).state == "failed"
    assert node_of(run["id"], "call").error["code"] == "invalid_json"


def test_large_body_is_stored_as_an_artifact(api, fresh_api, tool_worker):
    run = start_run(api, pipeline(http("call", f"{fresh_api.url}/big?bytes=300000")))
    assert wait_for_run(run["id"]).state == "succeeded"
    row = node_of(run["id"], "call")
    assert row.output_artifact_id is not None
    assert len(output_of(run["id"], "call")["text"]) == 300_000


@pytest.mark.parametrize("statuses", ["429,503", "503"])
def test_retries_on_429_and_5xx_then_succeeds(api, fresh_api, tool_worker, statuses):
    retry = {"max_attempts": 3, "initial_delay_ms": 50, "max_delay_ms": 100, "jitter": False}
    key = f"k{statuses}"
    url = f"{fresh_api.url}/flaky?key={key}&fail=2&status={statuses}"
    run = start_run(api, pipeline(http("call", url, retry=retry)))
    assert wait_for_run(run["id"]).state == "succeeded"
    assert len(fresh_api.seen("GET", "/flaky")) == 3
    logs = [e.data["message"] for e in events_of(run["id"]) if e.type == "node.log"]
    assert len(logs) == 2
    assert all("http_status" in m for m in logs)
    assert output_of(run["id"], "call")["json"] == {"ok": True}


def test_retries_end_with_a_clear_error(api, fresh_api, tool_worker):
    retry = {"max_attempts": 2, "initial_delay_ms": 10, "max_delay_ms": 10}
    url = f"{fresh_api.url}/flaky?key=always&fail=99&status=503"
    run = start_run(api, pipeline(http("call", url, retry=retry)))
    assert wait_for_run(run["id"]).state == "failed"
    error = node_of(run["id"], "call").error
    assert error["code"] == "http_status"
    assert "503" in error["message"]
    assert len(fresh_api.seen("GET", "/flaky")) == 2


def test_credential_header_is_sent_and_never_shown(api, owner, fresh_api, tool_worker):
    credential = create_credential(
        user=owner[0],
        workspace_id=owner[1].pk,
        name="svc",
        provider="http",
        secret={"token": TOKEN, "headers": {"X-Api-Key": TOKEN + "-h"}},
        config={},
    )
    ok = http("ok", f"{fresh_api.url}/json", credential=str(credential.pk))
    failing = http("bad", f"{fresh_api.url}/fail", credential=str(credential.pk))
    run = start_run(api, pipeline(ok, failing))
    assert wait_for_run(run["id"]).state == "failed"
    (sent,) = fresh_api.seen("GET", "/json")
    assert sent["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert sent["headers"]["X-Api-Key"] == TOKEN + "-h"
    # The failing server echoed the header into its answer: the error shows it redacted.
    error = node_of(run["id"], "bad").error
    assert error["code"] == "http_status"
    assert "[redacted]" in error["message"]
    recorded = json.dumps(
        [e.data for e in RunEvent.objects.filter(run_id=run["id"])]
        + [[n.error, n.output, n.input] for n in NodeRun.objects.filter(run_id=run["id"])]
    )
    assert TOKEN not in recorded
    assert TOKEN not in tool_worker.log()


def test_credential_of_another_workspace_is_not_found(api, make_member, fresh_api, tool_worker):
    stranger, elsewhere = make_member("stranger")
    theirs = create_credential(
        user=stranger,
        workspace_id=elsewhere.pk,
        name="theirs",
        provider="http",
        secret={"token": TOKEN},
        config={},
    )
    run = start_run(api, pipeline(http("call", f"{fresh_api.url}/json", credential=str(theirs.pk))))
    assert wait_for_run(run["id"]).state == "failed"
    assert node_of(run["id"], "call").error["code"] == "credential_not_found"
    assert not fresh_api.seen()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.2:9/",
        "http://[::ffff:192.168.0.1]/",
        "file:///etc/passwd",
    ],
)
def test_private_addresses_are_refused_before_connecting(api, tool_worker, url):
    run = start_run(api, pipeline(http("call", url)))
    assert wait_for_run(run["id"]).state == "failed"
    assert node_of(run["id"], "call").error["code"] == "egress_refused"


def test_rendered_header_with_a_line_break_is_refused(api, fresh_api, tool_worker):
    doc = pipeline(
        http("call", f"{fresh_api.url}/json", headers={"X-Evil": "{{ $.run.v }}"}),
        inputs={"v": {"type": "string"}},
    )
    run = start_run(api, doc, {"v": "a\r\nHost: elsewhere"})
    assert wait_for_run(run["id"]).state == "failed"
    assert node_of(run["id"], "call").error["code"] == "invalid_request"
    assert not fresh_api.seen()
