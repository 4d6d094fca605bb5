"""Input parsing for the counter screens; every error message is Japanese and specific."""

import datetime as dt
import re
import unicodedata
from typing import Any

from django import forms
from django.utils import timezone

from kokuho.core.kana import is_kana_query
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import WarekiError, format_wareki, parse_date
from kokuho.eligibility.selectors import insured_on_condition, person_ids_by_insured_number
from kokuho.identity.checks import IdentityCheck, NumberCheck
from kokuho.interfaces.models import ImportKind
from kokuho.people.selectors import SearchCriteria


def too_long(label: str, limit: int) -> dict[str, str]:
    """The server's length limit, said (the browser's `maxlength` would cut silently; the
    form renderer drops it, kokuho/web/echo.py)."""
    return {
        "max_length": f"{label}は{limit}文字以内で入力してください"
        "（%(show_value)d文字入力されています）。"
    }


class PersonSearchForm(forms.Form):
    kana = forms.CharField(
        label="氏名カナ（前方一致）",
        required=False,
        max_length=60,
        error_messages=too_long("氏名カナ", 60),
    )
    birth = forms.CharField(
        label="生年月日",
        required=False,
        max_length=30,
        help_text="例: 1960-05-10 / S35.5.10 / 昭和35年5月10日",
        error_messages=too_long("生年月日", 30),
    )
    atena_no = forms.CharField(
        label="宛名番号", required=False, max_length=20, error_messages=too_long("宛名番号", 20)
    )
    insured_no = forms.CharField(
        label="記号・番号（枝番）",
        required=False,
        max_length=50,
        help_text="資格確認書の記号と番号。例: 10-000123 / 10・000123・01",
        error_messages=too_long("記号・番号", 50),
    )

    status = forms.ChoiceField(
        label="絞り込み",
        required=False,
        choices=[("", "住民・消除者"), ("current", "住民のみ"), ("former", "消除者のみ")],
        error_messages={"invalid_choice": "絞り込みの値が正しくありません。"},
    )
    insured_only = forms.BooleanField(label="国保の被保険者のみ（本日）", required=False)
    heads_only = forms.BooleanField(label="世帯主のみ", required=False)

    @classmethod
    def from_query(cls, data: Any) -> "PersonSearchForm":
        """The form of the search page, or of the one box on every page (`q`): each word of
        the box goes to the field it reads as — a 記号・番号, digits (宛名番号), kana, or a
        date — and a word that reads as none is said, not dropped."""
        query = (data.get("q") or "").strip()
        if not query:
            return cls(data or None)
        fields, unread = quick_search_fields(query)
        form = cls(fields)
        form.unread = unread
        return form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unread: list[str] = []  # words of the one box that read as no field

    def clean_kana(self) -> str:
        value = self.cleaned_data["kana"].strip()
        if value and not is_kana_query(value):
            raise forms.ValidationError("氏名カナはカタカナまたはひらがなで入力してください。")
        return value

    def clean_birth(self) -> dt.date | None:
        value = self.cleaned_data["birth"].strip()
        if not value:
            return None
        try:
            return parse_date(value)
        except WarekiError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_atena_no(self) -> str:
        value = unicodedata.normalize("NFKC", self.cleaned_data["atena_no"]).strip()
        if value and not (value.isascii() and value.isdigit()):
            raise forms.ValidationError("宛名番号は数字で入力してください。")
        return value

    def clean_insured_no(self) -> tuple[str, str, str] | None:
        value = unicodedata.normalize("NFKC", self.cleaned_data["insured_no"]).strip()
        if not value:
            return None
        parsed = insured_number_read(value)
        if parsed is None:
            raise forms.ValidationError(
                "記号・番号は「記号-番号」又は「記号-番号-枝番」の形で入力してください"
                "（例: 10-000123）。"
            )
        return parsed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.unread:
            words = "」「".join(self.unread)
            raise forms.ValidationError(
                f"「{words}」は検索の条件として読めません。氏名カナ・生年月日・宛名番号・"
                "記号-番号のいずれかを、空白で区切って入力してください。"
            )
        return cleaned

    def criteria(self) -> SearchCriteria:
        data = self.cleaned_data
        number = data.get("insured_no")
        ids = None
        if number is not None:
            symbol, no, branch = number
            ids = tuple(person_ids_by_insured_number(symbol=symbol, number=no, branch=branch))
        return SearchCriteria(
            kana=data["kana"],
            birth_date=data["birth"],
            atena_no=data["atena_no"],
            insured_no="-".join(p for p in number if p) if number else "",
            person_ids=ids,
            status=data.get("status") or "",
            heads_only=bool(data.get("heads_only")),
            within=insured_on_condition(on=timezone.localdate())
            if data.get("insured_only")
            else None,
        )


# 記号・番号（・枝番）: the parts joined by a hyphen, a middle dot or a slash.
_INSURED_NO = re.compile(
    r"(?P<symbol>[0-9A-Za-z]{1,20})[-‐・･/](?P<number>[0-9]{1,20})(?:[-‐・･/](?P<branch>[0-9]{1,2}))?"
)


def insured_number_read(text: str) -> tuple[str, str, str] | None:
    """(記号, 番号, 枝番 or "") from what a clerk types (already NFKC), or None."""
    found = _INSURED_NO.fullmatch(text)
    if found is None:
        return None
    return found["symbol"], found["number"], found["branch"] or ""


def quick_search_fields(query: str) -> tuple[dict[str, str], list[str]]:
    """The one search box's words, each into the field it reads as (the first word for
    each field wins; the rest are `unread`)."""
    fields: dict[str, str] = {}
    unread: list[str] = []
    for word in unicodedata.normalize("NFKC", query).split():
        if insured_number_read(word) is not None:
            name = "insured_no"
        elif word.isascii() and word.isdigit():
            name = "atena_no"
        elif is_kana_query(word):
            name = "kana"
        else:
            try:
                parse_date(word)
                name = "birth"
            except WarekiError:
                name = ""
        if not name or name in fields:
            unread.append(word)
        else:
            fields[name] = word
    return fields, unread


NOTIFICATION_TYPES = [
    ("employee_insurance_join", "社会保険加入（社保加入日）"),
    ("employee_insurance_leave", "社会保険離脱（社保の資格喪失日）"),
    ("welfare_start", "生活保護開始（保護開始日）"),
    ("welfare_end", "生活保護廃止（保護廃止日）"),
    ("union_join", "国保組合加入（組合の資格取得日）"),
    ("union_leave", "国保組合喪失（組合の資格喪失日）"),
    ("facility_move_out", "住所地特例施設への転出（転出日）"),
    ("student_move_out", "修学のための転出（転出日）"),
]


class NotificationForm(forms.Form):
    """届出 at the counter: a fact from another insurer or the welfare office."""

    type = forms.ChoiceField(label="届出の種類", choices=NOTIFICATION_TYPES)
    date = forms.CharField(label="事実発生日", max_length=30, help_text="例: R8.6.15 / 2026-06-15")
    reported_on = forms.CharField(label="届出日", max_length=30, required=False)

    def _date(self, name: str) -> dt.date | None:
        value = self.cleaned_data[name].strip()
        if not value:
            return None
        try:
            return parse_date(value)
        except WarekiError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_date(self) -> dt.date | None:
        return self._date("date")

    def clean_reported_on(self) -> dt.date | None:
        return self._date("reported_on")

    def clean(self) -> dict:
        data = super().clean()
        fact, reported = data.get("date"), data.get("reported_on")
        if fact and reported and reported < fact:
            self.add_error("reported_on", "届出日が事実発生日より前です。")
        return data


class ImportUploadForm(forms.Form):
    """取込: a 住基異動 or 所得 file to hand to the background worker. The size limit is
    the service's rule (`import_job_submit`), reported on the file field."""

    kind = forms.ChoiceField(label="ファイルの種類", choices=ImportKind.choices)
    file = forms.FileField(label="ファイル（CSV）")


class MyNumberRevealForm(forms.Form):
    """個人番号の表示: the 事務 and the reason, both recorded."""

    purpose = forms.ChoiceField(label="事務", choices=[(p.value, p.label) for p in Purpose])
    reason = forms.CharField(label="表示する理由", max_length=200, min_length=2)


class MyNumberRegisterForm(forms.Form):
    """個人番号の登録 with 番号確認 and 身元確認."""

    purpose = forms.ChoiceField(label="事務", choices=[(p.value, p.label) for p in Purpose])
    my_number = forms.CharField(
        label="個人番号",
        max_length=20,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    number_check = forms.ChoiceField(label="番号確認", choices=NumberCheck.choices)
    identity_checks = forms.MultipleChoiceField(
        label="身元確認",
        choices=IdentityCheck.choices,
        widget=forms.CheckboxSelectMultiple,
    )


DATE_HELP = "例: R8.11.24 / 2026-11-24"


class DayField(forms.CharField):
    """A date typed as 和暦 or 西暦 (`R8.7.1`, `令和8年7月1日`, `2026-07-01`)."""

    def __init__(self, *, label: str, required: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", DATE_HELP)
        super().__init__(
            label=label,
            required=required,
            max_length=30,
            error_messages={"required": f"{label}を入力してください。"},
            **kwargs,
        )

    def clean(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().clean(value)  # required and max_length on the text as typed
        if not text:
            return None
        try:
            return parse_date(text)
        except WarekiError as error:
            raise forms.ValidationError(str(error)) from None

    def prepare_value(self, value: Any) -> Any:
        return format_wareki(value) if isinstance(value, dt.date) else value
