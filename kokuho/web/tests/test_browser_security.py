"""Web security in a real browser (Debian chromium via Playwright): the Content-Security-
Policy blocks nothing the screens need — no violation on the key pages, htmx's polling and
fragments included — and the login lock holds against the right password."""

from datetime import date

import pytest

from kokuho.accounts.permissions import Role
from kokuho.interfaces.tests.support import CHANGES_HEADER, change, csv_text
from kokuho.testing import TEST_PASSWORD, make_household, make_person, make_staff
from kokuho.web.tests import test_browser as shared

# The shared browser set-up: Debian chromium, and the server threads' connections dropped.
page = shared.page
_import_worker = shared._import_worker
_login_with_password = shared._login_with_password
_login_with_second_factor = shared._login_with_second_factor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Runs before any page script, outside the page's policy (Playwright injects it).
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI || "inline"}`);
});
"""


class _Violations:
    """What the browser refused under the policy: its console messages and the DOM events."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(_RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def seen(self) -> list[str]:
        events = self.page.evaluate("window.__cspViolations || []")
        return self.console + [f"event: {e}" for e in events]


def _wait_for_htmx(page) -> None:
    """htmx has run its start-up (a style it injected would have been refused by now)."""
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    page.wait_for_timeout(200)


def test_the_recorder_sees_a_violation(live_server, page):
    """The control: an inline style put into a page is refused and recorded."""
    violations = _Violations(page)
    page.goto(f"{live_server.url}/login/")
    _wait_for_htmx(page)
    assert violations.seen() == []
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    page.wait_for_timeout(300)
    assert any("style-src" in v for v in violations.seen()), violations.seen()


# The person page asks the vault for the My Number panel.
@pytest.mark.django_db(databases=["default", "vault"], transaction=True, serialized_rollback=True)
def test_no_violation_at_the_counter_search_person_and_household(live_server, page):
    household = make_household(household_no="5000000101")
    make_person(
        name="佐藤 花子",
        kana="サトウ ハナコ",
        household=household,
        birth_date=date(1972, 3, 3),
        atena_no="1000000101",
    )
    staff = make_staff(role=Role.COUNTER, username="madoguchi-csp")
    violations = _Violations(page)

    _login_with_password(live_server, page, staff)
    _wait_for_htmx(page)
    page.goto(f"{live_server.url}/")
    page.fill("#id_kana", "ｻﾄｳ")
    page.click("form.search button[type=submit]")
    page.locator("#results table.list tbody tr").first.wait_for()
    page.click("#results a:has-text('1000000101')")
    page.wait_for_url("**/people/1000000101/**")
    _wait_for_htmx(page)
    # The My Number panel comes in as an htmx fragment (hx-trigger="load").
    page.wait_for_function("!document.body.innerText.includes('個人番号を確認しています')")
    page.goto(f"{live_server.url}/households/5000000101/")
    _wait_for_htmx(page)
    assert violations.seen() == []


def test_no_violation_on_the_import_screen_while_the_job_progresses(
    live_server, page, tmp_path, settings
):
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    rows = [change(str(i), "A01", "2026-04-01", f"{700 + i}", f"{800 + i}") for i in range(1, 4)]
    csv_file = tmp_path / "ido-csp.csv"
    csv_file.write_text(csv_text(rows, CHANGES_HEADER), encoding="utf-8")
    staff = make_staff(role=Role.ELIGIBILITY, username="shikaku-csp")
    violations = _Violations(page)

    _login_with_second_factor(live_server, page, staff)
    page.click("header >> text=取込")
    page.wait_for_url("**/imports/")
    _wait_for_htmx(page)
    page.select_option("#id_kind", label="住基異動")
    page.set_input_files("#id_file", str(csv_file))
    page.click("#upload button[type=submit]")
    page.wait_for_url("**/imports/*/")
    # The progress bar, drawn with a class (a style attribute would be refused), and polled.
    rem = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    height = f"e => Math.abs(e.getBoundingClientRect().height - 1.4 * {rem}) < 0.5"
    assert page.locator("#job-progress").evaluate(height)
    with _import_worker(live_server):
        page.locator("#job-status", has_text="完了").wait_for(timeout=30_000)
    assert page.locator("#job-progress").get_attribute("value") == "3"
    assert violations.seen() == []


def test_the_login_lock_shows_its_page_and_refuses_the_right_password(live_server, page, settings):
    staff = make_staff(role=Role.COUNTER, username="locked-out")
    violations = _Violations(page)
    limit = settings.AXES_FAILURE_LIMIT

    page.goto(f"{live_server.url}/login/")
    for attempt in range(1, limit + 1):
        page.fill("#id_username", staff.username)
        page.fill("#id_password", f"wrong-password-{attempt}")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if attempt < limit:
            assert "ユーザー名またはパスワードが正しくない" in page.inner_text("main")
            assert page.locator("#locked").count() == 0
    locked = page.locator("#locked")
    locked.wait_for()
    assert "ログインを一時停止しています" in page.inner_text("h1")
    assert f"{limit}回続けて失敗" in locked.inner_text()
    assert "30分後にもう一度お試しください" in locked.inner_text()

    # The right password while the lock lasts: the same page, and no session.
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.locator("#locked").wait_for()
    assert "/home/" not in page.url
    page.goto(f"{live_server.url}/home/")
    assert "/login/" in page.url
    assert violations.seen() == []
