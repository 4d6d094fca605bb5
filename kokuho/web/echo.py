"""A My Number typed into the wrong field is never echoed, stored or put in a URL (issue 17).

Three layers, all central, so that no form or view has to remember:

1. `MyNumberEchoMiddleware`, on the way in: every GET/POST value that holds a valid My Number
   (12 digits, check digit right — `core.mynumber`) is replaced by its masked form
   (`**** **** 1234`) before any view, form, service or audit event sees it — except in the
   fields made for a number (`MY_NUMBER_FIELDS`). A GET carrying one is redirected to the
   masked URL (the number leaves the address bar and the history); an htmx GET is told not
   to push its URL. The clerk is told why (`MY_NUMBER_HINT`).
2. `GuardedBoundField` (every form, through `FORM_RENDERER`): a field whose value is a masked
   or valid My Number shows the hint as its error instead of a message about the value; and
   no widget gets `required` or `maxlength` — the server says what is missing or too long, in
   Japanese, instead of the browser's English bubble or a silent cut.
3. On the way out: every HTML response is masked with `mask_my_numbers_in` (a value echoed
   from a file's content, a message built from input) — except the one view that shows a
   number on purpose (`REVEAL_VIEWS`, 個人番号の表示, audited).
"""

import copy
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.forms import BoundField
from django.forms.renderers import DjangoTemplates
from django.forms.utils import ErrorList
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.multipartparser import MultiPartParserError

from kokuho.core.mynumber import mask_my_numbers_in

MY_NUMBER_HINT = "この欄には個人番号を入力しません"
# Fields whose purpose is a My Number (個人番号の登録); nothing else takes one.
MY_NUMBER_FIELDS = frozenset({"my_number"})
# Never rewritten: a password or the CSRF token is never shown, and changing it would refuse
# a correct login.
_UNTOUCHED = MY_NUMBER_FIELDS | {"password", "csrfmiddlewaretoken"}
# URL names whose response shows a number by design (audited reveal).
REVEAL_VIEWS = frozenset({"my_number_reveal"})
API_PREFIX = "/api/"
_MASKED = re.compile(r"\*{4} \*{4} \d{4}")
_MASKED_MESSAGE = (
    "個人番号と思われる番号が入力されたため、伏せ字（**** **** 下4桁）に置き換えました。"
    f"{MY_NUMBER_HINT}。"
)


def looks_like_my_number(value: Any) -> bool:
    """A valid My Number in the text, or the mask this module put in its place."""
    if not isinstance(value, str) or not value:
        return False
    return bool(_MASKED.search(value)) or mask_my_numbers_in(value) != value


def _masked(data: QueryDict) -> tuple[QueryDict, list[str]]:
    masked = QueryDict(mutable=True, encoding=data.encoding)
    fields: list[str] = []
    for key, values in data.lists():
        if key in _UNTOUCHED:
            masked.setlist(key, values)
            continue
        new = [mask_my_numbers_in(v) for v in values]
        if new != values:
            fields.append(key)
        masked.setlist(key, new)
    masked._mutable = False
    return masked, fields


class MyNumberEchoMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        early = self._mask_request(request)
        response = early or self.get_response(request)
        return self._mask_response(request, response)

    def _mask_request(self, request: HttpRequest) -> HttpResponse | None:
        if request.path_info.startswith(API_PREFIX):
            # The city's API reads its JSON body itself: parsing it here as a form would
            # consume the stream (and a malformed multipart body would be answered with an
            # HTML 400 instead of the API's JSON error). It renders no HTML either.
            request.kokuho_masked_fields = []  # type: ignore[attr-defined]
            return None
        masked_get, in_get = _masked(request.GET)
        in_post: list[str] = []
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            try:
                masked_post, in_post = _masked(request.POST)
            except MultiPartParserError:
                # A body Django cannot parse: the view that reads it is answered 400 as
                # without this middleware (there is nothing to echo).
                masked_post, in_post = request.POST, []
            if in_post:
                request.POST = masked_post
        request.kokuho_masked_fields = in_get + in_post  # type: ignore[attr-defined]
        if not in_get:
            if in_post:
                messages.warning(request, _MASKED_MESSAGE)
            return None
        request.GET = masked_get
        if request.method in ("GET", "HEAD") and not request.headers.get("HX-Request"):
            messages.warning(request, _MASKED_MESSAGE)
            query = urlencode(list(masked_get.lists()), doseq=True)
            return HttpResponseRedirect(f"{request.path}?{query}")
        return None

    def _mask_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "kokuho_masked_fields", None) and request.headers.get("HX-Request"):
            response["HX-Push-Url"] = "false"  # the number must not reach the history
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in REVEAL_VIEWS:
            return response
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return response
        charset = response.charset or "utf-8"
        text = response.content.decode(charset, errors="replace")
        masked = mask_my_numbers_in(text)
        if masked != text:
            response.content = masked.encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


_BROWSER_CHECKS = ("required", "maxlength", "minlength")


class GuardedBoundField(BoundField):
    """Every form's fields (see the module docstring, layer 2)."""

    def _holds_my_number(self) -> bool:
        if self.name in MY_NUMBER_FIELDS or not self.form.is_bound:
            return False
        return looks_like_my_number(self.data)

    @property
    def errors(self) -> ErrorList:
        if self._holds_my_number():
            return self.form.error_class([MY_NUMBER_HINT], renderer=self.form.renderer)
        return super().errors

    def value(self) -> Any:
        value = super().value()
        return mask_my_numbers_in(value) if isinstance(value, str) else value

    def as_widget(self, widget: Any = None, attrs: Any = None, only_initial: bool = False) -> str:
        # The field put maxlength/minlength into the widget's own attrs when it was made.
        widget = copy.copy(widget or self.field.widget)
        widget.attrs = {k: v for k, v in widget.attrs.items() if k not in _BROWSER_CHECKS}
        return super().as_widget(widget, attrs, only_initial)

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        built = super().build_widget_attrs(attrs, widget)
        for name in _BROWSER_CHECKS:
            built.pop(name, None)
        if self._holds_my_number():
            built["aria-invalid"] = "true"
        return built


class GuardedRenderer(DjangoTemplates):
    """The project's form renderer: Django's own, with `GuardedBoundField` for every form."""

    bound_field_class = GuardedBoundField
