"""A real browser (Debian chromium via Playwright) through one 資格喪失後受診 case: a late
社保加入 recorded, the case in the 給付担当's queue, the 返還金の納入通知 made and fetched as
a PDF, a 分割 agreed, the instalments received until the case closes by itself. The browser
fixture is test_browser_reduction.py's."""

import io
from datetime import date

import pytest
from django.utils import timezone
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.cases.models import InvestigationCase
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.testing import TEST_PASSWORD, make_claim, make_insured, make_staff
from kokuho.web.tests.test_browser_reduction import page  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _late_loss_case(*claims: tuple[int, int, int]) -> tuple[object, InvestigationCase]:
    """A resident with claims (month, points, copay) of 2026, then a 社保加入 of 2026-06-30
    reported in September: the case opens with the claims of July on."""
    person = make_insured(birth_date=date(1985, 2, 2))
    for month, points, copay in claims:
        make_claim(person=person, service_month=date(2026, month, 1), points=points, copay=copay)
    event_apply(
        ChangeEvent(ChangeType.EMPLOYEE_INSURANCE_JOIN, date(2026, 6, 30), date(2026, 9, 20),
                    person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )  # fmt: skip
    return person, InvestigationCase.objects.get()


def _login_benefits(page, live_server) -> None:  # noqa: F811
    staff = make_staff(role=Role.BENEFITS, username="kyufu")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/home/")


def test_a_refund_claim_is_made_printed_split_and_received_through_the_screens(
    live_server,
    page,  # noqa: F811
):
    person, case = _late_loss_case((7, 10000, 30000), (8, 2000, 6000))
    assert case.claimed_yen == 70000 + 14000
    _login_benefits(page, live_server)
    page.click("a.nav:has-text('調査・求償')")
    page.wait_for_url("**/cases/")
    row = page.inner_text(f"#case-{case.pk}")
    assert "資格喪失後受診" in row and "84,000 円" in row and person.atena_no in row
    page.click(f"#case-{case.pk} a:has-text('開く')")
    page.wait_for_url(f"**/cases/{case.pk}/")
    claims = page.inner_text("#claims")
    assert "70,000 円" in claims and "14,000 円" in claims

    page.locator("#refund-form #id_issued_on").fill("R8.10.1")
    page.locator("#refund-form #id_due_on").fill("令和8年10月31日")
    questions: list[str] = []  # the notice asks first: the clerk agrees
    page.once("dialog", lambda d: (questions.append(d.message), d.accept()))
    page.locator("#refund-form button").click()
    page.wait_for_selector("#notices")
    assert questions and "よろしいですか" in questions[0]
    assert "HS20261001-" in page.inner_text("#notices")
    href = page.get_attribute("#notices a", "href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert "返還金の納入について" in text and "84,000円" in text and "令和8年10月31日" in text

    page.locator("#instalments-form #id_count").fill("2")
    page.locator("#instalments-form #id_first_due").fill("R8.10.31")
    page.locator("#instalments-form button").click()
    page.wait_for_selector("#instalments")
    assert "42,000 円" in page.inner_text("#instalments")

    for day in ("R8.10.30", "R8.11.28"):
        page.locator("#receipt-form #id_amount").fill("42000")
        page.locator("#receipt-form #id_received_on").fill(day)
        page.locator("#receipt-form button").click()
        page.wait_for_load_state()
    assert "返還済み" in page.inner_text("#status")
    assert page.locator("#receipt-form").count() == 0  # closed: no actions left
    case.refresh_from_db()
    assert (case.status, case.recovered_yen) == ("closed", 84000)


def test_a_wrong_amount_is_refused_in_japanese_and_nothing_is_kept(live_server, page):  # noqa: F811
    _person, case = _late_loss_case((7, 1000, 3000))
    _login_benefits(page, live_server)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.locator("#receipt-form #id_amount").fill("8000")
    page.locator("#receipt-form #id_received_on").fill("R8.10.30")
    page.locator("#receipt-form button").click()
    page.wait_for_selector("#receipt-form .errorlist")
    assert "未収額 7,000円を超えています" in page.inner_text("#receipt-form")
    case.refresh_from_db()
    assert case.recovered_yen == 0
