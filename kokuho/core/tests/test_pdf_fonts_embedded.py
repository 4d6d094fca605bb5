"""Every PDF the product writes embeds every font it names (`pdffonts`: `emb yes` on each
line) — one test over all of them, not one per document: the demo's (証・通知, 高額療養費 and
給付 notices, 支払明細書 and 支払通知書, 減免, 返還金の納入通知 …), the daily 返還のお願い, the
自己点検 report and a 開示資料. reportlab names its initial font (Helvetica) in each page it
starts unless the canvas starts in IPAex (`core.pdf.japanese_canvas`)."""

import datetime as dt
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.benefits.kogaku.notice_data import decision_notice_pdf
from kokuho.benefits.models import KogakuDecision
from kokuho.certificates.daily import documents_daily
from kokuho.people.models import Person
from kokuho.subject_requests.models import RequesterKind, RequestKind
from kokuho.subject_requests.services import disclosure_produce, subject_request_receive
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])
PDFFONTS = shutil.which("pdffonts")


def fonts_of(path) -> list[str]:
    """pdffonts' lines for the file (after its two header lines)."""
    out = subprocess.run([PDFFONTS, str(path)], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[2:]


def not_embedded(path) -> list[str]:
    # columns: name type encoding emb sub uni object ID — `emb` is the 4th from the right.
    return [line for line in fonts_of(path) if line.split()[-4] != "yes"]


@pytest.mark.skipif(PDFFONTS is None, reason="pdffonts (poppler-utils) is installed by make setup")
def test_every_pdf_the_product_writes_embeds_its_fonts(tmp_path, settings):
    for name in ("VAR_DIR", "KOKUHO_DOCUMENT_DIR", "KOKUHO_PAYMENT_DIR", "KOKUHO_NATIONAL_DIR"):
        setattr(settings, name, tmp_path / name.lower())
    call_command("demo", households=150, seed=1, no_progress=True)
    documents_daily(on=timezone.localdate(), actor=None)
    month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    report = tmp_path / "inspection.pdf"
    call_command("audit", "self-inspection", "--month", f"{month:%Y-%m}", "--pdf", str(report))

    clerk = make_staff(role=Role.BENEFITS)
    decision = KogakuDecision.objects.order_by("pk").first()
    (tmp_path / "kogaku-notice.pdf").write_bytes(
        decision_notice_pdf(decision=decision, actor=clerk)
    )
    subject = subject_request_receive(
        kind=RequestKind.DISCLOSURE,
        atena_no=Person.objects.order_by("pk").first().atena_no,
        received_on=timezone.localdate(),
        requester=RequesterKind.SELF,
        identity_documents="マイナンバーカード",
        details="全部",
        actor=make_staff(role=Role.ELIGIBILITY),
    )
    disclosed = disclosure_produce(request=subject, fmt="pdf", actor=subject.received_by)
    (tmp_path / "disclosure.pdf").write_bytes(disclosed.content)

    pdfs = sorted(tmp_path.rglob("*.pdf"))
    written = [str(p.relative_to(tmp_path)) for p in pdfs]
    for kind in (
        "daily/return-letters-",  # the daily 返還のお願い
        "daily/daily-",  # the daily 証・通知 batch
        "renewal-",  # the 一斉更新's batch
        "benefit-notices-",  # 給付の決定通知書
        "/notices-",  # 支払通知書
        "/register.pdf",  # 支払明細書
        "demo/self-inspection-",  # the demo's 自己点検
        "inspection.pdf",
        "kogaku-notice.pdf",
        "disclosure.pdf",
        "cases/HS",  # the demo's 返還金の納入通知 (調査・求償の案件)
    ):
        assert any(kind in w for w in written), (kind, written)
    bad = {str(p.relative_to(tmp_path)): not_embedded(p) for p in pdfs if not_embedded(p)}
    assert bad == {}
    assert all(fonts_of(p) for p in pdfs)  # each names at least one font (pdffonts read it)


def test_no_pdf_canvas_is_made_outside_the_one_factory():
    """A canvas made elsewhere would start in Helvetica again: `Canvas(` only in core/pdf.py."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    makers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts and "Canvas(" in path.read_text(encoding="utf-8")
    ]
    assert makers == ["core/pdf.py"]
