"""取込 on screen: upload → 取込依頼, its page polls while open and shows the result;
only roles that import may use it."""

import re

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import ROLE_PERMISSIONS, Perm, Role
from kokuho.interfaces.jobs import import_job_execute, import_job_submit
from kokuho.interfaces.models import ImportJob, ImportJobStatus, ImportKind
from kokuho.interfaces.tests.support import change
from kokuho.interfaces.tests.worker import upload
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db

ROWS = [
    change("1", "A01", "2026-04-01", "101", "501"),
    change("2", "A01", "2026-02-30", "102", "502"),  # quarantined: no such day
]


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings):
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    return settings.KOKUHO_UPLOAD_DIR


@pytest.fixture
def staff():
    return make_staff(role=Role.ELIGIBILITY)


@pytest.fixture
def clerk(client, staff):
    login_verified(client, staff)
    return client


def _job(staff) -> ImportJob:
    return import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=upload(ROWS), actor=staff)


def test_an_upload_becomes_a_queued_job_and_opens_its_page(clerk):
    response = clerk.post(
        reverse("imports"), {"kind": "residents_changes", "file": upload(ROWS, name="ido.csv")}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("import_job_detail", args=[job.pk])
    assert (job.status, job.kind, job.file_name) == ("queued", "residents_changes", "ido.csv")
    listing = clerk.get(reverse("imports")).content.decode()
    assert "ido.csv" in listing and "待機中" in listing


def test_an_oversized_file_is_refused_on_the_form(clerk, settings):
    settings.KOKUHO_UPLOAD_MAX_BYTES = 50
    response = clerk.post(reverse("imports"), {"kind": "residents_changes", "file": upload(ROWS)})
    assert response.status_code == 200
    assert "ファイルが大きすぎます" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_missing_file_or_kind_is_refused_on_the_form(clerk):
    response = clerk.post(reverse("imports"), {"kind": "tax"})
    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    body = response.content.decode()
    assert "このフィールドは必須です" in body  # the file
    assert "正しく選択してください" in body  # the kind


def test_the_page_polls_every_second_while_the_job_is_open(clerk, staff):
    job = _job(staff)
    body = clerk.get(reverse("import_job_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert "待機中" in body

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.RUNNING,
        started_at=job.created_at,
        done_rows=12345,
        total_rows=100000,
    )
    fragment = clerk.get(
        reverse("import_job_detail", args=[job.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment  # only the part that changes
    assert 'hx-trigger="every 1s"' in fragment
    assert "12,345 / 100,000 件" in fragment
    assert re.search(r'<progress id="job-progress"[^>]* max="100000" value="12345"', fragment)


def test_when_done_the_page_stops_polling_and_shows_the_summary(clerk, staff):
    job = _job(staff)
    import_job_execute(job_id=job.pk)

    fragment = clerk.get(
        reverse("import_job_detail", args=[job.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "hx-trigger" not in fragment
    assert "完了" in fragment and "2 / 2 件" in fragment
    summary = re.sub(r"\s+", "", fragment)
    for label, count in [("読込", 2), ("反映", 1), ("既取込", 0), ("保留", 1)]:
        assert f"<dt>{label}</dt><dd>{count}件" in summary
    assert "日付の誤り（change_date）" in fragment
    assert reverse("quarantine_list") in fragment


def test_a_rejected_file_shows_the_reason(clerk, staff):
    job = import_job_submit(
        kind=ImportKind.INCOME, upload=upload(ROWS, name="ido.csv"), actor=staff
    )  # a 住基異動 file sent as 所得
    import_job_execute(job_id=job.pk)
    body = clerk.get(reverse("import_job_detail", args=[job.pk])).content.decode()
    assert "取込拒否" in body and "必須の列がありません" in body
    assert "hx-trigger" not in body


@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_only_roles_that_import_may_use_the_screens(client, role, staff):
    job = _job(staff)
    user = make_staff(role=role)
    login_verified(client, user)
    allowed = Perm.IMPORT_FILES in ROLE_PERMISSIONS[role]

    pages = [reverse("imports"), reverse("import_job_detail", args=[job.pk])]
    for url in pages:
        assert client.get(url).status_code == (200 if allowed else 403), url
    posted = client.post(reverse("imports"), {"kind": "income", "file": upload([])})
    assert posted.status_code == (302 if allowed else 403)
    assert ImportJob.objects.count() == (2 if allowed else 1)
    nav = client.get(reverse("search")).content.decode()
    assert (f'href="{reverse("imports")}"' in nav) is allowed


def test_the_role_that_resolves_held_rows_is_the_one_that_imports():
    for role, permissions in ROLE_PERMISSIONS.items():
        assert (Perm.IMPORT_FILES in permissions) is (Perm.ELIGIBILITY_CHANGE in permissions), role
