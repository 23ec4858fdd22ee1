import pytest

from server.workflows.models import Workflow
from tests.support.documents import document, node


@pytest.fixture
def make_workflow(api):
    """A runnable workflow in the owner's workspace (one transformer echoing its input)."""

    def make(client=None, **inputs) -> Workflow:
        doc = document([node("echo")], inputs=inputs or {"n": {"type": "number", "default": 0}})
        response = (client or api).post("/api/v1/workflows/", {"document": doc}, format="json")
        assert response.status_code == 201, response.content
        return Workflow.objects.get(pk=response.json()["id"])

    return make
