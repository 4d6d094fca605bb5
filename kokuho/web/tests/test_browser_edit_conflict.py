"""Two clerks in two browsers (two Playwright contexts, Debian chromium) on one 連携の作業項目
and one 給付の申請: both open it, both type, the first saves, the second saves and sees the
conflict with what changed, who and when, their own text still in the form — and the first
clerk's resolution is what the record holds. Fixtures as in test_browser.py."""

import shutil
from datetime import date

import pytest
from django.utils import timezone

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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser(monkeypatch):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (installs Debian chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
        from django.db import connections

        connections.close_all()
    _drop_server_thread_connections()


def _drop_server_thread_connections() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
        )


def _clerk_page(browser, live_server, *, role: Role, username: str, full_name: str):
    """A clerk of their own (their own context: cookies, session) logged in with the
    password and, for a role that needs it, the second factor."""
    from kokuho.testing import totp_code

    staff = make_staff(role=role, username=username)
    staff.staff_profile.full_name = full_name
    staff.staff_profile.save(update_fields=["full_name"])
    page = browser.new_context(locale="ja-JP").new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/account/mfa/" in page.url:
        page.fill("#id_token", totp_code(staff))
        page.click("#mfa button[type=submit]")
    page.wait_for_url(f"{live_server.url}/home/")
    return page


def test_two_clerks_resolve_one_work_item_and_the_second_sees_what_changed(live_server, browser):
    from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind

    person = make_insured(birth_date=date(1980, 1, 1), moved_in=date(2015, 4, 1))
    item = NationalWorkItem.objects.create(
        feed=Feed.SHUYAKU_PERSON, kind=WorkItemKind.CHARSET, key="K-1", message="外字",
        created_at=timezone.now(), person=person,
    )  # fmt: skip
    yamada = _clerk_page(
        browser, live_server, role=Role.ELIGIBILITY, username="yamada", full_name="山田 太郎"
    )
    suzuki = _clerk_page(
        browser, live_server, role=Role.ELIGIBILITY, username="suzuki", full_name="鈴木 一郎"
    )
    url = f"{live_server.url}/national/work-items/{item.pk}/"
    for page in (yamada, suzuki):
        page.goto(url)
        page.on("dialog", lambda d: d.accept())  # the form asks before it resolves
    yamada.fill("#confirm-form textarea", "表記を修正して再送")
    suzuki.fill("#confirm-form textarea", "送信しないことにした")

    yamada.click("#confirm-form button[type=submit]")
    yamada.wait_for_url("**/national/work-items/?kind=charset")
    suzuki.click("#confirm-form button[type=submit]")
    suzuki.locator("#item-errors").wait_for()

    message = suzuki.inner_text("#item-errors")
    assert "山田 太郎 さんが更新しました。" in message
    assert "変更点: 状態 未解決 → 解決済み、解決の内容 （なし） → 表記を修正して再送。" in message
    assert "内容を確認してから、もう一度保存してください。" in message
    assert "表記を修正して再送" in suzuki.inner_text("#resolved")  # the record as it is now
    assert "送信しないことにした" in suzuki.inner_text("#unsaved")  # his text, not dropped
    item.refresh_from_db()
    assert (item.resolution, item.resolved_by.username, item.version) == (
        "表記を修正して再送",
        "yamada",
        2,
    )


def test_two_clerks_decide_one_reduction_and_the_second_keeps_the_first_decision(
    live_server, browser
):
    from kokuho.benefits.reduction.models import CopayReductionDecision
    from kokuho.benefits.reduction.services import copay_reduction_register

    head = make_insured(birth_date=date(1975, 6, 1), moved_in=date(2015, 4, 1))
    application = copay_reduction_register(
        subject=head, applicant=head, received_on=date(2026, 3, 25), reason="unemployment",
        monthly_income=100_000, savings=100_000, members=1, requested_kind="exemption",
        period_start=date(2026, 4, 1), actor=make_staff(),
    )  # fmt: skip
    yamada = _clerk_page(
        browser, live_server, role=Role.BENEFITS, username="yamada", full_name="山田 太郎"
    )
    suzuki = _clerk_page(
        browser, live_server, role=Role.BENEFITS, username="suzuki", full_name="鈴木 一郎"
    )
    url = f"{live_server.url}/benefits/reductions/{application.pk}/"
    for page in (yamada, suzuki):
        page.goto(url)
        page.on("dialog", lambda d: d.accept())
    yamada.locator("#decide-form #id_decided_on").fill("R8.3.30")
    suzuki.locator("#decide-form #id_decided_on").fill("R8.3.31")

    yamada.locator("#decide").click()
    yamada.locator("#decide-form").wait_for(state="detached")
    suzuki.locator("#decide").click()
    suzuki.locator("#decide-error").wait_for()

    message = suzuki.inner_text("#decide-error")
    assert "山田 太郎 さんが更新しました。" in message
    assert "決定区分 審査中 → 免除 令和8年4月1日〜令和8年6月30日" in message
    decision = CopayReductionDecision.objects.get()
    assert (decision.decided_on, decision.decided_by.username) == (date(2026, 3, 30), "yamada")
    assert "令和8年3月30日" in suzuki.inner_text(f"#decision-{decision.pk}")
