from django.urls import path
from rest_framework.routers import SimpleRouter

from server.runs import views

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
    *router.urls,
]
