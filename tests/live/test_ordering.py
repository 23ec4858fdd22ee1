"""The run socket's ordering guarantee, message by message, through the real consumer.

Messages from several workers can cross, and a busy publisher merges the
events of several transactions into one message; the socket must still send
every event once, in seq order.
"""

import asyncio
import json

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.utils import timezone

from server.accounts.services import create_token
from server.asgi import application
from server.runs.models import Run, RunEvent
from server.runs.publisher import event_frame, run_group
from server.workflows import services as workflow_services
from tests.support.documents import chain

pytestmark = pytest.mark.django_db(transaction=True)


def _events(run: Run, seqs: range) -> list[RunEvent]:
    return RunEvent.objects.bulk_create(
        RunEvent(
            run=run, seq=seq, ts=timezone.now(), type="node.log", node_id="n0", data={"i": seq}
        )
        for seq in seqs
    )


def _socket(path: str, query: str, key: str) -> ApplicationCommunicator:
    """A websocket at the ASGI level, authenticated with a token."""
    scope = {
        "type": "websocket",
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"authorization", f"Token {key}".encode())],
        "subprotocols": [],
    }
    return ApplicationCommunicator(application, scope)


async def _received(socket: ApplicationCommunicator, count: int) -> list[int]:
    seqs = []
    while len(seqs) < count:
        message = await socket.receive_output(timeout=10)
        assert message["type"] == "websocket.send", message
        frame = json.loads(message["text"])
        if frame["kind"] == "event":
            seqs.append(frame["seq"])
    return seqs


def test_merged_and_crossed_messages_still_arrive_once_in_order(owner):
    user, workspace = owner
    workflow = workflow_services.create_workflow(
        user=user, workspace_id=workspace.pk, document=chain(1)
    )
    run = Run.objects.create(
        workspace=workspace, workflow=workflow, version=workflow.versions.get(), state="running"
    )
    first = _events(run, range(1, 3))
    key = create_token(user=user, name="t")[1]

    async def scenario() -> list[int]:
        communicator = _socket(f"/ws/runs/{run.pk}/", "after=0", key)
        await communicator.send_input({"type": "websocket.connect"})
        assert (await communicator.receive_output(timeout=10))["type"] == "websocket.accept"
        assert await _received(communicator, len(first)) == [1, 2]
        later = await asyncio.to_thread(_events, run, range(3, 10))
        frames = {event.seq: event_frame(event) for event in later}
        layer = get_channel_layer()
        # One merged message with a hole (6, 7 are still on their way), then the late ones.
        merged = [frames[3], frames[4], frames[5], frames[8], frames[9]]
        await layer.group_send(
            run_group(run.pk), {"type": "run.events", "run": str(run.pk), "events": merged}
        )
        await layer.group_send(
            run_group(run.pk),
            {"type": "run.events", "run": str(run.pk), "events": [frames[6], frames[7]]},
        )
        seqs = await _received(communicator, 7)
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        return seqs

    assert asyncio.run(scenario()) == [3, 4, 5, 6, 7, 8, 9]
