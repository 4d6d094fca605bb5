"""Request and response shapes of the city's API (OpenAPI 3.1 components)."""

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict, create_model

from kokuho.cityapi.registry import MAX_RECORDS
from kokuho.interfaces.residents_changes import LAYOUT

# Longest text accepted in one item of a pushed record: far above any column of the layout
# (which checks its own lengths and quarantines an overlong value), low enough to bound a
# request.
ITEM_MAX_LENGTH = 1000


class ErrorOut(Schema):
    code: str = Field(description="エラーコード（例: INVALID_TOKEN, PERMISSION_DENIED, INVALID）")
    message: str = Field(description="理由（日本語）")
    field: str | None = Field(None, description="誤りのある項目（例: records[0].change_date）")
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="入力の誤りが複数あるときの一覧（field, message）"
    )


class PeriodOut(Schema):
    start: dt.date = Field(description="資格取得日")
    end: dt.date | None = Field(description="資格の最終日（喪失日の前日）。継続中は null")
    acquired: str = Field(description="取得事由")
    lost: str | None = Field(description="喪失事由")


class NumberOut(Schema):
    symbol: str = Field(description="記号")
    number: str = Field(description="番号")
    branch: str = Field(description="枝番")


class EligibilityOut(Schema):
    atena_no: str = Field(description="宛名番号")
    on: dt.date = Field(description="状態の基準日（本日）")
    insured: bool = Field(description="基準日に被保険者か")
    household_no: str | None = Field(description="世帯番号")
    periods: list[PeriodOut] = Field(description="資格期間（現在の版）")
    number: NumberOut | None = Field(description="記号・番号・枝番")
    insurer_number: str = Field(description="保険者番号")
    head_atena_no: str | None = Field(description="世帯主の宛名番号")
    head_insured: bool | None = Field(description="世帯主が被保険者か（false: 擬制世帯主）")
    copay_percent: int | None = Field(description="一部負担金の割合（%）")
    copay_reason: str = Field(description="負担割合の理由（未就学・高齢受給者 等）")


class ChangeOut(Schema):
    seq: int = Field(description="連番（次の since に使える）")
    atena_no: str = Field(description="宛名番号")
    version: int = Field(description="その人の資格履歴の版")
    recorded_at: dt.datetime = Field(description="記録日時")
    cause: str = Field(description="原因")
    fact_date: dt.date | None = Field(description="事実発生日")
    changed_from: dt.date | None = Field(description="変更が及ぶ最初の日")
    is_retroactive: bool = Field(description="遡及")
    periods: list[PeriodOut] = Field(description="この版の資格期間（全期間）")
    number: NumberOut | None = Field(description="記号・番号・枝番（最新）")


class ChangesOut(Schema):
    changes: list[ChangeOut]
    next_since: int = Field(description="次の呼出しの since")
    has_more: bool = Field(description="続きがあるか")


# One item per column of the file layout, so the two can never drift apart; all text, as
# in the file (dates as YYYY-MM-DD, YYYYMMDD or 和暦; flags "0"/"1").
class _Strict(Schema):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


RegistryChangeIn = create_model(
    "RegistryChangeIn",
    __base__=_Strict,
    **{
        column.name: (
            (str, Field(min_length=1, max_length=ITEM_MAX_LENGTH, description=column.label))
            if column.name == LAYOUT.id_column
            else (
                str | None,
                Field(None, max_length=ITEM_MAX_LENGTH, description=column.label),
            )
        )
        for column in LAYOUT.columns
    },
)


class RegistryPushIn(_Strict):
    records: list[RegistryChangeIn] = Field(  # type: ignore[valid-type]
        min_length=1,
        max_length=MAX_RECORDS,
        description="住基異動（residents-changes.csv と同じ項目名）",
    )


class RecordErrorOut(Schema):
    field: str | None
    code: str | None
    reason: str | None


class RecordResultOut(Schema):
    index: int = Field(description="送信した配列での位置（0から）")
    record_id: str = Field(description="異動連番")
    status: str = Field(description="applied（反映）/ quarantined（保留）/ skipped（取込済み）")
    errors: list[RecordErrorOut]


class RegistryPushOut(Schema):
    import_file_id: int = Field(description="取込番号（取込台帳・保留一覧と同じ）")
    read: int
    applied: int
    skipped: int
    quarantined: int
    results: list[RecordResultOut]
