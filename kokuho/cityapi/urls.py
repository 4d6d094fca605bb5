"""URLs of the city's API, mounted at `api/v1/`.

The staff middleware (`PermissionRequiredMiddleware`) guards screens by a staff session;
these URLs are guarded by the API's own token and scope check instead (`api.ScopedToken`),
so they are marked public to it, and no response is cached (personal data: privacy.md §6).
"""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from django.views.decorators.cache import never_cache

from kokuho.accounts.decorators import public
from kokuho.cityapi.api import api, method_not_allowed


def _json_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            return method_not_allowed(request, response.get("Allow", ""))
        return response

    return wrapped


def _token_guarded(
    patterns: list[URLPattern | URLResolver],
) -> list[URLPattern | URLResolver]:
    for entry in patterns:
        if isinstance(entry, URLPattern):
            view = never_cache(_json_405(entry.callback))
            view.kokuho_api = True  # type: ignore[attr-defined]
            entry.callback = public(view)
        else:
            _token_guarded(entry.url_patterns)
    return patterns


_patterns, _app, _namespace = api.urls
# The namespace ninja reverses its own URLs in (`cityapi:api-root`).
app_name = "cityapi"
urlpatterns = _token_guarded(_patterns)
