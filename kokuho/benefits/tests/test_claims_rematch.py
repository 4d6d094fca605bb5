"""未照合レセプトの解消: the list and its counts, 再照合 with the import's own matching once
the cause is fixed (a registry change gives the number, a retroactive 資格), a clerk naming
the person (inside or outside their 資格), 返戻 — each recorded and audited, and the months
that gained claims handed to the re-computation."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.benefits.claims_match import (
    RECOMPUTE_DETAIL,
    ClaimMatchError,
    RematchOutcome,
    claim_person_assign,
    claim_return,
    claims_rematch,
    claims_unmatched_open,
    claims_unmatched_summary,
)
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.kogaku.workflow import AccountIn, kogaku_application_register, kogaku_decide
from kokuho.benefits.models import (
    Claim,
    ClaimMatch,
    ClaimResolution,
    ClaimResolutionKind,
    KogakuRecomputeRequest,
    RecomputeCause,
)
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.models import HouseholdNumber
from kokuho.eligibility.services import number_after
from kokuho.interfaces.services import import_claims
from kokuho.interfaces.tests.support import CLAIMS_HEADER, claim, write_csv
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)
SEPTEMBER = dt.date(2026, 9, 1)
OCTOBER = dt.date(2026, 10, 1)
RECEIVED = dt.date(2026, 11, 10)


def _import(tmp_path, rows, name="claims.csv"):
    """Claims through the real import (and so through its matching)."""
    path = write_csv(tmp_path / name, rows, header=CLAIMS_HEADER)
    import_claims(path=path, actor=None, reported_on=RECEIVED)
    return {c.claim_id: c for c in Claim.objects.all()}


def _next_number() -> dict[str, str]:
    """The 記号・番号 the next new household will be given (nobody holds it yet)."""
    last = HouseholdNumber.objects.order_by("-number").values_list("number", flat=True).first()
    return {"symbol": settings.KOKUHO_NUMBER_SYMBOL, "number": number_after(last), "branch": "01"}


def _change(kind: ChangeType, person, day: dt.date, reported_on: dt.date) -> None:
    event = ChangeEvent(type=kind, date=day, reported_on=reported_on, atena_no=person.atena_no)
    event_apply(event, recorded_at=timezone.now(), actor=None)


@pytest.fixture
def clerk():
    return make_staff(role=Role.BENEFITS)


def _events(action: str) -> list[AuditEvent]:
    return [
        e
        for e in AuditEvent.objects.filter(event_type=EventType.CLAIM_MATCH_RESOLVED)
        if e.extra["action"] == action
    ]


# --- the list ---------------------------------------------------------------------------------


def test_the_summary_counts_open_claims_by_reason_and_by_month(tmp_path, clerk):
    insured = make_insured()
    gone = make_insured(moved_out=dt.date(2026, 8, 31))
    claims = _import(
        tmp_path,
        [
            claim("M1", insured),
            claim("N1", gone),
            claim("N2", gone, month="202609"),
            claim("U1"),
            claim("U2") | {"number": "999998"},
            claim("U3", month="202609") | {"number": "999997"},
        ],
    )
    claim_return(claim=claims["U2"], reason="記号・番号の誤り", actor=clerk)

    october = claims_unmatched_summary(month=dt.date(2026, 10, 15))
    assert october.by_reason == {ClaimMatch.NOT_INSURED: 1, ClaimMatch.UNKNOWN_NUMBER: 1}
    assert october.total == 2 and october.returned == 1
    everything = claims_unmatched_summary()
    assert everything.by_reason == {ClaimMatch.NOT_INSURED: 2, ClaimMatch.UNKNOWN_NUMBER: 2}
    assert everything.by_month == [(OCTOBER, 2), (SEPTEMBER, 2)]
    assert [c.claim_id for c in claims_unmatched_open(month=OCTOBER)] == ["N1", "U1"]
    only_unknown = claims_unmatched_open(reason=ClaimMatch.UNKNOWN_NUMBER)
    assert [c.claim_id for c in only_unknown] == ["U1", "U3"]


# --- 再照合 -----------------------------------------------------------------------------------


def test_a_claim_matches_once_the_registry_change_gives_its_number(tmp_path, clerk):
    claims = _import(tmp_path, [claim("U1") | _next_number(), claim("U2")])
    assert claims["U1"].match == ClaimMatch.UNKNOWN_NUMBER
    # The 転入 (from September) arrives after the claims: the person gets that number.
    newcomer = make_insured(moved_in=SEPTEMBER)

    outcome = claims_rematch(month=OCTOBER, actor=clerk)

    stored = Claim.objects.get(claim_id="U1")
    assert (stored.match, stored.person) == (ClaimMatch.MATCHED, newcomer)
    assert stored.household_number == newcomer.household.nhi_number
    assert outcome == RematchOutcome(
        examined=2,
        matched=["U1"],
        reason_changed=[],
        pairs=[(newcomer.household_id, OCTOBER)],
    )
    assert outcome.still_unmatched == 1
    resolution = ClaimResolution.objects.get(claim=stored)
    assert resolution.kind == ClaimResolutionKind.REMATCHED
    assert (resolution.match_before, resolution.person, resolution.resolved_by) == (
        ClaimMatch.UNKNOWN_NUMBER,
        newcomer,
        clerk,
    )
    # What the 高額療養費 run reads: the month's matched claims.
    assert Claim.objects.filter(service_month=OCTOBER, match=ClaimMatch.MATCHED).get() == stored
    (event,) = _events("rematched")
    assert (event.subject_type, event.subject_id, event.actor) == (
        SubjectType.PERSON,
        newcomer.atena_no,
        clerk,
    )
    assert event.extra["claim_id"] == "U1" and event.extra["match_after"] == "matched"
    assert [c.claim_id for c in claims_unmatched_open()] == ["U2"]


def test_a_claim_matches_once_the_eligibility_is_corrected_retroactively(tmp_path, clerk):
    person = make_insured()
    _change(ChangeType.EMPLOYEE_INSURANCE_JOIN, person, SEPTEMBER, SEPTEMBER)
    claims = _import(tmp_path, [claim("N1", person)])
    assert claims["N1"].match == ClaimMatch.NOT_INSURED
    # The 社保 ended on 10/1, reported late: 国保 again from 10/1. The change itself matches
    # the claim again through 再照合 (the eligibility listener, decision 221).
    _change(ChangeType.EMPLOYEE_INSURANCE_LEAVE, person, OCTOBER, dt.date(2026, 11, 20))

    stored = Claim.objects.get(claim_id="N1")
    assert (stored.match, stored.person) == (ClaimMatch.MATCHED, person)
    assert stored.resolution.match_before == ClaimMatch.NOT_INSURED
    assert stored.resolution.resolved_by is None  # by the change, not a clerk
    (event,) = _events("rematched")
    assert event.extra["claim_id"] == "N1" and event.actor is None
    # Nothing is left for the clerk's 再照合.
    outcome = claims_rematch(claim_ids=[claims["N1"].pk], actor=clerk)
    assert (outcome.matched, outcome.pairs) == ([], [])


def test_a_number_found_for_someone_not_insured_that_month_changes_the_reason(tmp_path, clerk):
    _import(tmp_path, [claim("U1") | _next_number()])
    late = make_insured(moved_in=dt.date(2026, 11, 5))

    outcome = claims_rematch(actor=clerk)

    assert (outcome.matched, outcome.reason_changed, outcome.pairs) == ([], ["U1"], [])
    stored = Claim.objects.get(claim_id="U1")
    assert (stored.match, stored.person) == (ClaimMatch.NOT_INSURED, late)
    assert not ClaimResolution.objects.exists()
    assert [c.claim_id for c in claims_unmatched_open()] == ["U1"]
    (event,) = _events("reason_changed")
    assert event.subject_id == late.atena_no


def test_rematch_touches_only_the_claims_given_and_nothing_unchanged(tmp_path, clerk):
    first, second = _next_number(), _next_number() | {"branch": "02"}
    claims = _import(tmp_path, [claim("U1") | first, claim("U2") | second, claim("U3")])
    make_insured(moved_in=SEPTEMBER)
    claim_return(claim=claims["U2"], reason="重複請求", actor=clerk)

    outcome = claims_rematch(claim_ids=[claims["U2"].pk, claims["U3"].pk], actor=clerk)

    # U2 is returned (not open), U3's number still unknown: nothing written, no event.
    assert (outcome.examined, outcome.matched, outcome.reason_changed) == (1, [], [])
    assert Claim.objects.get(claim_id="U1").match == ClaimMatch.UNKNOWN_NUMBER
    assert not _events("rematched") and not _events("reason_changed")


def test_rematch_uses_a_fixed_number_of_queries_whatever_the_number_of_claims(tmp_path, clerk):
    def run(n: int, tag: str) -> int:
        numbers = [_next_number()]
        for _ in range(n - 1):
            numbers.append(numbers[-1] | {"number": number_after(numbers[-1]["number"])})
        _import(tmp_path, [claim(f"{tag}{i}") | k for i, k in enumerate(numbers)], f"{tag}.csv")
        for _ in range(n):
            make_insured(moved_in=SEPTEMBER)  # each new household takes the next number
        with CaptureQueriesContext(connection) as queries:
            outcome = claims_rematch(month=OCTOBER, actor=clerk)
        assert len(outcome.matched) == n
        return len(queries)

    assert run(3, "A") == run(40, "B")


def test_a_decided_month_that_gains_a_claim_is_noted_for_recomputation(clerk):
    """Through the real `kogaku.recompute`: the household's July was decided; a claim of
    July matched afterwards notes the month (cause: a claim added to the month)."""
    person = make_insured(birth_date=dt.date(1953, 3, 2))  # 73, 一般: 外来 limit 18,000
    make_claim(person=person, service_month=JULY, setting=2, points=15000, copay=30000)
    kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)
    application = kogaku_application_register(
        household=person.household,
        month=JULY,
        applicant=person,
        received_on=dt.date(2026, 9, 1),
        account=AccountIn("0001", "001", 1, "1234567", "きゅうふ たろう"),
        simplify=False,
        actor=clerk,
    )
    kogaku_decide(application=application, actor=clerk, decided_on=dt.date(2026, 9, 3))
    unmatched = make_claim(service_month=JULY, number="777777", copay=9000, points=3000)

    claim_person_assign(claim=unmatched, person=person, actor=clerk)

    note = KogakuRecomputeRequest.objects.get()
    assert (note.household_id, note.month, note.cause, note.done_at) == (
        person.household_id,
        JULY,
        RecomputeCause.LATE_CLAIM,
        None,
    )
    assert note.detail == RECOMPUTE_DETAIL


# --- 被保険者を指定 ----------------------------------------------------------------------------


def test_a_clerk_assigns_a_claim_to_the_person_insured_that_month(tmp_path, clerk):
    person = make_insured()
    claims = _import(tmp_path, [claim("U1") | {"number": "777777"}])

    resolution = claim_person_assign(
        claim=claims["U1"], person=person, actor=clerk, note="記号・番号の変更前の証で受診"
    )

    stored = Claim.objects.get(claim_id="U1")
    assert (stored.match, stored.person) == (ClaimMatch.MATCHED, person)
    assert stored.household_number == person.household.nhi_number
    assert (stored.symbol, stored.number) == ("99", "777777")  # as the 国保連合会 sent it
    assert resolution.kind == ClaimResolutionKind.ASSIGNED
    assert resolution.reason == "記号・番号の変更前の証で受診"
    (event,) = _events("assigned")
    assert event.subject_id == person.atena_no and event.actor == clerk
    assert event.extra["number_on_claim"] == "99-777777-01"
    number = person.household.nhi_number
    assert event.extra["number_assigned"] == f"{number.symbol}-{number.number}-01"
    assert not claims_unmatched_open().exists()


def test_assigning_outside_the_persons_eligibility_is_refused_and_changes_nothing(tmp_path, clerk):
    gone = make_insured(moved_out=dt.date(2026, 9, 30))
    claims = _import(tmp_path, [claim("U1")])

    with pytest.raises(ClaimMatchError) as refused:
        claim_person_assign(claim=claims["U1"], person=gone, actor=clerk)

    assert "診療月 2026年10月 に国保の資格がありません" in str(refused.value)
    assert "資格期間: 令和2年4月1日〜令和8年9月29日" in str(refused.value)
    assert refused.value.field == "person"
    stored = Claim.objects.get(claim_id="U1")
    assert (stored.match, stored.person) == (ClaimMatch.UNKNOWN_NUMBER, None)
    assert not ClaimResolution.objects.exists() and not _events("assigned")


def test_a_resolved_claim_cannot_be_resolved_again(tmp_path, clerk):
    person = make_insured()
    claims = _import(tmp_path, [claim("U1"), claim("M1", person)])
    claim_return(claim=claims["U1"], reason="該当者なし", actor=clerk)

    with pytest.raises(ClaimMatchError, match="既に処理済みです（返戻"):
        claim_person_assign(claim=claims["U1"], person=person, actor=clerk)
    with pytest.raises(ClaimMatchError, match="既に処理済みです"):
        claim_return(claim=claims["U1"], reason="もう一度", actor=clerk)
    with pytest.raises(ClaimMatchError, match="既に照合済みです"):
        claim_return(claim=claims["M1"], reason="誤り", actor=clerk)
    assert ClaimResolution.objects.count() == 1


# --- 返戻 -------------------------------------------------------------------------------------


def test_a_returned_claim_leaves_the_list_and_keeps_its_match(tmp_path, clerk):
    gone = make_insured(moved_out=dt.date(2026, 9, 30))
    claims = _import(tmp_path, [claim("N1", gone), claim("U1")])

    with pytest.raises(ClaimMatchError, match="返戻の理由を入力してください"):
        claim_return(claim=claims["N1"], reason="  ", actor=clerk)
    resolution = claim_return(claim=claims["N1"], reason="資格喪失後の受診", actor=clerk)

    stored = Claim.objects.get(claim_id="N1")
    assert (stored.match, stored.person) == (ClaimMatch.NOT_INSURED, gone)
    assert (resolution.kind, resolution.reason, resolution.person) == (
        ClaimResolutionKind.RETURNED,
        "資格喪失後の受診",
        None,
    )
    assert [c.claim_id for c in claims_unmatched_open()] == ["U1"]
    (event,) = _events("returned")
    assert (event.subject_type, event.subject_id) == (SubjectType.PERSON, gone.atena_no)
    assert event.extra["reason"] == "資格喪失後の受診"
    claim_return(claim=claims["U1"], reason="該当者なし", actor=clerk)
    assert _events("returned")[-1].subject_type == SubjectType.SYSTEM  # nobody to name


def test_a_resolution_goes_with_its_claim_when_the_claims_retention_ends(tmp_path, clerk):
    from kokuho.benefits.retention import claims_erase

    claims = _import(tmp_path, [claim("U1"), claim("U2") | {"number": "999998"}])
    claim_return(claim=claims["U1"], reason="該当者なし", actor=clerk)

    erased = list(claims_erase(cutoff=dt.date(2026, 11, 1), chunk=100))

    rows = {label: n for _erased, per_model in erased for label, n in per_model.items()}
    assert (rows["benefits.Claim"], rows["benefits.ClaimResolution"]) == (2, 1)
    assert not Claim.objects.exists() and not ClaimResolution.objects.exists()
