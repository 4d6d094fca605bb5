"""Start-up checks of the installation's own numbers (`kokuho check` runs them too)."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from kokuho.rules.numbers import insurer_number_is_valid


@register()
def insurer_number_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    number = settings.KOKUHO_INSURER_NUMBER
    if insurer_number_is_valid(number):
        return []
    return [
        Error(
            f"KOKUHO_INSURER_NUMBER {number!r} は保険者番号として正しくありません（検証番号）",
            id="kokuho.E001",
        )
    ]
