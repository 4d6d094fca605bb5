"""オンライン資格確認 資格履歴: the extract, the ledger, My Number at write time, deltas."""

import datetime as dt
import itertools
from pathlib import Path

import pytest

from kokuho.audit.models import AuditEvent, EventType
from kokuho.certificates.models import (
    Delivery,
    Disease,
    DocumentType,
    IssuedDocument,
    IssueReason,
)
from kokuho.certificates.services import basic_document_issue, certificate_apply
from kokuho.core.mynumber import my_number_check_digit
from kokuho.core.purposes import Purpose
from kokuho.eligibility.events import ChangeType
from kokuho.identity.checks import NumberCheck
from kokuho.identity.services import (
    MyNumberRefused,
    my_numbers_for_linkage,
    my_numbers_register_bulk,
)
from kokuho.interfaces.models import ExportKind, ExportRecord
from kokuho.national.layouts import descriptor, line_read
from kokuho.national.ledger import national_export
from kokuho.national.models import (
    Feed,
    NationalWorkItem,
    OutboundFile,
    OutboundRecord,
    SentState,
    WorkItemKind,
)
from kokuho.national.onshi.files import national_file_segments
from kokuho.national.tests.builders import arrive, happen
from kokuho.people.models import Person

pytestmark = pytest.mark.django_db(databases=["default", "vault"])
GOLDEN = Path(__file__).parent / "golden"
DAY = dt.date(2026, 4, 1)
FEED = Feed.ONSHI_HISTORY
MASK = "<個人番号>"
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"


def synthetic_number() -> str:
    """Made up at run time (never in the repository): 97 + serial + check digit."""
    first = f"97{next(_serial):09d}"
    return first + str(my_number_check_digit(first))


def numbers_register(*atena_nos: str) -> dict[str, str]:
    numbers = {a: synthetic_number() for a in atena_nos}
    my_numbers_register_bulk(
        numbers=numbers, number_check=NumberCheck.REGISTRY_MATCH,
        purpose=Purpose.NHI_ELIGIBILITY, source="test",
    )  # fmt: skip
    return numbers


def city() -> dict[str, str]:
    """Four insured: a head with a 資格確認書 and a 特定疾病療養受療証, a child, a 70-year-old
    with a 減額認定証 (長期入院), one who moved out; all but the child have a My Number."""
    arrive("1000000001", "5000000001", name="資格 太郎", kana="シカク タロウ")
    arrive(
        "1000000002", "5000000001", relation="子", name="資格 花子", kana="シカク ハナコ",
        birth=dt.date(2021, 6, 1), sex=2, on=dt.date(2021, 6, 1),
    )  # fmt: skip
    aged = arrive(
        "1000000003", "5000000003", name="長寿 キヨ", kana="チョウジュ キヨ",
        birth=dt.date(1955, 5, 10), sex=2,
    )  # fmt: skip
    arrive("1000000004", "5000000004", name="移動 次郎", kana="イドウ ジロウ")
    happen(ChangeType.MOVE_OUT, "1000000004", dt.date(2023, 3, 1))
    head = Person.objects.get(atena_no="1000000001")
    basic_document_issue(
        person=head, on=dt.date(2025, 8, 1), reason=IssueReason.NEW,
        delivery=Delivery.MAIL, actor=None,
    )  # fmt: skip
    certificate_apply(
        person=head, doc_type=DocumentType.TOKUTEI, applied_on=dt.date(2025, 10, 6),
        actor=None, disease=Disease.DIALYSIS, opinion_received=True,
    )  # fmt: skip
    # The services date a document today; the test's world is fixed in 2025.
    IssuedDocument.objects.filter(doc_type=DocumentType.KAKUNINSHO).update(
        issued_on=dt.date(2025, 7, 20)
    )
    IssuedDocument.objects.filter(doc_type=DocumentType.TOKUTEI).update(
        issued_on=dt.date(2025, 10, 6)
    )
    IssuedDocument.objects.create(
        serial="GG2025-0000001", doc_type=DocumentType.GENGAKU, person=aged,
        household=aged.household, valid_from=dt.date(2025, 8, 1),
        valid_until=dt.date(2026, 7, 31), issued_on=dt.date(2025, 8, 20),
        reason=IssueReason.NEW, delivery=Delivery.COUNTER,
        printed={"category": "低所得Ⅱ", "long_stay_from": "2025-08-20"},
    )  # fmt: skip
    return numbers_register("1000000001", "1000000003", "1000000004")


def plaintext(path: Path) -> bytes:
    return b"".join(national_file_segments(path))


def data_rows(path: Path) -> list[dict]:
    lines = plaintext(path).decode("cp932").split("\r\n")[:-1]
    return [line_read(descriptor(FEED.value), "data", line) for line in lines[1:-1]]


def masked(data: bytes, numbers: dict[str, str]) -> bytes:
    for number in numbers.values():
        data = data.replace(number.encode("ascii"), MASK.encode("cp932"))
    return data


def assert_no_number_in_clear(numbers: dict[str, str], root: Path) -> None:
    """No number under the national dir (every file's bytes) nor in the business DB."""
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files
    for path in files:
        raw = path.read_bytes()
        for number in numbers.values():
            assert number.encode("ascii") not in raw, path.name
    stored = " ".join(
        [*OutboundRecord.objects.values_list("line", flat=True)]
        + [*SentState.objects.values_list("line", flat=True)]
        + [str(d) for d in NationalWorkItem.objects.values_list("detail", flat=True)]
        + [str(e) for e in AuditEvent.objects.values_list("extra", flat=True)]
    )
    for number in numbers.values():
        assert number not in stored


def test_the_full_extract_matches_its_golden_file_with_the_numbers_masked(settings):
    numbers = city()
    outcome = national_export(feed=FEED, as_of=DAY, full=True, actor=None)
    assert outcome.path.name.endswith(".csv.enc") and outcome.file.assumed
    data = plaintext(outcome.path)
    for atena in ("1000000001", "1000000003"):
        assert numbers[atena].encode() in data  # put in at write time
    assert masked(data, numbers) == (GOLDEN / "onshi_history.csv").read_bytes()


def test_the_file_round_trips_to_the_records_the_extract_made():
    numbers = city()
    outcome = national_export(feed=FEED, as_of=DAY, full=True, actor=None)
    rows = {(r["number"], r["branch"], r["acquired_on"]): r for r in data_rows(outcome.path)}
    kept = {
        r.key: line_read(descriptor(FEED.value), "data", r.line)
        for r in OutboundRecord.objects.filter(file=outcome.file)
    }
    assert len(rows) == len(kept) == outcome.file.record_count == 4
    for key, stored in kept.items():
        written = next(r for r in rows.values() if key.endswith(r["acquired_on"].strftime("%Y%m%d"))
                       and f"|{r['number']}|{r['branch']}|" in key)  # fmt: skip
        assert written | {"my_number": None} == stored  # equal but for the number
    head = next(r for r in rows.values() if r["name"] == "資格 太郎")
    assert head["my_number"] == numbers["1000000001"] and head["identity_check"] == "1"
    assert head["person_kind"] == "1" and head["card_issued_on"] == dt.date(2025, 7, 20)
    assert (head["card_valid_from"], head["card_valid_until"]) == (
        dt.date(2025, 8, 1), dt.date(2026, 7, 31),
    )  # fmt: skip
    assert (head["disease_kind"], head["disease_limit"]) == ("1", "20000")  # 区分ア, 透析
    aged = next(r for r in rows.values() if r["name"] == "長寿 キヨ")
    assert (aged["limit_kind"], aged["limit_category"]) == ("02", "B05")
    assert aged["long_stay_from"] == dt.date(2025, 8, 20)
    child = next(r for r in rows.values() if r["name"] == "資格 花子")
    assert (child["person_kind"], child["my_number"], child["identity_check"]) == ("2", None, "9")
    assert child["preschool"] == "1"


def test_no_my_number_in_clear_anywhere_under_the_national_dir_or_in_the_ledger(settings):
    numbers = city()
    national_export(feed=FEED, as_of=DAY, full=True, actor=None)
    happen(ChangeType.MOVE_OUT, "1000000001", dt.date(2026, 4, 10))
    national_export(feed=FEED, as_of=dt.date(2026, 4, 11), full=False, actor=None)
    national_export(feed=FEED, as_of=DAY, full=True, actor=None)  # a rewrite re-draws them
    assert_no_number_in_clear(numbers, Path(settings.KOKUHO_NATIONAL_DIR))


def test_the_ledger_and_the_register_name_the_online_eligibility_export():
    city()
    file = national_export(feed=FEED, as_of=DAY, full=True, actor=None).file
    register = ExportRecord.objects.get(pk=file.export_id)
    assert register.kind == ExportKind.ONLINE_ELIGIBILITY
    assert register.purpose == Purpose.ONLINE_ELIGIBILITY and "113条の3" in register.legal_basis
    assert "中間サーバー" in register.recipient and register.file_sha256 == file.sha256
    reads = AuditEvent.objects.filter(event_type=EventType.MY_NUMBER_LINKAGE_READ)
    assert reads.count() == 1 and reads.get().purpose == Purpose.ONLINE_ELIGIBILITY
    assert reads.get().extra["found"] == 3  # every record whose person has a number


def test_a_person_without_a_my_number_is_sent_flagged_and_listed():
    city()
    national_export(feed=FEED, as_of=DAY, full=True, actor=None)
    item = NationalWorkItem.objects.get(kind=WorkItemKind.NO_MY_NUMBER)
    assert item.person.atena_no == "1000000002" and item.resolved_at is None
    numbers = numbers_register("1000000002")
    delta = national_export(feed=FEED, as_of=DAY + dt.timedelta(days=1), full=False, actor=None)
    (row,) = data_rows(delta.path)
    assert (row["processing"], row["identity_check"]) == ("2", "1")
    assert row["my_number"] == numbers["1000000002"]
    item.refresh_from_db()
    assert item.resolved_at is not None


def test_deltas_carry_the_whole_current_record_of_what_changed():
    city()
    national_export(feed=FEED, as_of=DAY, full=True, actor=None)
    happen(ChangeType.MOVE_OUT, "1000000001", dt.date(2026, 4, 10))
    delta = national_export(feed=FEED, as_of=dt.date(2026, 4, 11), full=False, actor=None)
    (row,) = data_rows(delta.path)
    assert (row["name"], row["processing"], row["lost_on"]) == (
        "資格 太郎",
        "2",
        dt.date(2026, 4, 10),
    )
    assert row["card_issued_on"] == dt.date(2025, 7, 20) and row["my_number"]  # whole record
    nothing = national_export(feed=FEED, as_of=dt.date(2026, 4, 12), full=False, actor=None)
    assert nothing.file.sequence == 3 and nothing.file.record_count == 0


def test_a_retroactive_change_resends_every_period_it_touches():
    arrive("1000000005", "5000000005")
    happen(ChangeType.MOVE_OUT, "1000000005", dt.date(2022, 4, 1))
    arrive("1000000005", "5000000005", on=dt.date(2023, 4, 1))
    numbers_register("1000000005")
    national_export(feed=FEED, as_of=DAY, full=True, actor=None)
    happen(ChangeType.EMPLOYEE_INSURANCE_JOIN, "1000000005", dt.date(2021, 1, 1), DAY)
    happen(ChangeType.EMPLOYEE_INSURANCE_LEAVE, "1000000005", dt.date(2023, 6, 1), DAY)
    delta = national_export(feed=FEED, as_of=DAY + dt.timedelta(days=1), full=False, actor=None)
    rows = sorted((r["processing"], r["acquired_on"], r["lost_on"]) for r in data_rows(delta.path))
    assert rows == [
        ("1", dt.date(2023, 6, 1), None),
        ("2", dt.date(2020, 4, 1), dt.date(2021, 1, 2)),
        ("3", dt.date(2023, 4, 1), None),
    ]
    assert all(r["my_number"] for r in data_rows(delta.path))  # the 削除 too


def test_an_interrupted_export_takes_the_same_sequence_and_plaintext(monkeypatch, settings):
    numbers = city()
    national_export(feed=FEED, as_of=DAY, full=True, actor=None)
    happen(ChangeType.MOVE_OUT, "1000000001", dt.date(2026, 4, 10))
    later = DAY + dt.timedelta(days=10)
    import kokuho.national.onshi.files as files

    real = files.EncryptedWriter.finish

    def crash(self):
        raise OSError("disk full")

    monkeypatch.setattr(files.EncryptedWriter, "finish", crash)
    with pytest.raises(OSError):
        national_export(feed=FEED, as_of=later, full=False, actor=None)
    assert OutboundFile.objects.filter(feed=FEED).count() == 1
    # What the crash left behind (the temporary file) is ciphertext too.
    assert list(Path(settings.KOKUHO_NATIONAL_DIR).rglob("*.tmp"))
    assert_no_number_in_clear(numbers, Path(settings.KOKUHO_NATIONAL_DIR))
    monkeypatch.setattr(files.EncryptedWriter, "finish", real)
    done = national_export(feed=FEED, as_of=later, full=False, actor=None)
    assert done.file.sequence == 2
    first, encrypted = plaintext(done.path), done.path.read_bytes()
    done.path.unlink()
    again = national_export(feed=FEED, as_of=later, full=False, actor=None)
    assert again.repeated and plaintext(again.path) == first
    assert again.path.read_bytes() != encrypted  # a new data key, the same content


def test_the_vault_refuses_a_bulk_read_for_another_purpose():
    numbers = numbers_register("1000000009")
    with pytest.raises(MyNumberRefused):
        my_numbers_for_linkage(atena_nos=list(numbers), purpose=Purpose.NHI_BENEFITS, job="x")
    assert AuditEvent.objects.filter(event_type=EventType.MY_NUMBER_REFUSED).exists()
