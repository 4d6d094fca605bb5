"""Start-up check: the 副本 catalogue, the 照会 allow-list and this app's layouts load."""

from typing import Any

from django.core.checks import Error, register

from kokuho.national.layouts import LayoutError
from kokuho.rules.params import ParameterError


@register()
def intermediary_catalogue_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    from kokuho.intermediary.allow_list import AllowListError, allow_list
    from kokuho.intermediary.catalogue import CatalogueError, catalogue
    from kokuho.intermediary.wire import wire_layouts

    try:
        catalogue()
        allow_list()
        wire_layouts()
    except (CatalogueError, AllowListError, LayoutError, ParameterError) as error:
        return [Error(f"中間サーバー（副本の目録・照会の許可リスト）: {error}", id="kokuho.E301")]
    return []
