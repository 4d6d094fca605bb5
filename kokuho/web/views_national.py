"""国保情報集約システム screens: 資格継続 work items (資格担当) and 高額該当引継 候補 (給付担当).

- 資格継続: the open items of the 資格継続チェック結果 with both sides' dates; accept the
  carried dates, or resolve with a reason. The list needs 資格の閲覧, each change is a POST to
  its own URL needing 資格の異動処理.
- 高額該当引継: the candidates, and one candidate's evidence side by side (the former city's
  members as the file states them, this city's as our records have them, the months with
  whether each counts for 多数回); confirm continuity or mark 非該当. Pages need 給付の閲覧,
  decisions 給付の決定.

Thin: `national.continuity` and `benefits.kogaku.carry_candidates` decide and audit.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.kogaku.carry_candidates import (
    KogakuCarryError,
    kogaku_carry_candidate_view,
    kogaku_carry_candidates,
    kogaku_carry_confirm,
    kogaku_carry_reject,
)
from kokuho.benefits.kogaku.workflow import KogakuError
from kokuho.benefits.models import CarryStatus, KogakuCarryCandidate
from kokuho.national.continuity import (
    CONTINUITY_KINDS,
    ContinuityError,
    continuity_item_accept,
    continuity_item_acceptable,
    continuity_item_resolve,
    continuity_items,
)
from kokuho.national.models import NationalWorkItem

_DATE_FIELDS = (
    ("former_applied_until", "転出元の適用終了"),
    ("new_applied_from", "転入先の適用開始"),
    ("carried_acquired_on", "引継ぎの資格取得年月日"),
    ("carried_lost_on", "引継ぎの資格喪失年月日"),
)


class NoteForm(forms.Form):
    note = forms.CharField(label="メモ（任意）", max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="理由",
        max_length=200,
        error_messages={"required": "理由を入力してください。"},
    )


# --- 資格継続 ------------------------------------------------------------------------------


def _dates(item: NationalWorkItem) -> list[tuple[str, dt.date | None]]:
    detail = item.detail or {}
    return [
        (label, dt.date.fromisoformat(detail[name]) if detail.get(name) else None)
        for name, label in _DATE_FIELDS
    ]


def _continuity_page(
    request: HttpRequest, *, failed: tuple[int, forms.Form] | None = None
) -> HttpResponse:
    failed_id, failed_form = failed or (None, None)
    rows = [
        {
            "item": item,
            "side": "転入先" if (item.detail or {}).get("side") == "1" else "転出元",
            "dates": _dates(item),
            "acceptable": continuity_item_acceptable(item),
            "form": failed_form if item.pk == failed_id else None,
        }
        for item in continuity_items()
    ]
    return render(request, "web/national_continuity.html", {"rows": rows})


@require_safe
@requires(Perm.ELIGIBILITY_VIEW)
def national_continuity(request: HttpRequest) -> HttpResponse:
    """The open 資格継続 work items."""
    return _continuity_page(request)


def _open_item(item_id: int) -> NationalWorkItem:
    return get_object_or_404(NationalWorkItem, pk=item_id, kind__in=CONTINUITY_KINDS)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def national_continuity_accept(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _open_item(item_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            continuity_item_accept(item=item, actor=request.user, note=form.cleaned_data["note"])
        except ContinuityError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{item.key}: 引継ぎの日付を採用しました。")
            return redirect("national_continuity")
    return _continuity_page(request, failed=(item.pk, form))


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def national_continuity_resolve(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _open_item(item_id)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            continuity_item_resolve(
                item=item, reason=form.cleaned_data["reason"], actor=request.user
            )
        except ContinuityError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{item.key}: 理由を付けて解決しました。")
            return redirect("national_continuity")
    return _continuity_page(request, failed=(item.pk, form))


# --- 高額該当引継 ---------------------------------------------------------------------------


@require_safe
@requires(Perm.BENEFITS_VIEW)
def national_carry_candidates(request: HttpRequest) -> HttpResponse:
    """The candidates: undecided by default, `?status=` for the decided ones."""
    status = request.GET.get("status", CarryStatus.CANDIDATE)
    if status not in CarryStatus.values:
        status = CarryStatus.CANDIDATE
    context = {
        "candidates": kogaku_carry_candidates(status=status),
        "status": status,
        "statuses": CarryStatus.choices,
    }
    return render(request, "web/national_carry_candidates.html", context)


def _candidate_page(
    request: HttpRequest,
    candidate_id: int,
    *,
    confirm: forms.Form | None = None,
    reject: forms.Form | None = None,
) -> HttpResponse:
    view = kogaku_carry_candidate_view(
        candidate_id=candidate_id, actor=request.user, screen="national_carry_candidate"
    )
    former = [
        m | {"birth": dt.date.fromisoformat(m["birth_date"]) if m.get("birth_date") else None}
        for m in view.candidate.evidence.get("former", [])
    ]
    stated = [
        m | {"birth": dt.date.fromisoformat(m["birth_date"]) if m.get("birth_date") else None}
        for m in view.candidate.evidence.get("ours", [])
    ]
    context = {
        "candidate": view.candidate,
        "members": view.members,
        "former": former,
        "stated": stated,
        "months": view.months,
        "undecided": view.candidate.status == CarryStatus.CANDIDATE,
        "confirm_form": confirm or NoteForm(),
        "reject_form": reject or ReasonForm(),
    }
    return render(request, "web/national_carry_candidate.html", context)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def national_carry_candidate(request: HttpRequest, candidate_id: int) -> HttpResponse:
    return _candidate_page(request, candidate_id)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def national_carry_confirm(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = get_object_or_404(KogakuCarryCandidate, pk=candidate_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            done = kogaku_carry_confirm(
                candidate=candidate, actor=request.user, note=form.cleaned_data["note"]
            )
        except KogakuError as error:  # also a carried month refused (KogakuCarriedError)
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"候補 {done.candidate_no}: 世帯の継続を確認し、{done.carried_months}か月を"
                "引継ぎとして記録しました（計算済みの月は月次計算をやり直してください）。",
            )
            return redirect("national_carry_candidate", candidate_id=candidate_id)
    return _candidate_page(request, candidate_id, confirm=form)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def national_carry_reject(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = get_object_or_404(KogakuCarryCandidate, pk=candidate_id)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            kogaku_carry_reject(
                candidate=candidate, reason=form.cleaned_data["reason"], actor=request.user
            )
        except KogakuCarryError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"候補 {candidate.candidate_no}: 非該当としました。")
            return redirect("national_carry_candidate", candidate_id=candidate_id)
    return _candidate_page(request, candidate_id, reject=form)
