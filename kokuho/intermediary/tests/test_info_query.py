"""情報照会: refused before it leaves unless the allow-list permits the 事務 → row; request →
pending → answered by 処理通番; bad result files refused whole; a result read for its own
事務 only and shown in the person's access history; 公金受取口座 lands as the payee account."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.intermediary.models import InfoQuery, QueryStatus, ResultFile
from kokuho.intermediary.services import (
    InfoQueryError,
    InfoQueryRefused,
    info_query_request,
    info_query_requests_export,
    info_query_result_view,
    info_query_results_import,
)
from kokuho.intermediary.tests.builders import city, my_number_like
from kokuho.payments.models import AccountSource, PayeeAccount
from kokuho.subject_requests.holdings import access_record
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])
DAY = dt.date(2026, 11, 20)
OTHER_TAX = "other_law_benefits"


@pytest.fixture(autouse=True)
def _dirs(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"


@pytest.fixture
def staff():
    return make_staff(role=Role.BENEFITS)


def _events(kind: EventType, atena_no: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            event_type=kind, subject_type=SubjectType.PERSON, subject_id=atena_no
        )
    )


def _result(tmp_path: Path, *rows: tuple, insurer="389999", count=None, name="r.csv", cut=False):
    lines = [f"1,info_query_result,D0.1,{insurer},{DAY:%Y%m%d}"]
    lines += [",".join(["2", *row]) for row in rows]
    lines.append(f"9,{len(rows) if count is None else count}")
    text = "\r\n".join(lines) + ("" if cut else "\r\n")
    path = tmp_path / name
    path.write_bytes(text.encode("cp932"))
    return path


def _pending(staff, atena_no: str, row: str = OTHER_TAX) -> InfoQuery:
    query = info_query_request(actor=staff, atena_no=atena_no, row=row, purpose="nhi_benefits")
    info_query_requests_export(actor=None, on=DAY)
    query.refresh_from_db()
    return query


def test_a_row_the_allow_list_does_not_permit_is_refused_audited_and_never_written(staff):
    person = city()[0]
    with pytest.raises(InfoQueryRefused, match="許可リスト"):
        info_query_request(
            actor=staff, atena_no=person.atena_no, row="public_account", purpose="nhi_eligibility"
        )
    with pytest.raises(InfoQueryRefused):
        info_query_request(actor=staff, atena_no=person.atena_no, row="x", purpose="tax")
    assert not InfoQuery.objects.exists()
    assert len(_events(EventType.INFO_QUERY_REFUSED, person.atena_no)) == 2
    assert info_query_requests_export(actor=None, on=DAY) is None


def test_staff_without_the_permission_is_refused(staff):
    person = city()[0]
    counter = make_staff(role=Role.COUNTER)
    with pytest.raises(InfoQueryRefused, match="権限"):
        info_query_request(
            actor=counter, atena_no=person.atena_no, row=OTHER_TAX, purpose="nhi_benefits"
        )
    assert not InfoQuery.objects.exists()


def test_a_request_goes_pending_in_a_file_keyed_by_the_integrated_number(staff):
    person = city()[0]
    query = info_query_request(
        actor=staff, atena_no=person.atena_no, row=OTHER_TAX, purpose="nhi_benefits"
    )
    assert query.status == QueryStatus.REQUESTED and query.requested_by == staff
    assert len(query.serial) == 22 and query.serial.startswith("00389999")
    file, path = info_query_requests_export(actor=None, on=DAY)
    text = path.read_bytes().decode("cp932")
    assert f"2,{query.serial},{query.integrated_no},nhi_benefits,{OTHER_TAX}," in text
    assert person.atena_no not in text and my_number_like(text) == []
    query.refresh_from_db()
    assert query.status == QueryStatus.PENDING and query.request_file == file
    assert info_query_requests_export(actor=None, on=DAY) is None  # nothing left to send
    assert _events(EventType.INFO_QUERY_REQUESTED, person.atena_no)


def test_results_are_matched_by_serial_and_an_unknown_serial_is_reported(staff, tmp_path):
    people = city()
    answered, failed = (_pending(staff, p.atena_no) for p in people[:2])
    path = _result(
        tmp_path,
        (answered.serial, answered.integrated_no, "0", "", "", "給付=なし;支給日=20261101"),
        (failed.serial, failed.integrated_no, "9", "E01", "提供者側エラー", ""),
        ("00389999202611209999", "000000000000999", "0", "", "", ""),
    )
    outcome = info_query_results_import(path=path, actor=None)
    assert (outcome.answered, outcome.errors) == (1, 1)
    assert len(outcome.unknown) == 1 and "依頼していない照会" in outcome.unknown[0]
    answered.refresh_from_db()
    failed.refresh_from_db()
    assert answered.status == QueryStatus.ANSWERED
    assert answered.result == {"給付": "なし", "支給日": "20261101"}
    assert (failed.status, failed.result_code) == (QueryStatus.ERROR, "E01")
    assert ResultFile.objects.get().unknown == outcome.unknown


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"cut": True}, "途中で切れて"),
        ({"insurer": "389998"}, "他の保険者"),
        ({"count": 5}, "件数"),
        ({"items": "番号=123456789018"}, "個人番号"),
    ],
)
def test_a_bad_result_file_is_refused_whole(staff, tmp_path, bad, message):
    query = _pending(staff, city()[0].atena_no)
    items = bad.pop("items", "a=b")
    path = _result(tmp_path, (query.serial, query.integrated_no, "0", "", "", items), **bad)
    with pytest.raises(InfoQueryError, match=message):
        info_query_results_import(path=path, actor=None)
    query.refresh_from_db()
    assert query.status == QueryStatus.PENDING and not ResultFile.objects.exists()


def test_the_same_result_file_twice_is_refused(staff, tmp_path):
    query = _pending(staff, city()[0].atena_no)
    path = _result(tmp_path, (query.serial, query.integrated_no, "0", "", "", "a=b"))
    info_query_results_import(path=path, actor=None)
    with pytest.raises(InfoQueryError, match="取込済み"):
        info_query_results_import(path=path, actor=None)


def test_a_result_is_read_for_its_own_purpose_only_and_shows_in_the_access_record(staff, tmp_path):
    person = city()[0]
    query = _pending(staff, person.atena_no)
    path = _result(tmp_path, (query.serial, query.integrated_no, "0", "", "", "a=b"))
    info_query_results_import(path=path, actor=None)
    query.refresh_from_db()
    with pytest.raises(InfoQueryRefused, match="異なる事務"):
        info_query_result_view(query=query, actor=staff, purpose="nhi_eligibility")
    assert not _events(EventType.INFO_QUERY_RESULT_VIEWED, person.atena_no)
    assert info_query_result_view(query=query, actor=staff, purpose="nhi_benefits") == {"a": "b"}
    actions = [e.action for e in access_record(person=person, households=[])]
    for kind in (
        EventType.INFO_QUERY_REQUESTED,
        EventType.INFO_QUERY_ANSWERED,
        EventType.INFO_QUERY_REFUSED,
        EventType.INFO_QUERY_RESULT_VIEWED,
    ):
        assert kind.label in actions


def test_a_public_account_answer_becomes_the_payee_account(staff, tmp_path):
    person = city()[2]
    query = _pending(staff, person.atena_no, row="public_account")
    items = (
        "金融機関コード=0001;店舗コード=001;預金種目=1;口座番号=7654321;口座名義=ショウカイ ジロウ"
    )
    path = _result(tmp_path, (query.serial, query.integrated_no, "0", "", "", items))
    outcome = info_query_results_import(path=path, actor=None)
    assert "振込先に記録 1件" in outcome.accounts
    account = PayeeAccount.objects.get(person=person)
    assert (account.source, account.account_number) == (AccountSource.PUBLIC, "7654321")
    assert account.valid_from == DAY
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED


def test_the_command_prints_the_serial_or_the_refusal(capsys):
    person = city()[0]
    call_command(
        "intermediary", "query", "--atena", person.atena_no, "--row", OTHER_TAX,
        "--purpose", "nhi_benefits",
    )  # fmt: skip
    assert "処理通番 00389999" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "intermediary", "query", "--atena", person.atena_no, "--row", "public_account",
            "--purpose", "nhi_eligibility",
        )  # fmt: skip
    assert exit_.value.code == 2 and "拒否" in capsys.readouterr().err
    call_command("intermediary", "export-requests", "--date", DAY.isoformat())
    assert "照会依頼 通番 1 1件" in capsys.readouterr().out
    call_command("intermediary", "catalogue")
    assert "TM00000000000001" in capsys.readouterr().out
