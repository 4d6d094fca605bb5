"""未照合レセプト screens (給付担当; 窓口担当 reads): the claims the import could not match,
filtered by 診療月 and reason with counts, and their resolution — 再照合 (the import's
matching again, once the cause is fixed), 被保険者を指定 (a person found by the usual
search), 返戻.

Thin: `benefits.claims_match` selects, matches, resolves and writes the audit events. As
on the other benefit screens, pages (GET) need 給付の閲覧 and every change is a POST to its
own URL needing 給付の決定. The list shows the claim's facts only — 記号・番号・枝番 as the
国保連合会 sent them, 診療月, 医療機関, 点数, 一部負担金 — never a name or My Number; a
claim's own page names the person it points to, as an audited access.
"""

import datetime as dt
import unicodedata
from collections import Counter
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.claims_match import (
    ClaimMatchError,
    claim_person_assign,
    claim_return,
    claims_rematch,
    claims_unmatched_open,
    claims_unmatched_summary,
    insured_in_month,
)
from kokuho.benefits.models import UNMATCHED, Claim, ClaimMatch
from kokuho.core.purposes import Purpose
from kokuho.eligibility.models import BranchNumber
from kokuho.eligibility.selectors import current_periods_by_person
from kokuho.people.models import Person
from kokuho.people.services import person_search_audited, person_view
from kokuho.web.forms import PersonSearchForm
from kokuho.web.queue import QueueFilterForm, clerk_choices, queue_list, queue_page_rows
from kokuho.workqueue.models import Queue
from kokuho.workqueue.queues import QUEUES
from kokuho.workqueue.selectors import queue_view

CLAIMS_PER_PAGE = 100
RECOMPUTE_NOTE = "この月の高額療養費は再計算の対象になります"


def _month_of(text: str) -> dt.date | None:
    """診療月 from the filter: `YYYY-MM` (or `YYYYMM`), full-width digits accepted."""
    value = unicodedata.normalize("NFKC", text or "").strip().replace("/", "-")
    if len(value) == 6 and value.isdigit():
        value = f"{value[:4]}-{value[4:]}"
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        return None


class FilterForm(forms.Form):
    month = forms.CharField(label="診療月", required=False, max_length=10, help_text="例: 2026-10")
    reason = forms.ChoiceField(
        label="理由",
        required=False,
        choices=[("", "すべて"), *[(m.value, m.label) for m in UNMATCHED]],
    )

    def clean_month(self) -> dt.date | None:
        text = self.cleaned_data["month"]
        if not text.strip():
            return None
        month = _month_of(text)
        if month is None:
            raise forms.ValidationError(
                f"診療月は YYYY-MM（例: 2026-10）で入力してください: '{text}'"
            )
        return month

    def clean_reason(self) -> ClaimMatch | None:
        value = self.cleaned_data["reason"]
        return ClaimMatch(value) if value else None


def _filters(data: Any) -> tuple[FilterForm, dt.date | None, ClaimMatch | None]:
    form = FilterForm(data)
    if not form.is_valid():
        return form, None, None
    return form, form.cleaned_data["month"], form.cleaned_data["reason"]


def _shown(request: HttpRequest, claims: list[Claim], screen: str) -> None:
    """The page showed these claims and the households their numbers name: one access event."""
    if not claims:
        return
    audit_event_record(
        event_type=EventType.HOUSEHOLD_VIEWED,
        actor=request.user,
        subject_type=SubjectType.SYSTEM,
        purpose=Purpose.NHI_BENEFITS,
        extra={
            "screen": screen,
            "claims_shown": [c.claim_id for c in claims],
            "households_shown": sorted(
                {c.household_number.household.household_no for c in claims if c.household_number}
            ),
        },
    )


@require_safe
@requires(Perm.BENEFITS_VIEW)
def claims_unmatched(request: HttpRequest) -> HttpResponse:
    """未照合レセプトの一覧: counts per reason and per month, the claims of the filter."""
    form, month, reason = _filters(request.GET)
    summary = claims_unmatched_summary(month=month)
    queue = queue_list(
        request,
        QUEUES[Queue.CLAIMS_UNMATCHED],
        claims_unmatched_open(month=month, reason=reason).select_related(
            "household_number__household"
        ),
    )
    page: Page = Paginator(queue.rows, CLAIMS_PER_PAGE).get_page(request.GET.get("page"))
    claims = queue_page_rows(queue, list(page.object_list))
    _shown(request, claims, "claims_unmatched")
    query = {"month": f"{month:%Y-%m}" if month else "", "reason": reason.value if reason else ""}
    context = {
        "form": form,
        "month": month,
        "reason": reason,
        "summary": summary,
        "reasons": [(m, summary.by_reason.get(m, 0)) for m in UNMATCHED],
        "page": page,
        "queue": queue,
        "claims": claims,
        "query": query,
        "query_string": "&".join(f"{k}={v}" for k, v in query.items() if v),
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/claims/unmatched.html", context)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def claims_rematch_view(request: HttpRequest) -> HttpResponse:
    """再照合 of the claims shown (the list's filter) or of those ticked."""
    form, month, reason = _filters(request.POST)
    scope = request.POST.get("scope", "")
    if not form.is_valid() or scope not in ("shown", "selected"):
        messages.error(
            request, "再照合する範囲（表示中のすべて・選択したもの）を指定してください。"
        )
        return redirect("claims_unmatched")
    claim_ids: list[int] | None = None
    spec = QUEUES[Queue.CLAIMS_UNMATCHED]
    view = QueueFilterForm(request.POST, clerks=clerk_choices(spec)).view()
    if scope == "shown" and (view.assignee or view.due):
        # 「表示中の条件のすべて」 narrowed by 担当・期限 too: exactly the claims the list showed.
        shown = queue_view(
            spec,
            view,
            user=request.user,
            today=timezone.localdate(),
            items=claims_unmatched_open(month=month, reason=reason),
        )
        claim_ids = list(shown.values_list("pk", flat=True))
        if not claim_ids:
            messages.error(request, "表示中の条件に当たるレセプトはありません。")
            return redirect(reverse("claims_unmatched") + _back_query(month, reason))
    if scope == "selected":
        claim_ids = [int(v) for v in request.POST.getlist("claim") if v.isdigit()]
        if not claim_ids:
            messages.error(request, "再照合するレセプトを選択してください。")
            return redirect(reverse("claims_unmatched") + _back_query(month, reason))
    outcome = claims_rematch(claim_ids=claim_ids, month=month, reason=reason, actor=request.user)
    households_per_month = Counter(m for _hh, m in outcome.pairs)
    context = {
        "outcome": outcome,
        "months": sorted(households_per_month.items()),
        "note": RECOMPUTE_NOTE,
        "back": reverse("claims_unmatched") + _back_query(month, reason),
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/claims/rematch_result.html", context)


def _back_query(month: dt.date | None, reason: ClaimMatch | None) -> str:
    parts = [f"month={month:%Y-%m}" if month else "", f"reason={reason.value}" if reason else ""]
    shown = "&".join(p for p in parts if p)
    return f"?{shown}" if shown else ""


# --- 1件の解消 ------------------------------------------------------------------------------


class AssignForm(forms.Form):
    atena_no = forms.CharField(
        label="宛名番号",
        max_length=20,
        error_messages={"required": "指定する被保険者の宛名番号を入力してください。"},
    )
    note = forms.CharField(label="備考（記号・番号の変更など）", max_length=200, required=False)

    def clean_atena_no(self) -> str:
        return unicodedata.normalize("NFKC", self.cleaned_data["atena_no"]).strip()


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label="返戻の理由",
        max_length=200,
        error_messages={"required": "返戻の理由を入力してください。"},
        help_text="例: 記号・番号の誤り（該当者なし）、資格喪失後の受診",
    )


def _candidates(people: list[Person], month: dt.date) -> list[dict[str, Any]]:
    """Search results with what the clerk decides on: insured in the 診療月, and the newest
    記号・番号・枝番 (two queries for the whole list)."""
    ids = [p.pk for p in people]
    periods = current_periods_by_person(person_ids=ids)
    numbers: dict[int, BranchNumber] = {}
    for number in (
        BranchNumber.objects.filter(person_id__in=ids)
        .select_related("household_number")
        .order_by("assigned_on", "id")
    ):
        numbers[number.person_id] = number  # the newest wins
    return [
        {
            "person": p,
            "insured": insured_in_month(periods[p.pk], month),
            "number": numbers.get(p.pk),
        }
        for p in people
    ]


def _detail_page(
    request: HttpRequest,
    claim_id: int,
    *,
    assign_form: AssignForm | None = None,
    return_form: ReturnForm | None = None,
) -> HttpResponse:
    claim = get_object_or_404(
        Claim.objects.select_related(
            "person", "household_number__household", "resolution__resolved_by"
        ),
        pk=claim_id,
    )
    _shown(request, [claim], "claim_unmatched_detail")
    if claim.person is not None:
        person_view(
            atena_no=claim.person.atena_no,
            actor=request.user,
            purpose=Purpose.NHI_BENEFITS,
            screen="claim_unmatched_detail",
        )
    resolution = getattr(claim, "resolution", None)
    search_form = PersonSearchForm(request.GET or None)
    candidates = None
    can_search = request.user.has_perm(Perm.PEOPLE_SEARCH)
    if can_search and search_form.is_bound and search_form.is_valid():
        criteria = search_form.criteria()
        if criteria.is_empty:
            search_form.add_error(
                None, "氏名カナ・生年月日・宛名番号のいずれかを入力してください。"
            )
        else:
            people = person_search_audited(
                criteria=criteria,
                actor=request.user,
                purpose=Purpose.NHI_BENEFITS,
                screen="claim_unmatched_detail",
            )
            candidates = _candidates(people, claim.service_month)
    context = {
        "claim": claim,
        "resolution": resolution,
        "open": resolution is None and claim.match in UNMATCHED,
        "search_form": search_form,
        "can_search": can_search,
        "candidates": candidates,
        "assign_form": assign_form or AssignForm(),
        "return_form": return_form or ReturnForm(),
        "note": RECOMPUTE_NOTE,
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/claims/unmatched_detail.html", context)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def claim_unmatched_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    """One unmatched claim: its facts, the person its number points to, a person search for
    被保険者を指定, and 返戻."""
    return _detail_page(request, claim_id)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def claim_assign_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    """被保険者を指定: the claim is matched to the person, inside their 資格 of the 診療月."""
    claim = get_object_or_404(Claim, pk=claim_id)
    form = AssignForm(request.POST)
    if form.is_valid():
        person = Person.objects.filter(atena_no=form.cleaned_data["atena_no"]).first()
        if person is None:
            form.add_error(
                "atena_no", f"宛名番号「{form.cleaned_data['atena_no']}」の住民が見つかりません。"
            )
        else:
            try:
                claim_person_assign(
                    claim=claim, person=person, actor=request.user, note=form.cleaned_data["note"]
                )
            except ClaimMatchError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(
                    request,
                    f"レセプト {claim.claim_id} を {person.name}（宛名番号 {person.atena_no}）に"
                    f"照合しました。{claim.service_month:%Y年%m月}: {RECOMPUTE_NOTE}。",
                )
                return redirect(
                    reverse("claims_unmatched") + _back_query(claim.service_month, None)
                )
    return _detail_page(request, claim_id, assign_form=form)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def claim_return_view(request: HttpRequest, claim_id: int) -> HttpResponse:
    """返戻: the claim goes back to the 国保連合会 with the reason and leaves the list."""
    claim = get_object_or_404(Claim, pk=claim_id)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            claim_return(claim=claim, reason=form.cleaned_data["reason"], actor=request.user)
        except ClaimMatchError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"レセプト {claim.claim_id} を返戻として記録しました。")
            return redirect(reverse("claims_unmatched") + _back_query(claim.service_month, None))
    return _detail_page(request, claim_id, return_form=form)
