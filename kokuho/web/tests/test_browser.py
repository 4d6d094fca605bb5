"""A real browser (Debian chromium via Playwright) at the counter: log in, search, open;
log in with the second factor, upload a file and watch the background import finish."""

import contextlib
import shutil
import threading
from collections.abc import Iterator
from datetime import date

import pytest

from kokuho.accounts.permissions import Role
from kokuho.interfaces.tests.support import CHANGES_HEADER, change, csv_text
from kokuho.testing import TEST_PASSWORD, make_household, make_person, make_staff, totp_code

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Committed data, for the live server's threads (and the import worker's). Serialized
# rollback puts back what migrations wrote (the audit chain's head) after each test's flush.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
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
        # While Playwright's event loop is running, asgiref gives this thread's code its own
        # database connections (it looks like async code): close the ones the test opened,
        # or the next browser test would reuse one that the clean-up below has terminated.
        from django.db import connections

        connections.close_all()
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


def _login_with_password(live_server, page, staff) -> None:
    """Password only (a role without a second factor), to the home page."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/home/")


def _login_with_second_factor(live_server, page, staff) -> None:
    """Password, then the TOTP code as the authenticator app shows it, to the home page."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/account/mfa/**")
    page.fill("#id_token", totp_code(staff))
    page.click("#mfa button[type=submit]")
    page.wait_for_url(f"{live_server.url}/home/")


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


@contextlib.contextmanager
def _import_worker(live_server) -> Iterator[None]:
    """django-tasks-db's worker loop (the one `kokuho db_worker` runs) in a thread of this
    process, for as long as the block lasts.

    A thread rather than a `kokuho db_worker` process because it works on both databases:
    SQLite's test database lives in memory and no other process can open it. There the live
    server hands one connection to all its request threads; the worker uses that one too,
    and a lock keeps the worker and the server's requests from interleaving their
    transactions on it (Django keeps transaction state per connection, not per thread).
    On PostgreSQL each thread has its own connection to the committed data and needs no lock.
    """
    from django.db import connections
    from django_tasks_db.management.commands.db_worker import Worker

    # The in-memory SQLite connections the live server shares with its request threads.
    shared = dict(live_server.thread.connections_override)
    lock = threading.Lock()
    httpd = live_server.thread.httpd
    app = httpd.get_app()

    def one_at_a_time(environ, start_response):
        with lock:
            return app(environ, start_response)

    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        for alias, connection in shared.items():
            connections[alias] = connection
        try:
            while not stop.is_set():
                with lock:
                    Worker(
                        queue_names=["default"],
                        interval=0,
                        batch=True,  # until the queue is empty; then look again shortly
                        backend_name="default",
                        startup_delay=False,
                        max_tasks=None,
                        worker_id="browser-test",
                        excluded_queue_names=[],
                    ).run()
                stop.wait(0.2)
        except BaseException as error:
            failures.append(error)
        finally:
            if not shared:
                connections.close_all()

    if shared:
        httpd.set_app(one_at_a_time)
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread = threading.Thread(target=run, name="import-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
        for connection in shared.values():
            connection.dec_thread_sharing()
        httpd.set_app(app)
    assert not thread.is_alive(), "the import worker did not stop"
    assert not failures, failures


def test_eligibility_staff_uploads_a_file_and_sees_the_import_finish(
    live_server, page, tmp_path, settings
):
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("2", "A01", "2026-04-01", "102", "502"),
        change("3", "A01", "2026-02-30", "103", "503"),  # no such day: held
    ]
    csv_file = tmp_path / "ido-202604.csv"
    csv_file.write_text(csv_text(rows, CHANGES_HEADER), encoding="utf-8")
    staff = make_staff(role=Role.ELIGIBILITY, username="shikaku")

    # 資格担当 may reveal My Numbers: the second factor, typed as from the authenticator app.
    _login_with_second_factor(live_server, page, staff)

    page.click("header >> text=取込")
    page.wait_for_url("**/imports/")
    page.select_option("#id_kind", label="住基異動")
    page.set_input_files("#id_file", str(csv_file))
    page.click("#upload button[type=submit]")
    page.wait_for_url("**/imports/*/")
    assert page.inner_text("#job-status") == "待機中"

    # The page was drawn before any worker ran: only its polling can bring the result.
    with _import_worker(live_server):
        page.locator("#job-status", has_text="完了").wait_for(timeout=30_000)

    assert page.inner_text("#job-count") == "3 / 3 件"
    progress = page.locator("#job-progress")
    assert (progress.get_attribute("value"), progress.get_attribute("max")) == ("3", "3")
    summary = page.inner_text("#job-summary")
    for label, count in [("読込", 3), ("反映", 2), ("保留", 1)]:
        assert f"{label}\n{count} 件" in summary or f"{label}\t{count} 件" in summary
    assert "日付の誤り（change_date）" in page.inner_text("#job-reasons")
    page.click("text=保留行を確認・修正する")
    page.wait_for_url("**/imports/quarantine/")
    assert "ido-202604.csv" in page.inner_text("#quarantine")


def test_the_supervisor_signs_off_the_months_self_inspection(live_server, page):
    from kokuho.audit.inspection import ChecklistItem, self_inspection_run
    from kokuho.audit.models import SelfInspection

    auditor = make_staff(role=Role.AUDITOR, username="kansa")
    inspection = self_inspection_run(month=date(2026, 10, 1), actor=auditor)
    chief = make_staff(role=Role.SUPERVISOR, username="shozokucho")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", chief.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.click("a.nav:has-text('自己点検の確認')")
    page.click(f"a[href$='/inspections/review/{inspection.pk}/']")
    form = page.locator("#sign-off-form")
    form.wait_for()
    questions: list[str] = []  # the sign-off asks first (it cannot be undone): the chief agrees
    page.on("dialog", lambda d: (questions.append(d.message), d.accept()))
    items = list(ChecklistItem)
    for item in items[:-1]:
        form.locator(f"input[name='{item.value}__answer'][value='ok']").check()
    form.locator(f"input[name='{items[-1].value}__answer'][value='action']").check()
    form.locator("button[type=submit]").click()
    # 要対応 without its note is refused on the page, nothing is signed.
    page.locator("#sign-off-form").wait_for()
    assert "要対応" in page.inner_text("#sign-off-form")
    assert SelfInspection.objects.get(pk=inspection.pk).signed_at is None

    form = page.locator("#sign-off-form")
    form.locator(f"input[name='{items[-1].value}__note']").fill(
        "ログイン失敗の原因を本人に確認する"
    )
    form.locator("button[type=submit]").click()
    page.locator("#sign-off-form").wait_for(state="detached")
    assert questions and all("取り消せません" in q for q in questions)
    signed = SelfInspection.objects.get(pk=inspection.pk)
    assert signed.signed_by_id == chief.pk
    assert signed.checklist[items[-1].value]["answer"] == "action"


def test_benefits_staff_register_an_application_and_decide_it(live_server, page):
    from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
    from kokuho.testing import make_claim, make_insured

    july = date(2026, 7, 1)
    insured = make_insured(birth_date=date(1970, 1, 10))
    make_claim(person=insured, service_month=july, setting=1, points=100000, copay=300000)
    run = kogaku_run_execute(run_id=kogaku_run_create(month=july, actor=None).pk)
    household_no = insured.household.household_no
    staff = make_staff(role=Role.BENEFITS, username="kyufu")

    _login_with_password(live_server, page, staff)
    page.click("a.nav:has-text('高額療養費')")
    page.wait_for_url("**/kogaku/")
    page.click(f"#runs a[href$='/kogaku/runs/{run.pk}/']")
    page.wait_for_url(f"**/kogaku/runs/{run.pk}/")
    assert "勧奨済" in page.inner_text("#households")
    page.click(f"#households >> text={household_no}")
    page.wait_for_url("**/kogaku/results/*/")
    assert "世帯全体の合算" in page.inner_text("#steps")

    form = page.locator("#application-form")
    assert form.locator("#id_applicant").input_value() == str(insured.pk)  # the head
    form.locator("#id_received_on").fill("R8.9.1")
    form.locator("#id_bank_code").fill("0001")
    form.locator("#id_branch_code").fill("001")
    form.locator("#id_account_number").fill("1234567")
    form.locator("#id_holder_kana").fill("キュウフ タロウ")
    form.locator("button[type=submit]").click()
    page.locator("#decide-form").wait_for()
    assert "申請受付" in page.inner_text("#status")

    page.locator("#decide-form #id_decided_on").fill("R8.9.5")
    questions: list[str] = []  # a decision asks first: the clerk agrees
    page.once("dialog", lambda d: (questions.append(d.message), d.accept()))
    page.locator("#decide-form button[type=submit]").click()
    page.locator("#decide-form").wait_for(state="detached")
    assert questions and "決定は取り消せません" in questions[0]
    decision = page.inner_text("#decision")
    assert "45,820 円" in decision and "令和8年9月5日" in decision
    assert page.inner_text("#status") == "決定済"


def test_eligibility_staff_issue_a_card_at_the_counter_and_print_it(live_server, page):
    from kokuho.certificates.models import DocumentStatus, IssuedDocument
    from kokuho.testing import make_insured

    person = make_insured(birth_date=date(1980, 5, 10))
    staff = make_staff(role=Role.ELIGIBILITY, username="shikaku")

    _login_with_second_factor(live_server, page, staff)

    page.goto(f"{live_server.url}/people/{person.atena_no}/")
    page.click("#documents-link")
    page.wait_for_url(f"**/people/{person.atena_no}/documents/")
    assert "登録状況の連絡がありません" in page.inner_text("#myna-status")
    form = page.locator("#issue-form")
    form.locator("#id_reason").select_option("new")
    form.locator("#id_delivery").select_option("counter")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/people/{person.atena_no}/documents/")
    document = IssuedDocument.objects.get(person=person)
    assert document.status == DocumentStatus.VALID
    row = page.inner_text("#documents")
    assert document.serial in row and "資格確認書" in row and "窓口交付" in row
    # The print link serves the recorded document as a PDF.
    response = page.request.get(f"{live_server.url}/documents/{document.serial}/pdf/")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"

    # A second 新規 is refused on the page with the reason; nothing is issued.
    form = page.locator("#issue-form")
    form.locator("#id_reason").select_option("new")
    form.locator("button[type=submit]").click()
    page.locator("#issue-error").wait_for()
    assert "再交付か記載事項変更" in page.inner_text("#issue-error")
    assert IssuedDocument.objects.filter(person=person).count() == 1


def test_the_counter_reaches_a_residents_kogaku_decision_and_payment_in_three_clicks(
    live_server, page
):
    """From the search box on the home page to the person's 高額療養費 decision and its
    payment: submit the search (1), open the person (2), open 給付 (3)."""
    from kokuho.eligibility.models import BranchNumber
    from kokuho.retention.tests.benefit_builders import account, kogaku_chain, payment_due
    from kokuho.testing import make_insured

    insured = make_insured(birth_date=date(1970, 1, 10))
    other = make_insured(birth_date=date(1975, 2, 2))
    kyufu = make_staff(role=Role.BENEFITS, username="kyufu-hub")
    kogaku_chain(person=insured, staff=kyufu, month=date(2026, 5, 1), decided=[date(2026, 8, 3)])
    kept = account(insured, recorded=date(2026, 8, 1))
    payment_due(person=insured, account=kept, decided=date(2026, 8, 3), amount=50000)
    branch = BranchNumber.objects.select_related("household_number").get(person=insured)
    staff = make_staff(role=Role.COUNTER, username="madoguchi-hub")

    _login_with_password(live_server, page, staff)
    page.fill("#quick-q", f"{branch.household_number.symbol}-{branch.household_number.number}")
    page.click("#quick-search button[type=submit]")  # 1
    page.locator("#results table.list tbody tr").first.wait_for()
    assert other.atena_no not in page.inner_text("#results")
    page.click(f"#results a:has-text('{insured.atena_no}')")  # 2
    page.wait_for_url(f"**/people/{insured.atena_no}/**")
    page.click("#benefits-link")  # 3
    page.locator("#benefits").wait_for()
    months = page.inner_text("#kogaku-months")
    assert "令和8年5月" in months and "50,000 円" in months and "支給" in months
    assert "50,000 円" in page.inner_text("#payments") and "支払待ち" in page.inner_text(
        "#payments"
    )
    assert "保険給付の支給" in page.inner_text("p.purpose")


def test_a_clerk_takes_ticked_items_of_a_queue_in_the_browser(live_server, page):
    """The bulk bar as a browser submits it: the list's tick boxes join the bar's form by
    `form=` (連携の作業項目), or the list's own form posts to the queue by `formaction`
    (未照合レセプト, whose boxes also serve 再照合)."""
    from django.utils import timezone

    from kokuho.benefits.models import ClaimMatch
    from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
    from kokuho.testing import make_claim
    from kokuho.workqueue.models import WorkAssignment

    for key in ("A-1", "A-2"):
        NationalWorkItem.objects.create(
            feed=Feed.ONSHI_HISTORY,
            kind=WorkItemKind.CHARSET,
            key=key,
            message=f"外字 {key}",
            created_at=timezone.now(),
        )
    first = NationalWorkItem.objects.get(key="A-1")
    staff = make_staff(role=Role.ELIGIBILITY, username="shikaku")
    _login_with_second_factor(live_server, page, staff)
    page.goto(f"{live_server.url}/national/work-items/")
    page.check(f"#item-{first.pk} input[type=checkbox]")
    page.select_option("#id_bulk_clerk", str(staff.pk))
    page.click("#bulk-assign")
    page.wait_for_selector(".messages >> text=1 件を")
    assert page.inner_text(f"#item-{first.pk} .assignee") == "試験 職員"
    assert list(WorkAssignment.objects.values_list("item_id", flat=True)) == [first.pk]
    page.select_option("#id_queue_assignee", "none")
    page.click("#queue-filter button[type=submit]")
    page.wait_for_url("**assignee=none**")
    assert "外字 A-2" in page.inner_text("#items") and "外字 A-1" not in page.inner_text("#items")

    claim = make_claim(
        service_month=date(2026, 10, 1), claim_id="B1", match=ClaimMatch.UNKNOWN_NUMBER
    )
    benefits = make_staff(role=Role.BENEFITS, username="kyufu")
    page.context.clear_cookies()
    _login_with_password(live_server, page, benefits)
    page.goto(f"{live_server.url}/claims/unmatched/")
    page.check(f"#claim-{claim.pk} input[name=claim]")
    page.select_option("#id_bulk_clerk", str(benefits.pk))
    page.click("#bulk-assign")
    page.wait_for_selector(".messages >> text=1 件を")
    assert page.inner_text(f"#claim-{claim.pk} .assignee") == "試験 職員"
    assert WorkAssignment.objects.filter(queue="claims_unmatched", item_id=claim.pk).exists()


def test_an_irreversible_action_asks_first_and_a_no_sends_nothing(live_server, page):
    """破棄 of a held row: the browser asks (in Japanese); dismissed, the row stays open;
    accepted, it is discarded."""
    from django.utils import timezone

    from kokuho.interfaces.models import (
        ImportFile,
        ImportKind,
        QuarantinedRow,
        QuarantineStatus,
    )

    kind = ImportKind.RESIDENTS_CHANGES
    file = ImportFile.objects.create(
        kind=kind, file_name="idou.csv", sha256="0" * 64, started_at=timezone.now()
    )
    row = QuarantinedRow.objects.create(
        file=file,
        kind=kind,
        line=2,
        field="birth_date",
        value="x",
        code="invalid_date",
        reason="日付として読めません",
        raw={"birth_date": "x"},
        row_sha256="1" * 64,
    )
    _login_with_second_factor(live_server, page, make_staff(role=Role.ELIGIBILITY))
    page.goto(f"{live_server.url}/imports/quarantine/{row.pk}/")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.click("button[value=discard]")
    page.wait_for_timeout(300)
    assert asked and "破棄" in asked[0] and "よろしいですか" in asked[0]
    row.refresh_from_db()
    assert row.status == QuarantineStatus.OPEN
    page.once("dialog", lambda d: answer(d, True))
    page.click("button[value=discard]")
    page.wait_for_url(f"{live_server.url}/imports/quarantine/")
    row.refresh_from_db()
    assert row.status != QuarantineStatus.OPEN and len(asked) == 2
