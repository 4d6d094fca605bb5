"""The yearly renewal (一斉更新) and the daily catch-up, end to end: rules, records, PDFs."""

import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from kokuho.audit.models import AuditEvent, EventType
from kokuho.certificates.daily import documents_daily
from kokuho.certificates.models import (
    DailyRun,
    Delivery,
    DocumentStatus,
    DocumentType,
    InvalidReason,
    IssuedDocument,
    IssueReason,
    MailingBatch,
    MynaStatus,
    RenewalStatus,
)
from kokuho.certificates.renewal import renewal_run_create, renewal_run_execute
from kokuho.certificates.services import basic_document_issue, myna_status_record
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.people.registry import ChangeContext, resident_relocate
from kokuho.testing import make_insured

pytestmark = pytest.mark.django_db

AUG1 = dt.date(2026, 8, 1)


@pytest.fixture(autouse=True)
def _documents_dir(settings, tmp_path):
    settings.KOKUHO_DOCUMENT_DIR = tmp_path / "documents"
    settings.KOKUHO_MAILING_BATCH_SIZE = 2


def _renew(day=AUG1):
    return renewal_run_execute(run_id=renewal_run_create(renewal_date=day, actor=None).pk)


def _postal(person, code):
    person.postal_code = code
    person.save(update_fields=["postal_code"])
    return person


@pytest.fixture
def city():
    a = _postal(make_insured(birth_date=dt.date(1980, 1, 5)), "799-0300")
    b = _postal(make_insured(birth_date=dt.date(1954, 6, 1)), "799-0100")  # 72: 2割 … or 3割
    c = _postal(make_insured(birth_date=dt.date(1990, 9, 9)), "799-0200")
    gone = make_insured(moved_in=dt.date(2020, 4, 1), moved_out=dt.date(2026, 3, 31))
    myna_status_record(person=c, status=MynaStatus.REGISTERED, as_of=AUG1, actor=None)
    return a, b, c, gone


def test_renewal_issues_by_the_rules_and_prints_by_postal_code(city):
    a, b, c, _gone = city
    run = _renew()
    assert run.status == RenewalStatus.DONE, run.error
    documents = {d.person_id: d for d in IssuedDocument.objects.filter(renewal=run)}
    assert set(documents) == {a.pk, b.pk, c.pk}  # the moved-out person gets nothing
    assert documents[a.pk].doc_type == DocumentType.KAKUNINSHO
    assert documents[b.pk].doc_type == DocumentType.KAKUNINSHO
    assert documents[c.pk].doc_type == DocumentType.OSHIRASE
    assert documents[a.pk].valid_from == AUG1
    assert documents[a.pk].valid_until == dt.date(2027, 7, 31)
    assert documents[c.pk].valid_until is None
    for document in documents.values():
        assert document.reason == IssueReason.RENEWAL
        assert document.delivery == Delivery.MAIL
        assert document.batch is not None
    assert run.counts["issued"] == {"kakuninsho": 2, "oshirase": 1}
    batches = list(MailingBatch.objects.filter(renewal=run).order_by("seq"))
    assert [b.document_count for b in batches] == [2, 1]  # batch size 2 in this test
    assert (batches[0].postal_from, batches[-1].postal_to) == ("799-0100", "799-0300")
    texts = []
    for batch in batches:
        content = Path(batch.path).read_bytes()
        assert hashlib.sha256(content).hexdigest() == batch.sha256
        reader = PdfReader(io.BytesIO(content))
        assert len(reader.pages) == batch.document_count
        texts += [page.extract_text() for page in reader.pages]
    # In postal-code order, one page per document, each with its own serial.
    order = [documents[p.pk].serial for p in (b, c, a)]
    assert [next(s for s in order if s in text) for text in texts] == order
    event = AuditEvent.objects.get(event_type=EventType.CERTIFICATE_RENEWAL)
    assert event.extra["issued"] == 3


def test_running_the_same_renewal_again_issues_nothing_twice(city):
    _renew()
    before = IssuedDocument.objects.count()
    second = _renew()
    assert second.status == RenewalStatus.DONE
    assert IssuedDocument.objects.count() == before
    assert second.counts["already_renewed"] == 3
    assert second.counts["issued"] == {}
    assert second.counts["batches"] == 0


def test_renewal_command_prints_a_summary(city, capsys):
    call_command("certificates", "renew", "--date", "2026-08-01", "--no-progress")
    out = capsys.readouterr().out
    assert "一斉更新 2026-08-01: 被保険者 3人、交付 3件" in out
    assert "資格確認書 2件" in out


def test_a_person_who_moves_out_after_renewal_has_the_card_invalidated(city):
    a, *_ = city
    _renew()
    card = IssuedDocument.objects.get(person=a, renewal__isnull=False)
    event_apply(
        ChangeEvent(ChangeType.MOVE_OUT, dt.date(2026, 9, 10), dt.date(2026, 9, 10), a.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )
    card.refresh_from_db()
    assert card.status == DocumentStatus.INVALID
    assert card.invalid_reason == InvalidReason.LOST_ELIGIBILITY
    assert card.invalid_from == dt.date(2026, 9, 10)
    assert card.return_requested_on == timezone.localdate()


def test_daily_catches_up_a_change_made_by_a_bulk_path(city):
    a, *_ = city
    card = basic_document_issue(
        person=a,
        on=timezone.localdate(),
        reason=IssueReason.NEW,
        delivery=Delivery.COUNTER,
        actor=None,
    )
    first = documents_daily(on=timezone.localdate())
    assert first.counts["reissued"] == 0
    # The 住基異動 importer changes the registry without touching documents.
    ctx = ChangeContext(
        timezone.localdate(), timezone.localdate(), timezone.now(), "住基異動", None
    )
    resident_relocate(person=a, address="みかん市港町9-9", postal_code="799-0999", ctx=ctx)
    second = documents_daily(on=timezone.localdate())
    assert second.counts["reissued"] == 1
    assert second.counts["batches"] == 1
    card.refresh_from_db()
    assert card.status == DocumentStatus.INVALID
    new = IssuedDocument.objects.get(replaces=card)
    assert new.printed["address"] == "みかん市港町9-9"
    assert new.batch is not None and new.batch.renewal is None
    third = documents_daily(on=timezone.localdate())
    assert third.counts["persons_checked"] == 0
    assert DailyRun.objects.count() == 3


def test_daily_issues_the_successor_after_the_70_switch(settings):
    # 70th birthday 2026-08-20 → 高齢受給者 from 2026-09-01: the renewal's card ends 08-31.
    person = make_insured(birth_date=dt.date(1956, 8, 20))
    run = _renew()
    card = IssuedDocument.objects.get(renewal=run, person=person)
    assert card.valid_until == dt.date(2026, 8, 31)
    assert card.printed["copay_rate"] == "3割"
    daily = documents_daily(on=dt.date(2026, 9, 1))
    assert daily.counts["successors"] == 1
    successor = IssuedDocument.objects.exclude(pk=card.pk).get(person=person)
    assert successor.valid_from == dt.date(2026, 9, 1)
    assert successor.printed["copay_rate"] in ("2割", "3割")
    assert successor.printed["copay_from"] == "2026-09-01"
    # Nothing twice.
    again = documents_daily(on=dt.date(2026, 9, 1))
    assert again.counts["successors"] == 0


def test_a_future_renewal_skips_who_turns_75_before_it():
    # Insured today; the period stays open until the 75th birthday happens (eligibility.md),
    # but a renewal dated after it has nothing to issue.
    person = make_insured(birth_date=dt.date(1952, 7, 10))  # 75 on 2027-07-10
    run = _renew(dt.date(2027, 8, 1))
    assert run.status == RenewalStatus.DONE, run.error
    assert not IssuedDocument.objects.filter(person=person, renewal=run).exists()
    assert sum(run.counts["skipped"].values()) == 1
    assert "75歳到達" in next(iter(run.counts["skipped"]))


def test_daily_writes_the_return_letters_of_the_day(city, settings):
    a, *_ = city
    _renew()
    event_apply(
        ChangeEvent(ChangeType.MOVE_OUT, dt.date(2026, 9, 10), dt.date(2026, 9, 10), a.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )
    day = timezone.localdate()
    run = documents_daily(on=day)
    assert run.counts["return_letters"] == 1
    letters = settings.KOKUHO_DOCUMENT_DIR / "daily" / f"return-letters-{day.isoformat()}.pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(letters.read_bytes())).pages)
    card = IssuedDocument.objects.get(person=a, renewal__isnull=False)
    assert card.serial in text
    card.refresh_from_db()
    assert card.return_letter_on == day
    assert documents_daily(on=day).counts["return_letters"] == 0  # never twice


def test_a_renewal_cut_off_before_printing_is_printed_by_the_next_run(city, monkeypatch):
    from kokuho.certificates import renewal

    def cut_off(run, progress, unprintable):
        raise RuntimeError("プロセスが停止しました")

    monkeypatch.setattr(renewal, "_print", cut_off)
    first = _renew()
    assert first.status == RenewalStatus.FAILED
    issued = IssuedDocument.objects.filter(renewal=first)
    assert issued.exists() and not issued.filter(batch__isnull=False).exists()
    monkeypatch.undo()

    second = _renew()

    assert second.status == RenewalStatus.DONE
    assert second.counts["issued"] == {}  # everyone was issued by the first run
    # The first run's documents are printed by the second, each once.
    assert not IssuedDocument.objects.filter(
        renewal__renewal_date=AUG1, status=DocumentStatus.VALID, batch__isnull=True
    ).exists()
    printed = sum(
        MailingBatch.objects.filter(renewal=second).values_list("document_count", flat=True)
    )
    assert printed == issued.filter(status=DocumentStatus.VALID).count()


def _deciding_queries(monkeypatch) -> list[str]:
    """The statements of a renewal's deciding stage (printing left out)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kokuho.certificates import renewal

    monkeypatch.setattr(renewal, "_print", lambda run, progress, unprintable: 0)
    with CaptureQueriesContext(connection) as queries:
        assert _renew().status == RenewalStatus.DONE
    # Serials are taken per type, and the first run creates their rows: left out.
    return [
        q["sql"]
        for q in queries.captured_queries
        if "certificates_documentserial" not in q["sql"]
        and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_deciding_costs_the_same_queries_for_a_bigger_town(monkeypatch):
    """A chunk is decided in a fixed number of queries, and the documents it replaces are read
    by person and type (the (person, type, status) index): read by status alone, PostgreSQL
    without statistics scanned every valid document of the city for each chunk, so deciding
    slowed down as the renewal issued (557 documents/s at a million residents)."""
    small_town = [make_insured() for _ in range(2)]
    small = _deciding_queries(monkeypatch)
    IssuedDocument.objects.all().delete()
    MailingBatch.objects.all().delete()
    town = small_town + [
        make_insured(household_no=small_town[0].household.household_no, relation="子")
        for _ in range(2)
    ]
    town += [make_insured() for _ in range(3)]
    big = _deciding_queries(monkeypatch)
    assert IssuedDocument.objects.count() == len(town)
    # (a statement or two may differ: the table statistics refreshed on PostgreSQL)
    assert abs(len(big) - len(small)) <= 2
    reads = [
        sql
        for sql in big
        if sql.lstrip().startswith("SELECT")
        and 'FROM "certificates_issueddocument"' in sql
        and "'valid'" in sql
        and '"person_id"' in sql
    ]
    assert reads and all('"doc_type"' in sql.split(" WHERE ", 1)[1] for sql in reads)


def test_statistics_refresh_analyses_only_what_needs_it():
    from django.db import connection

    from kokuho.certificates.renewal import statistics_refresh

    make_insured()
    first = statistics_refresh()
    if connection.vendor != "postgresql":
        assert first == []
        return
    assert statistics_refresh() == []  # analysed now: nothing to do again


def _batches_print(directory, unprintable=None):
    from kokuho.certificates.renewal import mailing_batches_print

    documents = IssuedDocument.objects.filter(renewal__renewal_date=AUG1)
    count = mailing_batches_print(
        documents,
        directory=directory,
        name="t",
        renewal=None,
        first_seq=1,
        progress=lambda *a: None,
        unprintable=unprintable,
    )
    files = sorted(directory.glob("*.pdf"))
    assert len(files) == count
    return [(f.name, f.read_bytes()) for f in files]


def test_batches_rendered_in_worker_processes_are_the_files_of_one_process(
    city, settings, tmp_path, monkeypatch
):
    """The PDFs are rendered in forked workers (this process renders none of them) and are
    the same bytes, in the same batches, as rendered here (reportlab's invariant mode: no
    creation time in the file)."""
    from reportlab import rl_config

    from kokuho.certificates import printing

    monkeypatch.setattr(rl_config, "invariant", 1)
    assert _renew().status == RenewalStatus.DONE
    rendered_here: list[int] = []
    real = printing.documents_render

    def counted(documents, *, mailed):
        rendered_here.append(len(documents))
        return real(documents, mailed=mailed)

    monkeypatch.setattr(printing, "documents_render", counted)
    settings.KOKUHO_PRINT_WORKERS = 1
    alone = _batches_print(tmp_path / "one")
    assert rendered_here == [2, 1]
    rendered_here.clear()
    settings.KOKUHO_PRINT_WORKERS = 2
    forked = _batches_print(tmp_path / "two")
    assert rendered_here == []  # the forked workers' calls are counted in their own copies
    assert forked == alone
    assert len(alone) == 2


def test_a_document_a_worker_refuses_is_left_out_and_the_rest_is_printed(city, settings, tmp_path):
    a, _b, _c, _gone = city
    assert _renew().status == RenewalStatus.DONE
    broken = IssuedDocument.objects.get(renewal__renewal_date=AUG1, person=a)
    broken.printed = {**broken.printed, "name": "資格 \U000e0100太郎"}  # not in the font
    IssuedDocument.objects.filter(pk=broken.pk).update(printed=broken.printed)
    settings.KOKUHO_PRINT_WORKERS = 2
    unprintable: dict[str, str] = {}
    files = _batches_print(tmp_path / "two", unprintable)
    assert list(unprintable) == [broken.serial]
    assert "フォントにない文字" in unprintable[broken.serial]
    pages = sum(len(PdfReader(io.BytesIO(content)).pages) for _, content in files)
    assert pages == 2  # the other two documents


def _issued_by_person() -> dict[int, tuple]:
    return {
        d.person_id: (d.doc_type, d.valid_from, d.valid_until, d.printed, d.status, d.replaces_id)
        for d in IssuedDocument.objects.filter(renewal__renewal_date=AUG1)
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_chunks_decided_in_worker_processes_issue_what_one_process_issues(
    settings, monkeypatch, tmp_path
):
    """On PostgreSQL, outside a caller's transaction, the chunks are decided in forked
    workers (each records its process id here) while this process issues; the documents are
    those one process issues — the same persons, types, validity, printed items and
    counts (only the serials' order may differ, as types are taken per chunk)."""
    from django.db import connection

    from kokuho.certificates import renewal

    if connection.vendor != "postgresql":
        pytest.skip("the renewal decides in one process on SQLite")
    town = [make_insured(birth_date=dt.date(1953 + i * 3, 1 + i % 12, 5)) for i in range(7)]
    town.append(make_insured(household_no=town[0].household.household_no, relation="子"))
    myna_status_record(person=town[1], status=MynaStatus.REGISTERED, as_of=AUG1, actor=None)
    monkeypatch.setattr(renewal, "CHUNK", 2)
    monkeypatch.setattr(renewal, "_print", lambda run, progress, unprintable: 0)
    pids = tmp_path / "pids"
    real = renewal.chunk_decide

    def recorded(chunk, day):
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(chunk, day)

    monkeypatch.setattr(renewal, "chunk_decide", recorded)
    settings.KOKUHO_READ_WORKERS = 1
    alone_run = _renew()
    alone = _issued_by_person()
    assert set(pids.read_text().split()) == {str(os.getpid())}
    IssuedDocument.objects.all().delete()
    pids.unlink()
    settings.KOKUHO_READ_WORKERS = 2
    forked_run = _renew()
    assert forked_run.status == RenewalStatus.DONE, forked_run.error
    deciders = pids.read_text().split()
    assert len(deciders) == 4 and str(os.getpid()) not in deciders
    assert _issued_by_person() == alone
    assert len(alone) == len(town)
    assert forked_run.counts["issued"] == alone_run.counts["issued"]
    assert forked_run.counts["skipped"] == alone_run.counts["skipped"]
