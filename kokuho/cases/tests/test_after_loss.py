"""資格喪失後受診: a loss recorded late opens the case with exactly the claims we paid for the
months after it and what each cost us; the case is then claimed back (返還請求, 分割, 収納)
or settled between insurers (保険者間調整), and a loss corrected back withdraws the claims.

a is insured from 2020; in September the city learns that a joined an employer's insurance
on 2026-06-20 (社保加入, reported late). May and June are ours (June partly: the claims file
has no days, decisions.md); July and August were paid on a belief now known wrong."""

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.models import Claim, KogakuRecomputeRequest
from kokuho.cases.after_loss import after_loss_detect
from kokuho.cases.models import (
    CaseKind,
    CaseOutcome,
    CaseStatus,
    InvestigationCase,
    RecoveryMethod,
    StepKind,
)
from kokuho.cases.selectors import case_claims, case_row
from kokuho.cases.services import (
    CaseError,
    adjustment_consent_record,
    case_close,
    case_shown,
    instalments_agree,
    receipt_record,
    refund_claim_issue,
)
from kokuho.core.concurrency import EditSeen, StaleEdit
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JOINED = dt.date(2026, 6, 20)
REPORTED = dt.date(2026, 9, 15)


def _month(m: int) -> dt.date:
    return dt.date(2026, m, 1)


def _late(kind: ChangeType, person, day: dt.date) -> None:
    event_apply(
        ChangeEvent(kind, day, REPORTED, person.atena_no), recorded_at=timezone.now(), actor=None
    )


@pytest.fixture(autouse=True)
def _documents_dir(settings, tmp_path):
    settings.KOKUHO_DOCUMENT_DIR = tmp_path / "documents"


@pytest.fixture
def paid():
    """a's claims of May–August, recorded (and paid) while a was believed insured; b's July
    claim (b stays insured)."""
    a = make_insured(birth_date=dt.date(1980, 4, 4))
    b = make_insured(birth_date=dt.date(1975, 1, 1))
    claims = {
        "may": make_claim(person=a, service_month=_month(5), points=2000, copay=6000),
        "june": make_claim(person=a, service_month=_month(6), points=1500, copay=4500),
        "july": make_claim(person=a, service_month=_month(7), points=12345, copay=37040),
        "july_pharmacy": make_claim(
            person=a, service_month=_month(7), kind=4, prescribed_by="3810000001", points=800,
            copay=2400,
        ),
        "august": make_claim(person=a, service_month=_month(8), points=3000, copay=9000),
        "b_july": make_claim(person=b, service_month=_month(7), points=1000, copay=3000),
    }  # fmt: skip
    return a, b, claims


def test_a_late_loss_opens_the_case_with_exactly_the_claims_paid_after_it(paid):
    a, _b, claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    case = InvestigationCase.objects.get()
    assert (case.kind, case.status, case.person_id) == (CaseKind.AFTER_LOSS, "open", a.pk)
    assert case.household_id == a.household_id
    rows = case_claims(case)
    assert [r["claim_id"] for r in rows] == [
        claims["july"].claim_id,
        claims["july_pharmacy"].claim_id,
        claims["august"].claim_id,
    ]
    # 保険者負担 = 総点数 × 10円 − 一部負担金, per claim.
    assert [r["insurer_share_yen"] for r in rows] == [123450 - 37040, 8000 - 2400, 30000 - 9000]
    assert case.claimed_yen == 86410 + 5600 + 21000
    assert case.recovered_yen == 0
    assert case.arose_on == timezone.localdate()
    assert [s.kind for s in case.steps.all()] == [StepKind.OPENED, StepKind.CLAIMS_ADDED]
    assert "診療月 2026-07・2026-08" in case.steps.last().note
    assert AuditEvent.objects.filter(event_type=EventType.CASE_OPENED).count() == 1
    # The claims left the matched list, and nothing of b's is touched.
    assert set(Claim.objects.filter(match="not_insured").values_list("pk", flat=True)) == {
        claims[k].pk for k in ("july", "july_pharmacy", "august")
    }
    assert not InvestigationCase.objects.filter(person=_b).exists()


def test_detection_again_finds_nothing_new(paid, capsys):
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    before = list(InvestigationCase.objects.values_list("pk", "claimed_yen", "version"))
    assert after_loss_detect().as_dict() == {"opened": 0, "added": 0, "withdrawn": 0}
    call_command("cases", "detect", "--date", "2026-10-01")
    assert "新しい案件 0件・追加したレセプト 0件" in capsys.readouterr().out
    assert list(InvestigationCase.objects.values_list("pk", "claimed_yen", "version")) == before


def test_a_claim_recorded_after_the_loss_was_known_was_never_paid(paid):
    """A claim that arrives once the loss is recorded is matched as 資格喪失後受診 at import
    and sent back (返戻): it cost us nothing, so it is not in the case."""
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    make_claim(person=a, service_month=_month(9), points=500, copay=1500, match="not_insured")
    assert after_loss_detect().added == 0
    assert InvestigationCase.objects.get().claims.count() == 3


def test_the_months_decided_are_noted_for_re_computation(paid):
    """The 高額療養費 of those months is decided again (返納 where due) by the month's
    re-computation: the loss notes the decided months (tested with the decisions in
    benefits/tests/test_kogaku_changes.py); here, a month with no decision is not noted."""
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    assert not KogakuRecomputeRequest.objects.exists()


def test_a_refund_claim_in_instalments_is_received_and_closes_itself(paid):
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    clerk = make_staff()
    case = InvestigationCase.objects.get()
    total = case.claimed_yen
    case = refund_claim_issue(
        case_id=case.pk,
        issued_on=dt.date(2026, 10, 1),
        due_on=dt.date(2026, 10, 31),
        actor=clerk,
        seen=EditSeen(case.version),
    )
    assert (case.status, case.method, case.due_on) == (
        CaseStatus.IN_PROGRESS,
        RecoveryMethod.REFUND_CLAIM,
        dt.date(2026, 10, 31),
    )
    schedule = instalments_agree(
        case_id=case.pk, count=3, first_due=dt.date(2026, 10, 31), actor=clerk
    )
    assert [d for d, _ in schedule] == [
        dt.date(2026, 10, 31),
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 31),
    ]
    assert sum(a for _, a in schedule) == total
    assert schedule[0][1] - schedule[1][1] == total % 3
    for due, amount in schedule:
        receipt_record(case_id=case.pk, amount_yen=amount, received_on=due, actor=clerk)
    case.refresh_from_db()
    assert (case.status, case.outcome, case.recovered_yen) == ("closed", "recovered", total)
    assert case.outstanding_yen == 0
    with pytest.raises(CaseError) as closed:
        receipt_record(case_id=case.pk, amount_yen=1, received_on=dt.date(2027, 1, 5), actor=clerk)
    assert closed.value.code == "case_closed"


def test_amounts_never_go_negative_nor_above_what_was_claimed(paid):
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    clerk = make_staff()
    case = InvestigationCase.objects.get()
    for amount, code in (
        (0, "bad_amount"),
        (-5, "bad_amount"),
        (case.claimed_yen + 1, "over_outstanding"),
    ):
        with pytest.raises(CaseError) as refused:
            receipt_record(case_id=case.pk, amount_yen=amount, received_on=REPORTED, actor=clerk)
        assert refused.value.code == code
    case.refresh_from_db()
    assert case.recovered_yen == 0


def test_a_stale_version_is_refused_with_what_happened(paid):
    """Two clerks on one case: the second save, on the page shown before the first one's
    収納, is refused with what changed and by whom — nothing of it is kept."""
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    clerk = make_staff()
    case = InvestigationCase.objects.get()
    shown = EditSeen(case.version, case_shown(case))
    receipt_record(case_id=case.pk, amount_yen=1000, received_on=REPORTED, actor=clerk)
    with pytest.raises(StaleEdit) as stale:
        refund_claim_issue(
            case_id=case.pk, issued_on=REPORTED, due_on=REPORTED, actor=clerk, seen=shown
        )
    assert "収納額 0円 → 1,000円" in stale.value.message
    case.refresh_from_db()
    assert case.method == "" and case.recovered_yen == 1000
    # A batch's change makes the page stale too: the claims withdrawn by a correction.
    shown = EditSeen(case.version)
    _late(ChangeType.EMPLOYEE_INSURANCE_LEAVE, a, dt.date(2026, 8, 1))
    with pytest.raises(StaleEdit):
        receipt_record(case_id=case.pk, amount_yen=1, received_on=REPORTED, actor=clerk, seen=shown)


def test_an_insurer_adjustment_with_consent_is_settled_by_the_new_insurer(paid):
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    clerk = make_staff()
    case = InvestigationCase.objects.get()
    with pytest.raises(CaseError):
        adjustment_consent_record(
            case_id=case.pk, new_insurer_no="12AB", consented_on=REPORTED, actor=clerk
        )
    case = adjustment_consent_record(
        case_id=case.pk, new_insurer_no="06123456", consented_on=REPORTED, actor=clerk
    )
    assert case.method == RecoveryMethod.INSURER_ADJUSTMENT
    assert case.detail["new_insurer_no"] == "06123456"
    with pytest.raises(CaseError) as switched:
        refund_claim_issue(case_id=case.pk, issued_on=REPORTED, due_on=REPORTED, actor=clerk)
    assert switched.value.code == "adjustment_consented"
    receipt_record(
        case_id=case.pk,
        amount_yen=case.claimed_yen,
        received_on=dt.date(2026, 12, 20),
        actor=clerk,
        note="国保連合会 保険者間調整分",
    )
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", CaseOutcome.ADJUSTED)


def test_a_loss_corrected_back_withdraws_the_claims_and_closes_the_case(paid):
    """The employer's insurance of June is found to have ended on 2026-06-30: a 社離 of
    2026-07-01 makes NHI insure a again from July (every claim is ours: the case has nothing
    left and closes 返還不要); then a new employer's insurance from 2026-07-31 is recorded
    (NHI lost from the day after, 法8条) — August is lost again, and its claim goes into a
    new case, counted once."""
    a, _b, claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    first = InvestigationCase.objects.get()
    _late(ChangeType.EMPLOYEE_INSURANCE_LEAVE, a, dt.date(2026, 7, 1))
    first.refresh_from_db()
    assert {r["claim_id"]: r["withdrawn"] for r in case_claims(first)} == {
        claims[k].claim_id: True for k in ("july", "july_pharmacy", "august")
    }
    assert (first.status, first.outcome, first.claimed_yen) == ("closed", "not_due", 0)
    assert first.steps.filter(kind=StepKind.CLAIMS_WITHDRAWN).count() == 1
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, dt.date(2026, 7, 31))
    second = InvestigationCase.objects.exclude(pk=first.pk).get()
    assert [r["claim_id"] for r in case_claims(second)] == [claims["august"].claim_id]
    assert second.claimed_yen == 21000
    assert after_loss_detect().as_dict() == {"opened": 0, "added": 0, "withdrawn": 0}


def test_closing_by_time_bar_waits_for_the_limitation(paid):
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    clerk = make_staff()
    case = InvestigationCase.objects.get()
    arose = case.arose_on
    with pytest.raises(CaseError) as early:
        case_close(
            case_id=case.pk, outcome=CaseOutcome.TIME_BARRED, on=arose.replace(year=arose.year + 9),
            actor=clerk, note="時効",
        )  # fmt: skip
    assert early.value.code == "not_time_barred"
    with pytest.raises(CaseError):
        case_close(case_id=case.pk, outcome=CaseOutcome.NOT_DUE, on=arose, actor=clerk, note=" ")
    case = case_close(
        case_id=case.pk, outcome=CaseOutcome.TIME_BARRED, on=arose.replace(year=arose.year + 10),
        actor=clerk, note="居所不明のまま時効完成",
    )  # fmt: skip
    assert (case.status, case.outcome) == ("closed", "time_barred")


def test_cases_list_prints_each_case_and_json(paid):
    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    out = StringIO()
    call_command("cases", "list", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert len(rows) == 1
    row = rows[0]
    assert {k: row[k] for k in ("kind", "subject", "status", "claimed_yen", "recovered_yen")} == {
        "kind": "after_loss",
        "subject": a.atena_no,
        "status": "open",
        "claimed_yen": 113010,
        "recovered_yen": 0,
    }
    assert row == case_row(InvestigationCase.objects.get())
    text = StringIO()
    call_command("cases", "list", "--kind", "after_loss", stdout=text)
    assert "資格喪失後受診" in text.getvalue() and "113,010円" in text.getvalue()


def test_the_refund_notice_lists_each_claim_with_its_amount(paid):
    import io as _io

    from pypdf import PdfReader

    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    case = InvestigationCase.objects.get()
    case = refund_claim_issue(
        case_id=case.pk,
        issued_on=dt.date(2026, 10, 1),
        due_on=dt.date(2026, 10, 31),
        actor=make_staff(),
    )
    notice = case.detail["notices"][0]
    assert notice["amount_yen"] == 113010 and notice["due_on"] == "2026-10-31"
    assert notice["notice_no"] == f"HS20261001-{case.pk:07d}"
    text = "".join(
        page.extract_text()
        for page in PdfReader(_io.BytesIO(Path(notice["path"]).read_bytes())).pages
    )
    for expected in (
        "返還金の納入について",
        "令和8年6月21日に国民健康保険の資格を喪失",  # the day after the 社保 join (法8条)
        "令和8年7月",
        "令和8年8月",
        "123,450円",
        "86,410円",
        "5,600円",
        "21,000円",
        "113,010円",
        "令和8年10月31日",
        "保険者間調整",
        notice["notice_no"],
    ):
        assert expected in text, expected
    assert "令和8年5月" not in text and "令和8年6月 " not in text
    assert case.steps.filter(kind=StepKind.NOTICE_ISSUED).count() == 1


def test_the_claims_retention_may_erase_a_claim_the_case_still_shows(paid):
    """The case is a record of its own: the claims' retention erases the claims of old months
    (their link is emptied), and the case keeps each claim's number, provider and amounts."""
    from kokuho.benefits.retention import claims_erase

    a, _b, _claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    case = InvestigationCase.objects.get()
    before = case_claims(case)
    erased = sum(n for n, _tables in claims_erase(cutoff=_month(9), chunk=100))
    assert erased == 6
    assert not Claim.objects.exists()
    assert case_claims(case) == before
    assert not case.claims.filter(claim__isnull=False).exists()


def test_a_claim_counts_in_one_case_at_a_time(paid):
    from django.db import IntegrityError, transaction

    from kokuho.cases.models import CaseClaim

    a, _b, claims = paid
    _late(ChangeType.EMPLOYEE_INSURANCE_JOIN, a, JOINED)
    link = CaseClaim.objects.get(claim=claims["august"])
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseClaim.objects.create(
            case=link.case, claim=link.claim, claim_no=link.claim_no, provider=link.provider,
            service_month=link.service_month, cost_yen=1, copay_yen=0, insurer_share_yen=1,
        )  # fmt: skip
