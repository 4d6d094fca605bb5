"""Leak guard (privacy.md: 漏えい): run the demo, then look for every demo My Number in the
business database, the vault's stored bytes, the logs and output, the HTML staff see and
the messages of refused input — and find none (the vault's sealed rows excepted: they
must open to the same numbers)."""

import io
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.demo.numbers import demo_my_number
from kokuho.identity.services import VaultError, my_number_masked, my_number_register
from kokuho.identity.tests.test_vault_services import _database_text
from kokuho.national.onshi.files import national_file_open
from kokuho.people.models import Person
from kokuho.subject_requests.models import RequesterKind, RequestKind
from kokuho.subject_requests.services import disclosure_produce, subject_request_receive
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def _variants(number: str) -> list[str]:
    return [
        number,
        f"{number[:4]} {number[4:8]} {number[8:]}",
        f"{number[:4]}-{number[4:8]}-{number[8:]}",
    ]


def _found(numbers: list[str], text: str) -> list[str]:
    return [v for n in numbers for v in _variants(n) if v in text]


def test_no_demo_my_number_leaks_anywhere(var_dir, client, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    call_command("demo", households=25, seed=3, no_progress=True)
    persons = list(Person.objects.order_by("pk").values_list("pk", "atena_no"))
    numbers = [demo_my_number(pk) for pk, _atena in persons]
    assert len(numbers) > 40

    clerk = make_staff(role=Role.COUNTER)
    # They are in the vault, sealed: each opens to its number, masked for a clerk.
    for (_pk, atena_no), number in list(zip(persons, numbers, strict=True))[:5]:
        masked = my_number_masked(actor=clerk, atena_no=atena_no, purpose="nhi_eligibility")
        assert masked == f"**** **** {number[-4:]}"

    assert _found(numbers, _database_text("default")) == []
    assert _found(numbers, _database_text("vault")) == []

    # Refused input: the message never echoes the number.
    eligibility_clerk = make_staff(role=Role.ELIGIBILITY)
    with pytest.raises(VaultError) as duplicate:
        my_number_register(
            actor=eligibility_clerk,
            atena_no=persons[1][1],
            my_number=numbers[0],
            purpose="nhi_eligibility",
            number_check="my_number_card",
            identity_checks=["my_number_card"],
        )
    assert _found(numbers, str(duplicate.value)) == []

    # HTML staff see: search results, person pages (with the masked panel), households.
    client.force_login(clerk)
    pages = [client.get(reverse("search"), {"kana": "ア"}).content.decode()]
    for _pk, atena_no in persons[:15]:
        page = client.get(reverse("person_detail", args=[atena_no]))
        panel = client.get(reverse("my_number_panel", args=[atena_no]))
        assert page.status_code == panel.status_code == 200
        pages += [page.content.decode(), panel.content.decode()]
    assert "**** **** " in "".join(pages)
    assert _found(numbers, "".join(pages)) == []

    # A 開示資料 (both formats) and the export register that records it.
    subject = subject_request_receive(
        kind=RequestKind.DISCLOSURE,
        atena_no=persons[2][1],
        received_on=timezone.localdate(),
        requester=RequesterKind.SELF,
        identity_documents="マイナンバーカード",
        details="全部",
        actor=eligibility_clerk,
    )
    files = [
        disclosure_produce(request=subject, fmt=fmt, actor=eligibility_clerk).content
        for fmt in ("json", "pdf")
    ]
    disclosed = files[0].decode() + "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(files[1])).pages
    )
    assert f"**** **** {numbers[2][-4:]}" in disclosed
    assert _found(numbers, disclosed) == []
    assert _found(numbers, _database_text("default")) == []

    output = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert _found(numbers, output.out + output.err + logged) == []

    # Every file the demo wrote under var/ (the national links' files, results, spool,
    # PDFs' raw bytes) holds no number in clear: the オンライン資格確認 files carry them,
    # but only encrypted — opened through the vault's key, they are there.
    written = sorted(p for p in var_dir.rglob("*") if p.is_file())
    onshi = [p for p in written if p.name.endswith(".csv.enc")]
    assert onshi and any("national" in p.parts for p in written)
    for path in written:
        raw = path.read_bytes()
        text = raw.decode("utf-8", "replace") + raw.decode("cp932", "replace")
        assert _found(numbers, text) == [], path
    opened = var_dir / "opened.csv"
    national_file_open(path=onshi[-1], out=opened, actor=eligibility_clerk, reason="test")
    assert _found(numbers, opened.read_bytes().decode("cp932"))
    opened.unlink()
