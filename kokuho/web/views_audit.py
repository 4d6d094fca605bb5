"""重大事故等の管理 screens (監査担当): the incident register, its deadlines and timeline.

Thin like the counter screens: the forms parse 和暦 or 西暦 dates and times, the
`audit.services.incident_*` functions decide and write the audit events, the selectors
compute the 速報・確報 deadlines.
"""

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.models import Incident, IncidentKind, ReportKind
from kokuho.audit.selectors import incident_status, incidents_closed, incidents_open, local_date
from kokuho.audit.services import (
    IncidentError,
    incident_close,
    incident_mark_notified,
    incident_mark_reported,
    incident_note_add,
    incident_open,
)
from kokuho.core.wareki import WarekiError, parse_date
from kokuho.web.forms import DATE_HELP


def _day(value: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return parse_date(value)
    except WarekiError as error:
        raise forms.ValidationError(str(error)) from None


def _moment(day: dt.date, time: dt.time | None) -> dt.datetime:
    """A day (and time, if given) at the counter's clock, as an aware datetime."""
    naive = dt.datetime.combine(day, time or dt.time(0, 0))
    return timezone.make_aware(naive, timezone.get_current_timezone())


class IncidentForm(forms.Form):
    title = forms.CharField(label="件名", max_length=200)
    description = forms.CharField(label="概要", widget=forms.Textarea(attrs={"rows": 5}))
    kind = forms.ChoiceField(label="事態の種類", choices=IncidentKind.choices)
    discovered_on = forms.CharField(label="発覚日", max_length=30, help_text=DATE_HELP)
    discovered_time = forms.TimeField(label="発覚時刻", required=False, help_text="例: 14:30")
    occurred_on = forms.CharField(label="発生日（判明していれば）", max_length=30, required=False)
    wrongful_intent = forms.BooleanField(label="不正の目的によるおそれがある", required=False)
    persons_affected = forms.IntegerField(label="本人の数", min_value=0, required=False)
    includes_my_number = forms.BooleanField(label="特定個人情報（個人番号）を含む", required=False)
    reportable = forms.BooleanField(label="個人情報保護委員会への報告対象", required=False)

    def clean_discovered_on(self) -> dt.date:
        day = _day(self.cleaned_data["discovered_on"])
        if day is None:
            raise forms.ValidationError("発覚日を入力してください。")
        return day

    def clean_occurred_on(self) -> dt.date | None:
        return _day(self.cleaned_data["occurred_on"])

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        occurred = data["occurred_on"]
        return {
            "title": data["title"],
            "description": data["description"],
            "kind": IncidentKind(data["kind"]),
            "discovered_at": _moment(data["discovered_on"], data["discovered_time"]),
            "occurred_at": _moment(occurred, None) if occurred else None,
            "wrongful_intent": data["wrongful_intent"],
            "persons_affected": data["persons_affected"],
            "includes_my_number": data["includes_my_number"],
            "reportable": data["reportable"],
        }


class NoteForm(forms.Form):
    text = forms.CharField(label="経過記録", widget=forms.Textarea(attrs={"rows": 3}))


MARK_ACTIONS = {
    "preliminary": "速報を記録",
    "final": "確報を記録",
    "notified": "本人通知を記録",
    "close": "終結",
}


class MarkForm(forms.Form):
    action = forms.ChoiceField(choices=list(MARK_ACTIONS.items()))
    on = forms.CharField(label="日付", max_length=30, required=False, help_text="空欄は今日")
    time = forms.TimeField(label="時刻", required=False)
    note = forms.CharField(label="終結の理由・結果", required=False, max_length=2000)

    def clean_on(self) -> dt.date | None:
        return _day(self.cleaned_data["on"])

    def moment(self) -> dt.datetime:
        data = self.cleaned_data
        if data["on"] is None:
            return timezone.now()
        return _moment(data["on"], data["time"])


def _dates(incident: Incident) -> dict[str, dt.date | None]:
    """The register's timestamps as local dates, for the 和暦 filters."""
    fields = (
        "discovered_at",
        "occurred_at",
        "preliminary_reported_at",
        "final_reported_at",
        "persons_notified_at",
        "closed_at",
    )
    return {name: local_date(getattr(incident, name)) for name in fields}


@requires(Perm.INCIDENT_MANAGE)
def incident_list(request: HttpRequest) -> HttpResponse:
    """重大事故等の一覧: open incidents with their deadline state today, then closed ones."""
    today = timezone.localdate()
    context = {
        "today": today,
        "open": [(s, _dates(s.incident)) for s in incidents_open(on=today)],
        "closed": [(i, _dates(i)) for i in incidents_closed(limit=50)],
    }
    return render(request, "web/incident_list.html", context)


@requires(Perm.INCIDENT_MANAGE)
def incident_new(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = incident_open(actor=request.user, **form.service_arguments())
        except IncidentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"重大事故等「{incident.title}」を登録しました。")
            return redirect("incident_detail", incident_id=incident.pk)
    return render(request, "web/incident_form.html", {"form": form})


def _detail(request: HttpRequest, incident: Incident, **extra: Any) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "incident": incident,
        "dates": _dates(incident),
        "status": incident_status(incident=incident, on=today),
        "notes": [
            (note, local_date(note.written_at))
            for note in incident.notes.select_related("author__staff_profile")
        ],
        "note_form": NoteForm(),
        "mark_form": MarkForm(),
        "today": today,
        **extra,
    }
    status = 400 if extra.get("error") or extra.get("note_form") else 200
    return render(request, "web/incident_detail.html", context, status=status)


@requires(Perm.INCIDENT_MANAGE)
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Incident, pk=incident_id))


@require_POST
@requires(Perm.INCIDENT_MANAGE)
def incident_note(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, incident, note_form=form)
    try:
        incident_note_add(incident=incident, text=form.cleaned_data["text"], actor=request.user)
    except IncidentError as error:
        return _detail(request, incident, error=str(error))
    messages.success(request, "経過記録を追加しました。")
    return redirect("incident_detail", incident_id=incident.pk)


@require_POST
@requires(Perm.INCIDENT_MANAGE)
def incident_mark(request: HttpRequest, incident_id: int) -> HttpResponse:
    """速報・確報・本人通知の記録と終結: one button each on the detail page."""
    incident = get_object_or_404(Incident, pk=incident_id)
    form = MarkForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(e for field in form.errors.values() for e in field)
        return _detail(request, incident, error=errors)
    action = form.cleaned_data["action"]
    try:
        if action in (ReportKind.PRELIMINARY, ReportKind.FINAL):
            incident_mark_reported(
                incident=incident,
                kind=ReportKind(action),
                reported_at=form.moment(),
                actor=request.user,
            )
        elif action == "notified":
            incident_mark_notified(incident=incident, notified_at=form.moment(), actor=request.user)
        else:
            incident_close(incident=incident, note=form.cleaned_data["note"], actor=request.user)
    except IncidentError as error:
        return _detail(request, incident, error=str(error))
    messages.success(request, f"{MARK_ACTIONS[action]}しました。")
    return redirect("incident_detail", incident_id=incident.pk)
