"""振込不能の結果ファイルの取込 (給付担当): the bank's result file uploaded on the payments pages.

Thin: the file goes to `payment_returns_import`, the service `kokuho payments returns`
calls, which checks it whole (any bad line refuses the file: nothing is kept) and audits
the import (`payment_returned`, naming the file). The bytes are written to a private
temporary directory under the uploaded file's own name (so the audit names it as the CLI
does) and removed when the request ends, whatever happened. On success the page lists the
payments that became 振込不能 work items, read back from the file's lines.
"""

import re
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.kogaku.selectors import kogaku_households_shown
from kokuho.core.purposes import Purpose
from kokuho.interfaces.layout import ImportRejected, layout_read
from kokuho.payments.models import PaymentTransfer, TransferStatus
from kokuho.payments.returns import LAYOUT, ReturnFileError, payment_returns_import
from kokuho.web.forms_reduction import ReturnsUploadForm

PROBLEM = re.compile(r"(?P<line>\d+)行目(?: (?P<field>[^:：]+))?[:：] ?(?P<reason>.*)", re.S)


class UploadTooLarge(ValueError):
    pass


def _safe_name(name: str) -> str:
    """The uploaded file's base name, reduced to characters safe in a file name."""
    base = re.sub(r"[^\w.\-]", "_", Path(name or "").name).lstrip(".")
    return base[:100] or "result.csv"


def _write(upload: UploadedFile, directory: Path) -> Path:
    """Copy the upload, counting while copying (the limit holds whatever was declared)."""
    limit = settings.KOKUHO_UPLOAD_MAX_BYTES
    path = directory / _safe_name(upload.name or "")
    size = 0
    with path.open("wb") as out:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge(
                    f"ファイルが大きすぎます（上限 {limit // (1024 * 1024)} MB）。"
                    "サーバーで kokuho payments returns により取り込んでください。"
                )
            out.write(chunk)
    return path


def _lines_of(path: Path) -> list[tuple[Any, str]]:
    """(支払日, 顧客コード) of the file's valid lines; none when it cannot be read (the
    service then refuses it with the reason)."""
    try:
        _, rows = layout_read(path, LAYOUT)
        return [(r.record["支払日"], r.record["顧客コード"]) for r in rows if r.record is not None]
    except ImportRejected:
        return []


def _transfers(lines: list[tuple[Any, str]]) -> list[PaymentTransfer]:
    """The runs' transfers the lines name (one query)."""
    if not lines:
        return []
    wanted = set(lines)
    found = PaymentTransfer.objects.filter(
        run__pay_date__in={day for day, _ in lines}, customer_code__in={c for _, c in lines}
    ).select_related("run", "payment__person__household")
    return [t for t in found if (t.run.pay_date, t.customer_code) in wanted]


def _problem_rows(problems: list[str]) -> list[dict[str, str]]:
    rows = []
    for text in problems:
        match = PROBLEM.fullmatch(text)
        if match:
            rows.append(
                {
                    "line": match["line"],
                    "field": (match["field"] or "").strip(),
                    "reason": match["reason"],
                }
            )
        else:
            rows.append({"line": "", "field": "", "reason": text})
    return rows


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Perm.BENEFITS_DECIDE)
def payment_returns_upload(request: HttpRequest) -> HttpResponse:
    """振込不能の結果ファイルの取込: every bad line shown and nothing kept, or what was kept."""
    form = ReturnsUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "purpose": Purpose.NHI_BENEFITS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        context["file_name"] = Path(upload.name or "").name
        with tempfile.TemporaryDirectory(prefix="kokuho-returns-") as directory:
            try:
                path = _write(upload, Path(directory))
            except UploadTooLarge as error:
                form.add_error("file", str(error))
                return render(request, "web/payments/returns_upload.html", context)
            lines = _lines_of(path)
            before = {t.pk for t in _transfers(lines) if t.status == TransferStatus.RETURNED}
            try:
                summary = payment_returns_import(path=path, actor=request.user)
            except ReturnFileError as error:
                context["problems"] = _problem_rows(error.problems)
                return render(request, "web/payments/returns_upload.html", context)
        returned = [
            t
            for t in _transfers(lines)
            if t.status == TransferStatus.RETURNED and t.pk not in before
        ]
        kogaku_households_shown(
            household_nos=sorted(
                {t.payment.person.household.household_no for t in returned if t.payment.person}
            ),
            actor=request.user,
            screen="payment_returns_upload",
        )
        context |= {"summary": summary, "returned": returned}
    return render(request, "web/payments/returns_upload.html", context)
