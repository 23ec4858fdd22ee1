from django.urls import path
from rest_framework.routers import SimpleRouter

from server.triggers import views

router = SimpleRouter()
router.register("schedules", views.ScheduleViewSet, basename="schedule")
router.register("triggers", views.WebhookViewSet, basename="trigger")

urlpatterns = [
    path(
        "runs/<uuid:run_id>/notifications/",
        views.RunNotificationsView.as_view(),
        name="run-notifications",
    ),
    path(
        "workflows/<uuid:workflow_id>/notifications/",
        views.WorkflowNotificationsView.as_view(),
        name="workflow-notifications",
    ),
    path(
        "workflows/<uuid:workflow_id>/notifications/deliveries/",
        views.WorkflowDeliveriesView.as_view(),
        name="workflow-notification-deliveries",
    ),
    *router.urls,
]
