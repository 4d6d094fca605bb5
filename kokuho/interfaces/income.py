"""所得 (tax data) — `income.csv`, interfaces.md §2.

One record per person and income year, applied with `income_record`, which handles 更正: a
later record for a year already held applies from the month after it was reported (the
run's `reported_on`). Only the layout's own rules are checked here (integers ≥ 0, flags
0/1); relations between the amounts are the tax system's business, not ours.
"""

from collections.abc import Mapping
from typing import Any

from kokuho.interfaces.importer import ApplyContext, Importer, RowRejected
from kokuho.interfaces.layout import Column, Layout, digits, flag, non_negative_int, text, year
from kokuho.interfaces.models import ImportErrorCode, ImportKind
from kokuho.people.income import IncomeValues, income_record
from kokuho.people.models import Income, Person

LAYOUT = Layout(
    title="所得",
    columns=(
        Column("record_id", "レコード番号", text(40), required=True, screen=False),
        Column("atena_no", "宛名番号", digits(15), required=True),
        Column("income_year", "所得年", year, required=True),
        Column("total_income", "総所得金額等", non_negative_int, required=True),
        Column("taxable", "課税標準額", non_negative_int, required=True),
        Column("tax_exempt", "住民税非課税", flag, required=True),
        Column("revenue", "収入額", non_negative_int, required=True),
        Column("pension_revenue", "公的年金等収入", non_negative_int, default=0),
        Column("pension_income", "公的年金等所得", non_negative_int, default=0),
        Column("unreported", "未申告", flag, default=False),
    ),
)


def income_apply(record: Mapping[str, Any], ctx: ApplyContext) -> None:
    person = Person.objects.filter(atena_no=record["atena_no"]).first()
    if person is None:
        raise RowRejected(
            "atena_no",
            f"宛名番号 {record['atena_no']} の住民が見つかりません",
            ImportErrorCode.UNKNOWN_RESIDENT,
        )
    income_record(
        person=person,
        income_year=record["income_year"],
        values=IncomeValues(
            total_income=record["total_income"],
            taxable=record["taxable"],
            tax_exempt=record["tax_exempt"],
            revenue=record["revenue"],
            pension_revenue=record["pension_revenue"],
            pension_income=record["pension_income"],
            unreported=record["unreported"],
        ),
        reported_on=ctx.reported_on,
        recorded_at=ctx.recorded_at,
    )


def income_explain(record: Mapping[str, Any], error: Exception) -> RowRejected:
    if isinstance(error, RowRejected):
        return error
    return RowRejected("", f"所得を登録できません: {error}", ImportErrorCode.REJECTED)


IMPORTER = Importer(
    kind=ImportKind.INCOME,
    layout=LAYOUT,
    apply=income_apply,
    explain=income_explain,
    source_prefix="所得",
    tables=(Income,),
)
