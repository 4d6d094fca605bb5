"""Template context every staff page gets."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kokuho.accounts.permissions import Perm


def national_alerts(request: HttpRequest) -> dict[str, Any]:
    """The national links' alerts (a feed whose 処理結果 is overdue) as a banner on every page
    of the staff who send the feeds or keep the link running — a silent stop must be seen
    (national.md: a city's updates stopped unnoticed for months). Lazy: queried only by the
    page that shows it, one indexed query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(Perm.SYSTEM_STATUS_VIEW):
        return {}

    def load() -> list[Any]:
        from kokuho.national.selectors import national_alerts as alerts

        return alerts()

    return {"national_alerts": SimpleLazyObject(load)}
