from django.urls import path

from server.live.consumers import RunEventsConsumer, WorkspaceRunsConsumer

websocket_urlpatterns = [
    path("ws/runs/<uuid:run_id>/", RunEventsConsumer.as_asgi()),
    path("ws/workspace/", WorkspaceRunsConsumer.as_asgi()),
]
