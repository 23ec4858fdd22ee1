"""Retention (server/runs/services/retention.py): runs go with every row and stored object.

End to end on both artifact stores: S3 (moto's server on loopback, the
django-storages backend a deployment uses) and the embedded filesystem
store. A real worker process writes the artifacts, the API serves and
deletes them, and the beat job's pass deletes what is past retention;
Postgres and the store are then checked for leftovers.
"""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from moto.server import ThreadedMotoServer

from server.accounts.models import Role
from server.runs import outputs
from server.runs.models import Artifact, NodeRun, Run, RunEvent, RunState
from server.runs.services import retention
from server.workflows.models import Workflow, WorkflowVersion
from tests.support.documents import agent, document, edge, node
from tests.support.processes import free_port, start_worker
from tests.support.runs import wait_for_node, wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "agentloom-retention"
BIG = {"rows": [{"i": i, "text": "lorem ipsum " * 8} for i in range(2000)]}
BIG_DOC = document(
    [
        node("input", "input"),
        agent("big", model="mock/json", mock_json=BIG, response_format="json"),
    ],
    [edge("input", "big")],
)
SLOW_DOC = document(
    [node("input", "input"), agent("slow", model="mock/slow", mock_latency_ms=120_000)],
    [edge("input", "slow")],
)


@dataclass
class Store:
    """One artifact store, as the worker's environment and this process's settings name it."""

    kind: str
    backend: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    root: Path | None = None

    def stored(self) -> list[str]:
        if self.root is None:
            client = _s3_client(self.backend["OPTIONS"]["endpoint_url"])
            listed = client.list_objects_v2(Bucket=BUCKET)
            return sorted(item["Key"] for item in listed.get("Contents", []))
        found = []
        for folder, folders, files in os.walk(self.root):
            relative = Path(folder).relative_to(self.root)
            found += [str(relative / name) for name in files]
            found += [str(relative / name) + "/" for name in folders if name != "runs"]
        return sorted(found)


def _s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module", params=["s3", "filesystem"])
def store(request, tmp_path_factory) -> Iterator[Store]:
    var_dir = tmp_path_factory.mktemp(f"retention-{request.param}")
    if request.param == "filesystem":
        root = var_dir / "artifacts"
        backend = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        }
        yield Store("filesystem", backend, {"AGENTLOOM_VAR_DIR": str(var_dir)}, root)
        return
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    _s3_client(endpoint).create_bucket(Bucket=BUCKET)
    env = {
        "AGENTLOOM_VAR_DIR": str(var_dir),
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "file_overwrite": False,
            "default_acl": None,
        },
    }
    try:
        yield Store("s3", backend, env)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def store_worker(store, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        process = start_worker(f"worker-{store.kind}", concurrency=4, **store.env)
    yield process
    process.stop()


@pytest.fixture
def in_store(store, settings) -> Store:
    """This process reads and deletes in the same store as the worker writes."""
    settings.STORAGES = {**settings.STORAGES, "default": store.backend}
    return store


def _run(api: Any, workflow_id: str) -> Run:
    response = api.post(f"/api/v1/workflows/{workflow_id}/runs/", {"inputs": {}}, format="json")
    assert response.status_code == 202, response.content
    return Run.objects.get(pk=response.json()["id"])


def _workflow(api: Any, doc: dict[str, Any], **fields: Any) -> str:
    response = api.post("/api/v1/workflows/", {"document": doc, **fields}, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def _rows(run_id: Any) -> dict[str, int]:
    return {
        "runs": Run.objects.filter(pk=run_id).count(),
        "nodes": NodeRun.objects.filter(run_id=run_id).count(),
        "events": RunEvent.objects.filter(run_id=run_id).count(),
        "artifacts": Artifact.objects.filter(run_id=run_id).count(),
    }


def _keys_of(store: Store, run_id: Any) -> list[str]:
    return [key for key in store.stored() if key.startswith(f"runs/{run_id}/")]


@pytest.mark.slow
def test_runs_past_retention_go_with_every_row_and_object(api, in_store, store_worker):
    big = _workflow(api, BIG_DOC, retention_days=1)
    old = wait_for_run(_run(api, big).pk)
    recent = wait_for_run(_run(api, big).pk)
    assert old.state == recent.state == RunState.SUCCEEDED, (old.error, recent.error)
    artifact = Artifact.objects.get(run=old)
    assert artifact.storage_key in _keys_of(in_store, old.pk)
    downloaded = api.get(f"/api/v1/runs/{old.pk}/artifacts/{artifact.pk}/")
    assert downloaded.status_code == 200
    body = b"".join(downloaded.streaming_content) if downloaded.streaming else downloaded.content
    assert json.loads(body)["json"] == BIG
    assert downloaded["X-Content-SHA256"] == artifact.sha256

    slow = _workflow(api, SLOW_DOC, retention_days=1)
    running = _run(api, slow)
    wait_for_node(running.pk, "slow", "running")
    long_ago = timezone.now() - timedelta(days=2)
    Run.objects.filter(pk=old.pk).update(finished_at=long_ago)
    Run.objects.filter(pk=running.pk).update(created_at=long_ago, started_at=long_ago)
    running_rows = _rows(running.pk)

    report = retention.delete_expired_runs()

    assert (report.deleted_runs, report.skipped) == (1, 0)
    assert _rows(old.pk) == {"runs": 0, "nodes": 0, "events": 0, "artifacts": 0}
    assert _keys_of(in_store, old.pk) == []
    assert api.get(f"/api/v1/runs/{old.pk}/artifacts/{artifact.pk}/").status_code == 404
    assert _rows(recent.pk)["artifacts"] == 1
    assert _keys_of(in_store, recent.pk)
    assert Run.objects.get(pk=running.pk).state == RunState.RUNNING
    assert _rows(running.pk) == running_rows

    refused = api.delete(f"/api/v1/runs/{running.pk}/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "run_not_finished"
    assert _rows(running.pk) == running_rows

    assert api.delete(f"/api/v1/runs/{recent.pk}/").status_code == 204
    assert _rows(recent.pk) == {"runs": 0, "nodes": 0, "events": 0, "artifacts": 0}
    assert api.get(f"/api/v1/runs/{recent.pk}/").status_code == 404

    assert api.post(f"/api/v1/runs/{running.pk}/cancel/").status_code == 202
    wait_for_run(running.pk)
    assert api.delete(f"/api/v1/runs/{running.pk}/").status_code == 204
    assert not Run.objects.exists()
    assert not NodeRun.objects.exists()
    assert not RunEvent.objects.exists()
    assert not Artifact.objects.exists()
    assert in_store.stored() == []


@pytest.mark.slow
def test_deleting_a_workflow_deletes_its_runs_stored_objects(api, in_store, store_worker):
    big = _workflow(api, BIG_DOC)
    kept = _workflow(api, BIG_DOC)
    runs = [wait_for_run(_run(api, big).pk), wait_for_run(_run(api, kept).pk)]
    assert [run.state for run in runs] == [RunState.SUCCEEDED] * 2
    assert _keys_of(in_store, runs[0].pk)
    assert _keys_of(in_store, runs[1].pk)

    assert api.delete(f"/api/v1/workflows/{big}/").status_code == 204

    assert _rows(runs[0].pk) == {"runs": 0, "nodes": 0, "events": 0, "artifacts": 0}
    assert _keys_of(in_store, runs[0].pk) == []
    assert _rows(runs[1].pk)["artifacts"] == 1
    assert _keys_of(in_store, runs[1].pk)
    assert api.delete(f"/api/v1/workflows/{kept}/").status_code == 204
    assert in_store.stored() == []


# --- The beat job's rules, on runs written directly ------------------------------------


def _finished_runs(workflow: Workflow, count: int, *, days_ago: float) -> list[Run]:
    version = WorkflowVersion.objects.get(workflow=workflow, number=workflow.version)
    finished = timezone.now() - timedelta(days=days_ago)
    runs = Run.objects.bulk_create(
        Run(
            workspace_id=workflow.workspace_id,
            workflow=workflow,
            version=version,
            state=RunState.SUCCEEDED,
            finished_at=finished,
        )
        for _ in range(count)
    )
    for run in runs:
        stored = outputs.store_output(run.pk, "big", 1, BIG)
        NodeRun.objects.create(
            run=run,
            node_id="big",
            node_type="agent",
            state="succeeded",
            output_artifact=stored.artifact,
        )
        RunEvent.objects.create(run=run, seq=1, ts=finished, type="run.succeeded")
    return runs


@pytest.fixture
def workflow(api) -> Workflow:
    return Workflow.objects.get(pk=_workflow(api, BIG_DOC))


def test_deletion_goes_in_batches_of_the_configured_size(workflow, settings):
    settings.AGENTLOOM_RETENTION = {**settings.AGENTLOOM_RETENTION, "batch_runs": 2}
    Workflow.objects.filter(pk=workflow.pk).update(retention_days=3)
    expired = _finished_runs(workflow, 5, days_ago=4)
    kept = _finished_runs(workflow, 1, days_ago=2)

    report = retention.delete_expired_runs()

    assert (report.deleted_runs, report.batches) == (5, 3)
    assert list(Run.objects.values_list("pk", flat=True)) == [kept[0].pk]
    for run in expired:
        assert not default_storage.exists(f"runs/{run.pk}")
    assert default_storage.exists(Artifact.objects.get().storage_key)


def test_the_default_and_the_operators_maximum_bound_retention(workflow, settings):
    settings.AGENTLOOM_RETENTION = {
        **settings.AGENTLOOM_RETENTION,
        "default_days": 10,
        "max_days": 20,
    }
    _finished_runs(workflow, 1, days_ago=11)  # the workflow sets nothing: 10 days
    assert retention.delete_expired_runs().deleted_runs == 1
    Workflow.objects.filter(pk=workflow.pk).update(retention_days=30)  # above the maximum
    _finished_runs(workflow, 1, days_ago=19)
    _finished_runs(workflow, 1, days_ago=21)
    assert retention.delete_expired_runs().deleted_runs == 1
    assert Run.objects.count() == 1


def test_a_run_whose_outputs_a_later_run_reuses_is_kept_until_that_one_goes(api, workflow):
    Workflow.objects.filter(pk=workflow.pk).update(retention_days=1)
    (earlier,) = _finished_runs(workflow, 1, days_ago=5)
    (later,) = _finished_runs(workflow, 1, days_ago=0)
    Run.objects.filter(pk=later.pk).update(resumed_from=earlier)
    # A resumed run points at the unchanged node's stored output rather than copying it.
    NodeRun.objects.filter(run=later).update(output_artifact=Artifact.objects.get(run=earlier))

    assert retention.delete_expired_runs().deleted_runs == 0
    refused = api.delete(f"/api/v1/runs/{earlier.pk}/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "run_in_use"
    assert refused.json()["run"] == str(later.pk)

    assert api.delete(f"/api/v1/runs/{later.pk}/").status_code == 204
    assert retention.delete_expired_runs().deleted_runs == 1
    assert not Run.objects.exists()
    assert not Artifact.objects.exists()


def test_queued_and_running_runs_are_never_deleted(workflow):
    Workflow.objects.filter(pk=workflow.pk).update(retention_days=1)
    runs = _finished_runs(workflow, 2, days_ago=30)
    Run.objects.filter(pk=runs[0].pk).update(state=RunState.RUNNING)
    Run.objects.filter(pk=runs[1].pk).update(state=RunState.QUEUED)
    assert retention.delete_expired_runs().deleted_runs == 0
    assert Run.objects.count() == 2
    assert Artifact.objects.count() == 2


# --- DELETE runs/<id>/ and retention_days over the API ---------------------------------


def test_only_writers_of_the_runs_workspace_delete_it(api, workflow, make_member, client_for):
    (run,) = _finished_runs(workflow, 1, days_ago=0)
    viewer, _ = make_member("viewer", Role.VIEWER, workflow.workspace)
    refused = client_for(viewer).delete(f"/api/v1/runs/{run.pk}/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    stranger, _ = make_member("stranger")
    assert client_for(stranger).delete(f"/api/v1/runs/{run.pk}/").status_code == 404
    assert _rows(run.pk) == {"runs": 1, "nodes": 1, "events": 1, "artifacts": 1}
    assert default_storage.exists(Artifact.objects.get(run=run).storage_key)


@pytest.mark.parametrize(
    "raw",
    [
        '"١٢"',  # Arabic-Indic digits
        '"\uff11\uff12"',  # fullwidth digits
        "-1",
        "0",
        "1.5",
        "true",
        '"12 days"',
        '""',
        "1" + "0" * 400,
        "NaN",
        "Infinity",
        "3651",  # above AGENTLOOM_RETENTION_MAX_DAYS
        "[30]",
    ],
)
def test_a_bad_retention_is_a_clear_400_and_changes_nothing(api, workflow, raw):
    before = Workflow.objects.values("retention_days", "version", "updated_at").get(pk=workflow.pk)
    body = f'{{"version": {workflow.version}, "retention_days": {raw}}}'
    response = api.generic(
        "PATCH", f"/api/v1/workflows/{workflow.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "malformed_json"}
    assert response.json()["message"]
    after = Workflow.objects.values("retention_days", "version", "updated_at").get(pk=workflow.pk)
    assert after == before
    created = api.generic(
        "POST",
        "/api/v1/workflows/",
        f'{{"retention_days": {raw}}}',
        content_type="application/json",
    )
    assert created.status_code == 400
    assert Workflow.objects.count() == 1


def test_retention_is_set_and_cleared_without_a_new_version(api, workflow):
    url = f"/api/v1/workflows/{workflow.pk}/"
    response = api.patch(url, {"version": workflow.version, "retention_days": 30}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["retention_days"] == 30
    assert response.json()["version"] == workflow.version
    assert api.get(url).json()["retention_days"] == 30
    cleared = api.patch(url, {"version": workflow.version, "retention_days": None}, format="json")
    assert cleared.json()["retention_days"] is None
    untouched = api.patch(url, {"version": workflow.version, "name": "renamed"}, format="json")
    assert untouched.status_code == 200
    assert Workflow.objects.get(pk=workflow.pk).retention_days is None
