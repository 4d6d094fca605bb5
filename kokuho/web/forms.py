"""Input parsing for the counter screens; every error message is Japanese and specific."""

import datetime as dt
import unicodedata

from django import forms

from kokuho.core.kana import is_kana_query
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import WarekiError, parse_date
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

    def criteria(self) -> SearchCriteria:
        data = self.cleaned_data
        return SearchCriteria(
            kana=data["kana"], birth_date=data["birth"], atena_no=data["atena_no"]
        )


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
