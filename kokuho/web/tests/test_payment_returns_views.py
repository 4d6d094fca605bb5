"""振込不能の結果ファイルの取込 screen: every bad line shown and nothing kept, or what was kept
(count, total, the payments now 振込不能 work items) with the way to the held list; the bytes
never outlive the request; for 給付担当 only."""

import tempfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.payments.models import Payment, PaymentStatus
from kokuho.payments.tests.test_payment_run import PAY, _due, _run
from kokuho.testing import login_verified, make_person, make_staff

pytestmark = pytest.mark.django_db

HEADER = "支払日,顧客コード,不能理由"


@pytest.fixture(autouse=True)
def _dirs(tmp_path, settings, monkeypatch):
    settings.KOKUHO_PAYMENT_DIR = tmp_path / "payments"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


@pytest.fixture
def sent():
    first = _due(make_person(name="山田 太郎"), 1200)
    second = _due(make_person(name="佐藤 花子"), 3400)
    _run()
    return first, second


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


def _upload(client, *lines, name="result.csv", encoding="utf-8"):
    content = ("\n".join([HEADER, *lines]) + "\n").encode(encoding)
    return client.post(
        reverse("payment_returns"), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_the_runs_page_links_to_the_upload_form(client, clerk):
    assert reverse("payment_returns") in client.get(reverse("payment_runs")).content.decode()
    body = client.get(reverse("payment_returns")).content.decode()
    assert "振込不能の結果ファイル（CSV）" in body and 'enctype="multipart/form-data"' in body


def test_a_good_file_records_the_returns_and_lists_them(client, clerk, sent, _dirs):
    first, second = sent
    response = _upload(client, f"{PAY},{first.pk:010d},1")
    body = response.content.decode()
    assert response.status_code == 200
    assert "振込不能 1 件・1,200 円を記録しました" in body
    assert "山田 太郎" in body and f"{first.pk:010d}" in body and "口座なし" in body
    assert "佐藤 花子" not in body
    assert reverse("payments_held") + "?status=returned" in body
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == PaymentStatus.RETURNED and second.status != PaymentStatus.RETURNED
    event = AuditEvent.objects.filter(event_type=EventType.PAYMENT_RETURNED).get()
    assert event.subject_id == "payment-returns:result.csv"
    assert event.extra == {"returned": 1, "already": 0}
    assert list(_dirs.iterdir()) == []  # the temporary copy is gone

    again = _upload(client, f"{PAY},{first.pk:010d},1").content.decode()
    assert "振込不能 0 件・0 円を記録しました（記録済みの行 1 件）" in again
    assert "新たに記録した振込不能はありません" in again


def test_a_bad_file_shows_every_bad_line_and_keeps_nothing(client, clerk, sent, _dirs):
    first, second = sent
    response = _upload(
        client,
        f"{PAY},{first.pk:010d},1",
        f"{PAY},12345,1",
        f"{PAY},{second.pk:010d},5",
        name="kekka.csv",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "「kekka.csv」は取り込めませんでした" in body and "何も記録していません" in body
    assert "<td>3行目</td><td>顧客コード</td>" in body
    assert "<td>4行目</td><td>不能理由</td>" in body
    assert not Payment.objects.filter(status=PaymentStatus.RETURNED).exists()
    assert not AuditEvent.objects.filter(event_type=EventType.PAYMENT_RETURNED).exists()
    assert list(_dirs.iterdir()) == []


def test_lines_naming_no_transfer_are_refused_each(client, clerk, sent):
    body = _upload(client, "2026-12-21,0000000001,1", f"{PAY},0000999999,1").content.decode()
    assert "2026-12-21 の支払処理はありません" in body
    assert "0000999999 はありません" in body
    assert not Payment.objects.filter(status=PaymentStatus.RETURNED).exists()


def test_an_unreadable_file_is_refused_with_the_reason(client, clerk, sent):
    content = "支払日,口座,理由\n2026-12-18,1,1\n".encode()
    response = client.post(
        reverse("payment_returns"), {"file": SimpleUploadedFile("x.csv", content, "text/csv")}
    )
    body = response.content.decode()
    assert 'id="problem-list"' in body and "顧客コード" in body
    empty = client.post(
        reverse("payment_returns"), {"file": SimpleUploadedFile("x.csv", b"", "text/csv")}
    )
    assert "ファイルが空です。" in empty.content.decode()
    assert not Payment.objects.filter(status=PaymentStatus.RETURNED).exists()


def test_a_file_over_the_limit_is_refused(client, clerk, sent, settings, _dirs):
    first, _ = sent
    settings.KOKUHO_UPLOAD_MAX_BYTES = 20
    body = _upload(client, f"{PAY},{first.pk:010d},1").content.decode()
    assert 'id="file-error"' in body and "ファイルが大きすぎます" in body
    assert not Payment.objects.filter(status=PaymentStatus.RETURNED).exists()
    assert list(_dirs.iterdir()) == []


@pytest.mark.parametrize("role", [Role.COUNTER, Role.ELIGIBILITY])
def test_other_roles_are_refused_and_audited(client, sent, role):
    first, _ = sent
    login_verified(client, make_staff(role=role))
    url = reverse("payment_returns")
    assert client.get(url).status_code == 403
    assert _upload(client, f"{PAY},{first.pk:010d},1").status_code == 403
    denied = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED)
    assert denied.count() == 2 and {e.extra["path"] for e in denied} == {url}
    first.refresh_from_db()
    assert first.status != PaymentStatus.RETURNED
