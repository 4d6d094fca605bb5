"""A real browser (Debian chromium via Playwright) through the 一部負担金減免 counter: register
an application, see the computation against the 生活保護 standard, decide, and download the
証明書 as a PDF with its text. Fixtures as in test_browser.py."""

import io
import shutil
from datetime import date

import pytest
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.testing import TEST_PASSWORD, make_insured, make_staff

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Committed data, for the live server's threads. Serialized rollback puts back what
# migrations wrote (the audit chain's head) after each test's flush.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def page(monkeypatch):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (installs Debian chromium)")
    # The live server thread and Playwright's event loop share the process.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="ja-JP")
        yield context.new_page()
        browser.close()
        from django.db import connections

        connections.close_all()
    _drop_server_thread_connections()


def _drop_server_thread_connections() -> None:
    """The live server's request threads can leave a PostgreSQL session open, which blocks
    dropping the test database at the end of the run."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
        )


def test_benefits_staff_register_see_the_computation_decide_and_print(live_server, page):
    from kokuho.benefits.reduction.models import CopayReductionDecision

    head = make_insured(birth_date=date(1975, 6, 1), moved_in=date(2015, 4, 1))
    staff = make_staff(role=Role.BENEFITS, username="kyufu")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/home/")
    page.click("a.nav:has-text('一部負担金の減免')")
    page.wait_for_url("**/benefits/reductions/")
    page.click("#new-reduction")
    page.wait_for_url("**/benefits/reductions/new/")

    form = page.locator("#reduction-form")
    form.locator("#id_subject_atena_no").fill(head.atena_no)
    form.locator("#id_received_on").fill("R8.3.25")
    form.locator("#id_reason").select_option(label="失業")
    form.locator("#id_monthly_income").fill("１２０,０００")  # typed full-width with a comma
    form.locator("#id_savings").fill("100000")
    form.locator("#id_members").fill("1")
    form.locator("#id_requested_kind").select_option(label="減額")
    form.locator("#id_period_start").fill("R8.4")
    form.locator("#id_months").fill("3")
    form.locator("#register").click()
    page.wait_for_url("**/benefits/reductions/*/")

    # The computation, before anything is decided.
    figures = page.inner_text("#proposal-figures")
    assert "111,000円" in figures  # the standard of a household of one
    assert "120,000円" in figures and "108.11%" in figures
    assert "承認（減額（50%））" in figures
    assert "令和8年4月1日" in figures and "令和8年6月30日" in figures
    assert "以下のため減額" in page.inner_text("#proposal")
    assert page.inner_text("#no-decision") == "まだ決定していません。"

    page.locator("#decide-form #id_decided_on").fill("R8.3.30")
    questions: list[str] = []  # a decision asks first: the clerk agrees
    page.once("dialog", lambda d: (questions.append(d.message), d.accept()))
    page.locator("#decide").click()
    page.locator("#decide-form").wait_for(state="detached")
    assert questions and "取り消せません" in questions[0]
    decision = CopayReductionDecision.objects.get()
    card = page.inner_text(f"#decision-{decision.pk}")
    assert "承認: 減額（50%）" in card and decision.certificate_no in card
    assert "令和8年3月30日" in card

    # The 証明書 link serves a PDF whose text names the certificate and the period.
    href = page.get_attribute(f"#certificate-{decision.pk}", "href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body[:5] == b"%PDF-"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "一部負担金減額・免除・徴収猶予証明書" in text
    assert decision.certificate_no in text
    assert "減額（一部負担金の50%を減額）" in text
    assert "令和8年4月1日から令和8年6月30日まで" in text
    assert head.atena_no not in text
