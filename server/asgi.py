"""ASGI entry point: Django for HTTP, Channels for the live websockets."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
# What django.core.asgi.get_asgi_application does, with our handler.
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from server.core.asgi_handler import OneCallASGIHandler  # noqa: E402
from server.live.auth import TokenAuthMiddleware  # noqa: E402
from server.live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": OneCallASGIHandler(),
        # Origins are checked by the consumers: scripts with a token may omit Origin.
        "websocket": AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far lives as long as the process. Moving it out of the
# collector's reach keeps full collections, which otherwise walk every one of
# these objects, from pausing the event loop (and every live socket) for tens
# of milliseconds at a time.
gc.freeze()
