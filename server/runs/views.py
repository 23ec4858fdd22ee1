from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.authentication import ApiTokenAuthentication
from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import require_role
from server.core.downloads import attachment
from server.core.patterns import UUID
from server.runs.estimates import estimate_for
from server.runs.models import Artifact, RunEvent, Trigger
from server.runs.outputs import read_artifact
from server.runs.pinned import graph_for_version
from server.runs.selectors import node_counts, resume_preview, runs_for
from server.runs.serializers import (
    EstimateRequestSerializer,
    EventsQuerySerializer,
    ResumeSerializer,
    RunCreateSerializer,
    RunDetailSerializer,
    RunListFilterSerializer,
    RunSerializer,
)
from server.runs.services import resume, retention, start, stopping
from server.workflows.selectors import runnable_workflow


def _run_response(
    run: Any, status_code: int = status.HTTP_200_OK, counts: dict[str, int] | None = None
) -> Response:
    """The run as the runs list shows it; ``counts``: its nodes' states, if known without a read."""
    counts = node_counts([run.pk])[run.pk] if counts is None else counts
    data = RunSerializer(run, context={"node_counts": {run.pk: counts}}).data
    return Response(data, status=status_code)


class WorkflowRunsView(APIView):
    """POST workflows/<id>/runs/: start a run (202: it runs in the background)."""

    @extend_schema(request=RunCreateSerializer, responses={202: RunSerializer})
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = runnable_workflow(request.user, workflow_id)
        require_role(request.user, workflow.workspace_id, WRITE_ROLES)
        serializer = RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        by_script = isinstance(request.successful_authenticator, ApiTokenAuthentication)
        new = start.start_run(
            workflow=workflow,
            user=request.user,
            inputs=serializer.validated_data["inputs"],
            version_number=serializer.validated_data.get("version"),
            trigger=Trigger.API if by_script else Trigger.MANUAL,
        )
        return _run_response(new.run, status.HTTP_202_ACCEPTED, new.node_counts)


class WorkflowEstimateView(APIView):
    """POST workflows/<id>/estimate/: tokens and cost before running (upper bounds)."""

    @extend_schema(request=EstimateRequestSerializer, responses=serializers.DictField())
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = runnable_workflow(request.user, workflow_id)
        serializer = EstimateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            estimate_for(
                workflow,
                serializer.validated_data.get("version"),
                serializer.validated_data["inputs"],
            )
        )


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    def get_queryset(self) -> QuerySet[Any]:
        runs = runs_for(self.request.user).select_related("workflow", "version", "triggered_by")
        if self.action == "retrieve":
            return runs.prefetch_related("node_runs__output_artifact")
        if self.action != "list":
            return runs
        filters = RunListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        if "workflow" in params:
            runs = runs.filter(workflow_id=params["workflow"])
        if "state" in params:
            runs = runs.filter(state=params["state"])
        if "trigger" in params:
            runs = runs.filter(trigger=params["trigger"])
        if "created_after" in params:
            runs = runs.filter(created_at__gte=params["created_after"])
        if "created_before" in params:
            runs = runs.filter(created_at__lt=params["created_before"])
        return runs

    def get_serializer_class(self) -> type:
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        page = getattr(self, "_page_ids", None)
        if page is not None:
            context["node_counts"] = node_counts(page)
        return context

    @extend_schema(parameters=[RunListFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        self._page_ids = [run.pk for run in page or []]
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run = self.get_object()
        self._page_ids = [run.pk]
        return Response(self.get_serializer(run).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a finished run with its events, node runs and artifacts (409 while it runs)."""
        retention.delete_run(self._writable_run().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _writable_run(self) -> Any:
        run = self.get_object()
        require_role(self.request.user, run.workspace_id, WRITE_ROLES)
        return run

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        run = stopping.cancel_run(self._writable_run().pk)
        return _run_response(run, status.HTTP_202_ACCEPTED)

    @extend_schema(
        methods=["GET"],
        responses=inline_serializer(
            "ResumePlan",
            {
                "version": serializers.IntegerField(),
                "nodes": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @extend_schema(methods=["POST"], request=ResumeSerializer, responses={202: RunSerializer})
    @action(detail=True, methods=["get", "post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """GET: which nodes would keep their output; POST: resume as a new run."""
        if request.method == "GET":
            run = self.get_object()
            version = run.workflow.versions.get(number=run.workflow.version)
            plan = resume_preview(run, version.pk, graph_for_version(version.pk))
            return Response({"version": version.number, "nodes": plan})
        params = ResumeSerializer(data=request.data or {})
        params.is_valid(raise_exception=True)
        run = resume.resume_run(
            self._writable_run(),
            user=request.user,
            version_number=params.validated_data.get("version"),
        )
        return _run_response(run, status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[EventsQuerySerializer],
        responses=inline_serializer(
            "RunEvents",
            {
                "events": serializers.ListField(child=serializers.DictField()),
                "last_seq": serializers.IntegerField(),
            },
        ),
    )
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        query = EventsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = RunEvent.objects.filter(run=run, seq__gt=query.validated_data["after"]).order_by(
            "seq"
        )[: query.validated_data["limit"]]
        return Response(
            {"events": [event.as_message() for event in events], "last_seq": run.last_seq}
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("artifact_id", OpenApiTypes.UUID, location=OpenApiParameter.PATH)
        ],
        responses={(200, "application/json"): bytes},
    )
    @action(detail=True, methods=["get"], url_path=rf"artifacts/(?P<artifact_id>{UUID})")
    def artifact(
        self, request: Request, pk: str | None = None, artifact_id: str = ""
    ) -> HttpResponse:
        """Download a large node output (decompressed JSON)."""
        run = self.get_object()
        artifact = get_object_or_404(Artifact, pk=artifact_id, run=run)
        response = attachment(
            read_artifact(artifact), artifact.content_type, f"{artifact.node_id}-output.json"
        )
        response["X-Content-SHA256"] = artifact.sha256
        return response
