from functools import cache

from django.conf import settings

from workers.engine.limits import Limits


@cache
def engine_limits() -> Limits:
    """The engine's limits, from settings (AGENTLOOM_* variables)."""
    return Limits(**settings.AGENTLOOM_LIMITS)
