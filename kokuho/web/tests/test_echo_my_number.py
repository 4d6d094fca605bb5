"""A My Number typed into any text field of any form reached from a role's home is in no
response body (issue 17 item 4): a generic walker over the pages each role reaches (its home,
the links there and one level further, a resident's pages), every <form> on them, every
text field filled with a valid synthetic number, submitted."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.demo.numbers import demo_my_number
from kokuho.testing import login_verified, make_person, make_staff
from kokuho.web.echo import MY_NUMBER_FIELDS, MY_NUMBER_HINT

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

NUMBER = demo_my_number(424242)
SPACED = f"{NUMBER[:4]} {NUMBER[4:8]} {NUMBER[8:]}"
TEXT_TYPES = {"", "text", "search", "tel", "number", "email", "url", "month", "date"}
SKIP_ACTIONS = {"/logout/"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("hx-post") or a.get("hx-get") or a.get("action", ""),
                "fields": [],
            }
            if a.get("hx-post"):
                self._form["method"] = "post"
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea"):
            kind = a.get("type", "text").lower() if tag == "input" else "textarea"
            if a.get("name"):
                self._form["fields"].append((a["name"], kind, a.get("value", "")))
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = a["name"]
        elif self._select and tag == "option":
            self._form["fields"].append((self._select, "select", a.get("value", "")))
            self._select = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _parse(body: str) -> _Page:
    page = _Page()
    page.feed(body)
    return page


def _data(form: dict) -> tuple[dict[str, list[str]], int]:
    data: dict[str, list[str]] = {}
    typed = 0
    for name, kind, value in form["fields"]:
        if kind in TEXT_TYPES or kind == "textarea":
            if name in MY_NUMBER_FIELDS:
                continue
            data.setdefault(name, []).append(NUMBER)
            typed += 1
        elif kind in ("hidden", "select") or (kind in ("radio", "checkbox") and name not in data):
            data.setdefault(name, []).append(value)
    return data, typed


def _clean(response, where: str) -> None:
    body = response.content.decode(errors="replace")
    for shown in (NUMBER, SPACED):
        assert shown not in body, where
    for url, _status in getattr(response, "redirect_chain", []):
        assert NUMBER not in url, where


def _walk(client, start: list[str], depth: int = 3, limit: int = 80) -> dict[str, _Page]:
    seen: dict[str, _Page] = {}
    frontier = list(start)
    for _ in range(depth):
        following = []
        for url in frontier:
            path = urlsplit(url).path
            if url in seen or len(seen) >= limit or path.endswith((".pdf", ".csv", ".json")):
                continue
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                continue
            seen[url] = _parse(response.content.decode())
            following += seen[url].links
        frontier = following
    return seen


ROLES = [Role.COUNTER, Role.ELIGIBILITY, Role.BENEFITS, Role.ADMINISTRATOR, Role.AUDITOR]
ROLES += [Role.SUPERVISOR, Role.CONTRACTOR]


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_a_my_number_typed_into_any_field_is_echoed_nowhere(client, role, var_dir, settings):
    settings.KOKUHO_VAULT_KEY_FILE = var_dir / "vault-keys.json"
    person = make_person(kana="ヤマダ タロウ")
    kwargs = {"is_contractor": True, "valid_until": None}
    if role is Role.CONTRACTOR:
        import datetime as dt

        kwargs["valid_until"] = dt.date(2099, 3, 31)
    else:
        kwargs = {}
    staff = make_staff(role=role, **kwargs)
    login_verified(client, staff)
    start = [reverse("home")]
    if role is Role.ADMINISTRATOR:
        start.append(reverse("account_staff_detail", args=[staff.username]))
    if role in (Role.COUNTER, Role.ELIGIBILITY, Role.BENEFITS):
        start += [
            reverse("search") + "?kana=ヤマダ",
            reverse("person_detail", args=[person.atena_no]),
            reverse("household_detail", args=[person.household.household_no]),
        ]
    pages = _walk(client, start)
    submitted = 0
    for url, page in pages.items():
        for form in page.forms:
            action = urljoin(url, form["action"] or url)
            if urlsplit(action).path in SKIP_ACTIONS:
                continue
            data, typed = _data(form)
            if not typed:
                continue
            send = client.post if form["method"] == "post" else client.get
            response = send(action, data, follow=True)
            _clean(response, f"{role} {url} -> {action}")
            submitted += 1
    print(role.name, len(pages), "pages", submitted, "forms")  # for the report (pytest -s)
    if role not in (Role.SUPERVISOR, Role.CONTRACTOR):  # their pages hold no text field
        assert submitted >= 1, pages.keys()


def test_the_search_says_the_field_takes_no_my_number(client, var_dir):
    login_verified(client, make_staff(role=Role.COUNTER))
    response = client.get(reverse("search"), {"kana": NUMBER}, follow=True)
    body = response.content.decode()
    assert MY_NUMBER_HINT in body
    assert "**** **** " + NUMBER[-4:] in body
    assert NUMBER not in body
    # the redirect took the number out of the address bar
    assert all(NUMBER not in url for url, _ in response.redirect_chain)


def test_an_htmx_search_is_not_pushed_to_the_history(client, var_dir):
    login_verified(client, make_staff(role=Role.COUNTER))
    response = client.get(reverse("search"), {"atena_no": SPACED}, HTTP_HX_REQUEST="true")
    assert response["HX-Push-Url"] == "false"
    body = response.content.decode()
    assert MY_NUMBER_HINT in body and NUMBER not in body and SPACED not in body


def test_a_posted_note_is_stored_masked(client, var_dir):
    """The number never reaches a view: a free-text field gets the mask, the clerk a notice."""
    from kokuho.audit.models import Incident

    login_verified(client, make_staff(role=Role.AUDITOR))
    response = client.post(
        reverse("incident_new"),
        {
            "title": f"番号 {NUMBER} を誤送信",
            "description": "試験",
            "discovered_at": "2025-06-02 10:00",
            "kind": "leak",
        },
        follow=True,
    )
    assert NUMBER not in response.content.decode()
    assert not Incident.objects.filter(title__contains=NUMBER).exists()


def test_a_number_that_fails_the_check_digit_is_left_alone(client, var_dir):
    """宛名番号・金額 are not My Numbers: only a valid check digit is masked."""
    wrong = NUMBER[:11] + str((int(NUMBER[11]) + 1) % 10)
    login_verified(client, make_staff(role=Role.COUNTER))
    response = client.get(reverse("search"), {"atena_no": wrong})
    assert response.status_code == 200
    assert MY_NUMBER_HINT not in response.content.decode()


def test_the_register_field_still_takes_a_number(rf):
    from kokuho.web.echo import _masked

    data, fields = _masked(rf.post("/", {"my_number": NUMBER, "reason": NUMBER}).POST)
    assert data["my_number"] == NUMBER and fields == ["reason"]
    assert re.fullmatch(r"\*{4} \*{4} \d{4}", data["reason"])
