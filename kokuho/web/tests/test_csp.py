"""Content-Security-Policy without 'unsafe-inline': every response carries the policy, and
no page has an inline script, an inline style, a style attribute, an event-handler attribute
or a javascript: URL — except the one <style> that carries the response's nonce.

Three looks: the templates' source (every template, rendered or not), the pages as each
role reaches them (the home and the main screens, then every link and htmx fragment found
on them), and the pages no one is signed in to."""

import re
from collections import deque
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.testing import login_verified, make_claim, make_insured, make_staff

# --- The policy ----------------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _nonce(sources: list[str]) -> str | None:
    found = [s[len("'nonce-") : -1] for s in sources if s.startswith("'nonce-")]
    return found[0] if found else None


def _assert_strict(policy: dict[str, list[str]]) -> None:
    every = [source for sources in policy.values() for source in sources]
    assert "'unsafe-inline'" not in every and "'unsafe-eval'" not in every
    assert "'unsafe-hashes'" not in every
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert [s for s in policy["style-src"] if not s.startswith("'nonce-")] == ["'self'"]
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


# --- The HTML ------------------------------------------------------------------------------


def _same_site(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


class _InlineFinder(HTMLParser):
    """What the policy would block (or what would need 'unsafe-inline' to run)."""

    def __init__(self, *, script_nonce: str | None, style_nonce: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.script_nonce, self.style_nonce = script_nonce, style_nonce
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> (event handler)")
            elif name == "style":
                self.found.append(f"<{tag} style=…>")
            elif name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")
        if tag == "script":
            src = values.get("src")
            if src is None and (not self.script_nonce or values.get("nonce") != self.script_nonce):
                self.found.append("inline <script> without the response's nonce")
            elif src is not None and not _same_site(src):
                self.found.append(f"<script src={src}> from elsewhere")
        if tag == "style" and (not values.get("nonce") or values["nonce"] != self.style_nonce):
            self.found.append("<style> without the response's nonce")
        if (
            tag == "link"
            and "stylesheet" in (values.get("rel") or "")
            and not _same_site(values.get("href") or "")
        ):
            self.found.append(f"<link stylesheet {values.get('href')}> from elsewhere")


def _violations(response) -> list[str]:
    policy = _policy(response)
    _assert_strict(policy)
    finder = _InlineFinder(
        script_nonce=_nonce(policy["script-src"]), style_nonce=_nonce(policy["style-src"])
    )
    finder.feed(response.content.decode())
    return finder.found


# --- The templates' source ----------------------------------------------------------------

_COMMENTS = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)
_TAG = re.compile(r"<[a-zA-Z][^>]*>", re.DOTALL)
_PATTERNS = {
    "inline <script>": re.compile(r"^<script\b(?![^>]*\bsrc=)", re.IGNORECASE),
    "<style> without a nonce": re.compile(r"^<style\b(?![^>]*\bnonce=)", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "hx-on attribute (script from an attribute)": re.compile(r"\shx-on", re.IGNORECASE),
}


def _templates() -> list[Path]:
    found: list[Path] = []
    for config in apps.get_app_configs():
        if config.name.startswith("kokuho."):
            found += sorted((Path(config.path) / "templates").rglob("*.html"))
    return found


TEMPLATES = _templates()


def test_there_are_templates_to_check():
    assert len(TEMPLATES) >= 50


@pytest.mark.parametrize("path", TEMPLATES, ids=[f"{p.parent.name}/{p.name}" for p in TEMPLATES])
def test_no_template_has_inline_script_style_or_handlers(path):
    source = _COMMENTS.sub("", path.read_text(encoding="utf-8"))
    found = [
        f"{what}: {tag[:80]}"
        for tag in _TAG.findall(source)
        for what, pattern in _PATTERNS.items()
        if pattern.search(tag)
    ]
    assert found == []


def test_the_finder_sees_what_it_must():
    """The checker itself: each kind of inline code is caught, the nonced style is not."""
    html = (
        '<p style="color:red" onclick="x()"><a href="javascript:void(0)">a</a></p>'
        '<script>alert(1)</script><style>p{}</style><style nonce="n1">p{}</style>'
        '<script src="https://cdn.example/x.js"></script>'
    )
    finder = _InlineFinder(script_nonce=None, style_nonce="n1")
    finder.feed(html)
    assert len(finder.found) == 6, finder.found


# --- The pages as each role reaches them --------------------------------------------------

_LINK = re.compile(r'\s(href|hx-get)="([^"#]+)"')
_SKIP = ("/static/", "/logout/", "/api/")
PAGES_PER_ROLE = 120


@pytest.fixture
def city(tmp_path, settings):
    """A little of everything the main screens show: an insured household with a claim, an
    import waiting for the worker (its progress bar) and one finished, a queued 高額療養費 run."""
    from kokuho.benefits.kogaku.run import kogaku_run_create
    from kokuho.interfaces.jobs import import_job_execute, import_job_submit
    from kokuho.interfaces.models import ImportKind
    from kokuho.interfaces.tests.support import change
    from kokuho.interfaces.tests.worker import upload

    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    person = make_insured(birth_date=date(1970, 1, 10))
    make_claim(
        person=person, service_month=date(2026, 7, 1), setting=1, points=100000, copay=300000
    )
    clerk = make_staff(role=Role.ELIGIBILITY)
    rows = [
        change("1", "A01", "2026-04-01", "901", "951"),
        change("2", "A01", "2026-02-30", "902", "952"),
    ]
    done = import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=upload(rows), actor=clerk)
    import_job_execute(job_id=done.pk)
    queued = import_job_submit(
        kind=ImportKind.RESIDENTS_CHANGES, upload=upload(rows[:1], name="b.csv"), actor=clerk
    )
    run = kogaku_run_create(month=date(2026, 7, 1), actor=None)
    return {"person": person, "queued_job": queued, "done_job": done, "run": run}


def _seeds(city) -> list[str]:
    person = city["person"]
    return [
        reverse("home"),
        reverse("search") + f"?kana={person.name_kana.split()[0]}",
        reverse("person_detail", args=[person.atena_no]),
        reverse("household_detail", args=[person.household.household_no]),
        reverse("imports"),
        reverse("import_job_detail", args=[city["queued_job"].pk]),
        reverse("import_job_detail", args=[city["done_job"].pk]),
        reverse("kogaku_run_detail", args=[city["run"].pk]),
    ]


def _crawl(client: Client, seeds: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Every page reachable from the seeds (same site, GET), up to PAGES_PER_ROLE; htmx
    fragments are asked for as htmx asks for them."""
    queue = deque((url, False) for url in seeds)
    seen: set[str] = set(seeds)
    checked: list[str] = []
    problems: dict[str, list[str]] = {}
    while queue and len(checked) < PAGES_PER_ROLE:
        url, fragment = queue.popleft()
        headers = {"HX-Request": "true"} if fragment else {}
        response = client.get(url, headers=headers)
        if response.status_code in (301, 302):
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            _assert_strict(_policy(response))  # a PDF or CSV carries the policy too
            continue
        checked.append(url)
        if found := _violations(response):
            problems[url] = found
        html = response.content.decode()
        for match in _LINK.finditer(html):
            link = match.group(2).replace("&amp;", "&")
            if not _same_site(link) or link.startswith(_SKIP) or link in seen:
                continue
            seen.add(link)
            queue.append((link, match.group(1) == "hx-get"))
    return checked, problems


@pytest.mark.django_db(databases=["default", "vault"])
@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_every_page_a_role_reaches_has_the_policy_and_no_inline_code(client, city, role):
    login_verified(client, make_staff(role=role))
    checked, problems = _crawl(client, _seeds(city))
    assert problems == {}
    assert reverse("home") in checked and len(checked) >= 3


@pytest.mark.django_db(databases=["default", "vault"])
def test_the_crawl_reaches_the_main_screens(client, city):
    """The crawl is worth something: for 資格担当 it reaches the pages with progress bars,
    the person and household, and more than the seeds."""
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    checked, problems = _crawl(client, _seeds(city))
    assert problems == {}
    person = city["person"]
    for url in [
        reverse("person_detail", args=[person.atena_no]),
        reverse("household_detail", args=[person.household.household_no]),
        reverse("import_job_detail", args=[city["queued_job"].pk]),
    ]:
        assert url in checked, url
    assert len(checked) > len(_seeds(city)) + 10


@pytest.mark.django_db
def test_the_pages_before_signing_in_have_the_policy_and_no_inline_code(client, settings):
    login = client.get(reverse("login"))
    assert login.status_code == 200 and _violations(login) == []
    locked = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        last = locked.post(reverse("login"), {"username": "nobody", "password": "wrong-1234"})
    assert last.status_code == 429 and _violations(last) == []


@pytest.mark.django_db
def test_the_mfa_enrollment_page_with_its_qr_code_has_no_inline_code(client):
    from kokuho.testing import TEST_PASSWORD

    clerk = make_staff(role=Role.ELIGIBILITY, mfa_device=False)
    client.post(reverse("login"), {"username": clerk.username, "password": TEST_PASSWORD})
    page = client.get(reverse("account_mfa_enroll"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert _violations(page) == []


@pytest.mark.django_db
def test_the_self_inspection_download_styles_itself_with_the_responses_nonce(client):
    from kokuho.audit.inspection import self_inspection_run

    auditor = make_staff(role=Role.AUDITOR)
    inspection = self_inspection_run(month=date(2026, 10, 1), actor=auditor)
    login_verified(client, auditor)
    response = client.get(reverse("inspection_report", args=[inspection.pk, "html"]))
    assert response.status_code == 200
    nonce = _nonce(_policy(response)["style-src"])
    assert nonce and f'<style nonce="{nonce}">' in response.content.decode()
    assert _violations(response) == []
    # A fresh nonce each time: one seen in a saved file opens nothing later.
    again = client.get(reverse("inspection_report", args=[inspection.pk, "html"]))
    assert _nonce(_policy(again)["style-src"]) != nonce
