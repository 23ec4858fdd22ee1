from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from server.core.patterns import UUID
from server.site import views as site_views
from server.triggers.hooks import hook
from server.workflow_templates.views import TemplateViewSet
from server.workflows.editor_views import ExpressionEvaluateView, ModelListView
from server.workflows.views import WorkflowVersionViewSet, WorkflowViewSet

router = SimpleRouter()
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register(
    rf"workflows/(?P<workflow_pk>{UUID})/versions",
    WorkflowVersionViewSet,
    basename="workflow-version",
)
router.register("templates", TemplateViewSet, basename="template")

api_v1 = [
    path("", include("server.accounts.urls")),
    path("", include("server.runs.urls")),
    path("", include("server.credentials.urls")),
    path("", include("server.triggers.urls")),
    path("models/", ModelListView.as_view(), name="models"),
    path("expressions/evaluate/", ExpressionEvaluateView.as_view(), name="expression-evaluate"),
    *router.urls,
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
    path("healthz", site_views.healthz, name="healthz"),
    path("readyz", site_views.readyz, name="readyz"),
    path("metrics", site_views.metrics, name="metrics"),
    path("hooks/<str:token>", hook, name="hook"),
    re_path(r"^(?!api/|admin/|static/|ws/|hooks/).*$", site_views.spa, name="spa"),
]

handler400 = "server.core.json_errors.bad_request"
handler404 = "server.core.json_errors.not_found"
handler500 = "server.core.json_errors.server_error"
