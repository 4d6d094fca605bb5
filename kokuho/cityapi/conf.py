"""The API's settings: read from Django settings when set there, else from the environment.

`KOKUHO_API_ALLOW_HTTP` (`1`/`0`): accept requests that did not come over HTTPS. Default:
only when `DEBUG` is on (local development). In production TLS ends at the city's reverse
proxy; Django then needs `SECURE_PROXY_SSL_HEADER` to see that the request was secure.
`KOKUHO_API_TOKEN_OVERLAP_SECONDS` (default 0): how long a rotated-out token keeps working,
so a system can switch to its new token without a moment of refusals.
"""

import os
from datetime import timedelta

from django.conf import settings


def api_allow_http() -> bool:
    value = getattr(settings, "KOKUHO_API_ALLOW_HTTP", None)
    if value is None:
        value = os.environ.get("KOKUHO_API_ALLOW_HTTP")
    if value is None:
        return bool(settings.DEBUG)
    return value in (True, "1", "true", "yes")


def api_token_overlap() -> timedelta:
    value = getattr(settings, "KOKUHO_API_TOKEN_OVERLAP_SECONDS", None)
    if value is None:
        value = os.environ.get("KOKUHO_API_TOKEN_OVERLAP_SECONDS", "0")
    return timedelta(seconds=int(value))
