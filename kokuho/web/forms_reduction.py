"""Forms of the 一部負担金減免, 高額介護合算 and 振込不能 screens.

Dates are typed as 和暦 or 西暦 (`DayField`), amounts with full-width digits and commas
(`NumberField`), as on the 給付の申請 form; field names are those the services' errors name
(`BenefitError.field`, `AccountError.field`), so a refusal is shown beside its field.
"""

import datetime as dt
import re
import unicodedata
from typing import Any

from django import forms

from kokuho.benefits.lifecycle.services import BenefitError, attachments_for
from kokuho.benefits.reduction.models import ReductionKind, ReductionReason
from kokuho.core.wareki import WarekiError, format_wareki_month, parse_date
from kokuho.payments.models import Benefit
from kokuho.payments.services import AccountError
from kokuho.people.models import Person
from kokuho.web.forms import DayField
from kokuho.web.forms_concurrency import VersionedForm
from kokuho.web.views_lifecycle import BenefitApplicationForm, NumberField

MONTH_HELP = "例: R8.4 / 令和8年4月 / 2026-04（その月の1日から）"


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


class MonthField(forms.CharField):
    """A month typed as 和暦 or 西暦 (`R8.4`, `令和8年4月`, `2026-04`); a full date is taken
    as its month. Cleaned to the month's first day."""

    def __init__(self, *, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", MONTH_HELP)
        super().__init__(
            label=label,
            max_length=30,
            error_messages={"required": f"{label}を入力してください。"},
            **kwargs,
        )
        self.month_label = label

    def clean(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        typed = _nfkc(text)
        candidates = [typed]
        if match := re.fullmatch(r"(.*[0-9元])\s*([-/.])\s*([0-9]{1,2})", typed):
            candidates.insert(0, f"{match[1]}{match[2]}{match[3]}{match[2]}1")
        elif typed.endswith("月"):
            candidates.insert(0, typed + "1日")
        for candidate in candidates:
            try:
                return parse_date(candidate).replace(day=1)
            except WarekiError:
                continue
        raise forms.ValidationError(f"{self.month_label}の形式が正しくありません（{MONTH_HELP}）")

    def prepare_value(self, value: Any) -> Any:
        return format_wareki_month(value) if isinstance(value, dt.date) else value


class RefusalMixin:
    """A service's refusal, beside its field when the form has it."""

    fields: dict[str, forms.Field]
    field_aliases: dict[str, str] = {}  # a service's field name → the form's

    def refused(self, error: BenefitError | AccountError) -> None:
        name = self.field_aliases.get(error.field, error.field)
        field = name if name in self.fields else None
        self.add_error(field, str(error))  # type: ignore[attr-defined]


# --- 一部負担金の減額・免除・徴収猶予 -------------------------------------------------------


class ReductionApplicationForm(RefusalMixin, forms.Form):
    """申請の受付: the insured person, the head who applies, the reason, the household's
    monthly income and savings as declared, the kind and the months asked for."""

    subject_atena_no = forms.CharField(
        label="対象の被保険者の宛名番号",
        max_length=15,
        error_messages={"required": "対象の被保険者の宛名番号を入力してください。"},
    )
    applicant_atena_no = forms.CharField(
        label="申請者（世帯主）の宛名番号",
        max_length=15,
        required=False,
        help_text="空欄のときは対象者の世帯の世帯主",
    )
    received_on = DayField(label="受付日")
    reason = forms.ChoiceField(
        label="申請の事由",
        choices=ReductionReason.choices,
        error_messages={"required": "申請の事由を選んでください。"},
    )
    reason_detail = forms.CharField(
        label="事由の内容",
        max_length=300,
        required=False,
        help_text="「その他」のときは必ず入力（例: 世帯主の長期入院による収入の減少）",
    )
    monthly_income = NumberField(
        label="世帯の実収月額（円）", help_text="申請月の見込み（証明書類による）"
    )
    savings = NumberField(label="世帯の預貯金（円）")
    members = NumberField(
        label="世帯の人数（人）", required=False, help_text="空欄のときは受付日の住民記録の世帯員数"
    )
    requested_kind = forms.ChoiceField(
        label="申請の種類",
        choices=ReductionKind.choices,
        error_messages={"required": "申請の種類を選んでください。"},
    )
    period_start = MonthField(label="希望する期間の初月")
    months = NumberField(label="希望する月数（か月）", initial=3, help_text="1回の決定は3か月まで")

    field_aliases = {"applicant": "applicant_atena_no", "subject": "subject_atena_no"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subject: Person | None = None
        self.applicant: Person | None = None

    def _person(self, name: str) -> Person | None:
        atena_no = _nfkc(self.cleaned_data[name])
        if not atena_no:
            return None
        person = Person.objects.select_related("household__head").filter(atena_no=atena_no).first()
        if person is None:
            raise forms.ValidationError(f"宛名番号「{atena_no}」の住民が見つかりません。")
        return person

    def clean_subject_atena_no(self) -> str:
        self.subject = self._person("subject_atena_no")
        return _nfkc(self.cleaned_data["subject_atena_no"])

    def clean_applicant_atena_no(self) -> str:
        self.applicant = self._person("applicant_atena_no")
        return _nfkc(self.cleaned_data["applicant_atena_no"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.subject is not None and self.applicant is None:
            self.applicant = self.subject.household.head
            if self.applicant is None and not self.errors.get("applicant_atena_no"):
                self.add_error(
                    "applicant_atena_no",
                    "世帯主が登録されていません。申請者（世帯主）の宛名番号を入力してください。",
                )
        return data


class ReductionDecideForm(VersionedForm):
    decided_on = DayField(label="決定日")


class ReductionExtendForm(VersionedForm):
    """延長: the household's figures now (blank: as on the application) and the months; the
    application's version as the page showed it."""

    monthly_income = NumberField(
        label="世帯の実収月額（円）", required=False, help_text="空欄のときは申請時の額"
    )
    savings = NumberField(
        label="世帯の預貯金（円）", required=False, help_text="空欄のときは申請時の額"
    )
    members = NumberField(
        label="世帯の人数（人）", required=False, help_text="空欄のときは申請時の人数"
    )
    months = NumberField(
        label="延長する月数（か月）", required=False, help_text="空欄のときは申請時の月数"
    )
    decided_on = DayField(label="決定日")

    def overrides(self) -> dict[str, int]:
        names = ("monthly_income", "savings", "members", "months")
        return {n: self.cleaned_data[n] for n in names if self.cleaned_data.get(n) is not None}


# --- 高額介護合算療養費の申請 ----------------------------------------------------------------

_APPLICATION_FIELDS = BenefitApplicationForm.base_fields
ACCOUNT_FIELDS = (
    "bank_code",
    "branch_code",
    "account_type",
    "account_number",
    "holder_kana",
    "yucho_symbol",
    "yucho_number",
)


class GassanApplicationForm(RefusalMixin, forms.Form):
    """The head's application for a computed household-year: 受付日, the 添付書類 and the
    account. The account fields and their reading are the 給付の申請 form's own, so the
    account is entered and previewed exactly as there."""

    received_on = DayField(label="受付日")
    bank_code = _APPLICATION_FIELDS["bank_code"]
    branch_code = _APPLICATION_FIELDS["branch_code"]
    account_type = _APPLICATION_FIELDS["account_type"]
    account_number = _APPLICATION_FIELDS["account_number"]
    yucho_symbol = _APPLICATION_FIELDS["yucho_symbol"]
    yucho_number = _APPLICATION_FIELDS["yucho_number"]
    holder_kana = _APPLICATION_FIELDS["holder_kana"]
    attachments = forms.MultipleChoiceField(
        label="添付書類（受領したもの）",
        required=False,
        choices=[
            (a.code, f"{a.label}{'（必須）' if a.required else ''}")
            for a in attachments_for(Benefit.GASSAN)
        ],
        widget=forms.CheckboxSelectMultiple,
    )

    # The 給付の申請 form's reading of the account fields (None when none was filled in).
    account = BenefitApplicationForm.account

    def account_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ACCOUNT_FIELDS]


# --- 振込不能の結果ファイル ------------------------------------------------------------------


class ReturnsUploadForm(forms.Form):
    file = forms.FileField(
        label="振込不能の結果ファイル（CSV）",
        help_text="見出し「支払日,顧客コード,不能理由」、UTF-8 または Shift_JIS（CP932）",
        error_messages={
            "required": "ファイルを選んでください。",
            "empty": "ファイルが空です。",
            "invalid": "ファイルを選んでください。",
        },
    )
