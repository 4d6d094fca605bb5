"""Input parsing for the counter screens; every error message is Japanese and specific."""

import unicodedata
from datetime import date

from django import forms

from kokuho.core.kana import is_kana_query
from kokuho.core.wareki import WarekiError, parse_date
from kokuho.people.selectors import SearchCriteria


class PersonSearchForm(forms.Form):
    kana = forms.CharField(label="氏名カナ（前方一致）", required=False, max_length=60)
    birth = forms.CharField(
        label="生年月日",
        required=False,
        max_length=30,
        help_text="例: 1960-05-10 / S35.5.10 / 昭和35年5月10日",
    )
    atena_no = forms.CharField(label="宛名番号", required=False, max_length=20)

    def clean_kana(self) -> str:
        value = self.cleaned_data["kana"].strip()
        if value and not is_kana_query(value):
            raise forms.ValidationError("氏名カナはカタカナまたはひらがなで入力してください。")
        return value

    def clean_birth(self) -> date | None:
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
