"""A real browser (Debian chromium via Playwright) at the counter: log in, search, open."""

import shutil
from datetime import date

import pytest

from kokuho.accounts.permissions import Role
from kokuho.testing import TEST_PASSWORD, make_household, make_person, make_staff

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(monkeypatch):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (installs Debian chromium)")
    # The live server thread and Playwright's event loop share the process; Django's
    # async-safety guard cannot tell that from real misuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="ja-JP")
        yield context.new_page()
        browser.close()
    _drop_server_thread_connections()


def _drop_server_thread_connections() -> None:
    """The live server's request threads can leave a PostgreSQL session open after the
    browser disconnects, which blocks dropping the test database at the end of the run."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
        )


def test_counter_staff_logs_in_searches_kana_and_opens_a_household(live_server, page):
    household = make_household(household_no="5000000001")
    make_person(
        name="佐藤 花子",
        kana="サトウ ハナコ",
        household=household,
        birth_date=date(1972, 3, 3),
        atena_no="1000000001",
    )
    make_person(
        name="佐藤 健太",
        kana="サトウ ケンタ",
        household=household,
        relation="子",
        birth_date=date(2005, 8, 20),
        atena_no="1000000002",
    )
    make_person(name="斎藤 進", kana="サイトウ ススム", atena_no="1000000003")
    staff = make_staff(role=Role.COUNTER, username="madoguchi")

    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.fill("#id_kana", "ｻﾄｳ")  # half-width, as typed on many counter keyboards
    page.click("form.search button[type=submit]")
    results = page.locator("#results table.list tbody tr")
    results.first.wait_for()
    assert results.count() == 2
    assert "斎藤" not in page.inner_text("#results")

    page.click("text=5000000001 >> nth=0")
    page.wait_for_url("**/households/5000000001/**")
    members = page.inner_text("#members")
    assert members.index("佐藤 花子") < members.index("佐藤 健太")
    assert "昭和47年3月3日（1972-03-03）" in members
