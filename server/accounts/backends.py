"""The sign-in backend: Django's, behind the failed sign-in throttle.

As a backend rather than a check in the login view, the throttle guards every
place a password is checked (the API's login, the admin's) in one place.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from server.accounts.throttling import give_back, take_login_slots


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is None or not isinstance(username, str) or password is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        # Raises LoginThrottled (a PermissionDenied): authenticate() then stops
        # asking other backends and answers None.
        slots = take_login_slots(request, username)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            give_back(slots)
        return user
