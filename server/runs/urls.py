from django.urls import path
from rest_framework.routers import SimpleRouter

from server.runs import (
    approvals_api,
    http_preview_api,
    mcp_listing_api,
    side_effects_api,
    spend_api,
    stats_api,
    views,
)

router = SimpleRouter()
router.register("runs", views.RunViewSet, basename="run")

urlpatterns = [
    path(
        "workflows/<uuid:workflow_id>/runs/", views.WorkflowRunsView.as_view(), name="workflow-runs"
    ),
    path(
        "workflows/<uuid:workflow_id>/estimate/",
        views.WorkflowEstimateView.as_view(),
        name="workflow-estimate",
    ),
    path(
        "workflows/<uuid:workflow_id>/spend/",
        spend_api.WorkflowSpendView.as_view(),
        name="workflow-spend",
    ),
    path(
        "workflows/<uuid:workflow_id>/stats/",
        stats_api.WorkflowStatsView.as_view(),
        name="workflow-stats",
    ),
    path(
        "workflows/<uuid:workflow_id>/http-preview/",
        http_preview_api.HttpPreviewView.as_view(),
        name="workflow-http-preview",
    ),
    path(
        "workflows/<uuid:workflow_id>/mcp-tools/",
        mcp_listing_api.McpToolsView.as_view(),
        name="workflow-mcp-tools",
    ),
    path(
        "workspaces/<uuid:workspace_id>/spend/",
        spend_api.WorkspaceSpendView.as_view(),
        name="workspace-spend",
    ),
    path(
        "runs/<uuid:run_id>/side-effects/",
        side_effects_api.RunSideEffectsView.as_view(),
        name="run-side-effects",
    ),
    path(
        "runs/<uuid:run_id>/side-effects/<int:side_effect_id>/resolve/",
        side_effects_api.ResolveSideEffectView.as_view(),
        name="run-side-effect-resolve",
    ),
    path(
        "runs/<uuid:run_id>/rollback/",
        side_effects_api.RunRollbackView.as_view(),
        name="run-rollback",
    ),
    path("approvals/", approvals_api.ApprovalsView.as_view(), name="approvals"),
    path(
        "runs/<uuid:run_id>/nodes/<path:node_id>/decision/",
        approvals_api.DecisionView.as_view(),
        name="run-node-decision",
    ),
    *router.urls,
]
