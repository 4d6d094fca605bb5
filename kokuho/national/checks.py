"""Start-up check: every layout descriptor and code table loads and is consistent."""

from typing import Any

from django.core.checks import Error, register

from kokuho.national.layouts import LayoutError, descriptors
from kokuho.rules.params import ParameterError


@register()
def national_layouts_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        descriptors()
    except (LayoutError, ParameterError) as error:
        return [Error(f"連携ファイルのレイアウト定義: {error}", id="kokuho.E201")]
    return []
