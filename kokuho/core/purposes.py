"""The 事務 (purposes) for which this system may use specific personal information.

privacy.md §1: every read or change of a person's data names one of these, and the audit
event records it. Anything else is refused (番号法 9条: 利用範囲).
"""

from enum import StrEnum


class Purpose(StrEnum):
    """事務コード. The value is what audit events and the API carry."""

    NHI_ELIGIBILITY = "nhi_eligibility"
    NHI_BENEFITS = "nhi_benefits"
    INFO_LINKAGE_PROVIDE = "info_linkage_provide"
    INFO_LINKAGE_QUERY = "info_linkage_query"
    ONLINE_ELIGIBILITY = "online_eligibility"

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def legal_basis(self) -> str:
        return _LABELS[self][1]


_NHI_BASIS = "番号法9条1項 別表 (旧別表第一 30の項), 主務省令 24条"
_LABELS: dict[Purpose, tuple[str, str]] = {
    Purpose.NHI_ELIGIBILITY: ("国民健康保険の資格管理（加入・脱退・届出）", _NHI_BASIS),
    Purpose.NHI_BENEFITS: ("国民健康保険の保険給付の支給", _NHI_BASIS),
    Purpose.INFO_LINKAGE_PROVIDE: (
        "情報提供ネットワークシステムを通じた提供（副本登録）",
        "番号法19条8号 及び 主務省令",
    ),
    Purpose.INFO_LINKAGE_QUERY: (
        "情報照会（所得・公金受取口座 等）",
        "番号法19条8号 及び 主務省令; 公金受取口座登録法",
    ),
    Purpose.ONLINE_ELIGIBILITY: (
        "オンライン資格確認のための資格履歴管理・機関別符号取得",
        "番号法附則6条4項, 国民健康保険法113条の3",
    ),
}


class PurposeError(ValueError):
    """A purpose outside the allowed list was asked for (目的外利用)."""


def parse_purpose(value: str | None, *, default: Purpose | None = None) -> Purpose:
    if value in (None, "") and default is not None:
        return default
    try:
        return Purpose(value)
    except ValueError:
        raise PurposeError(f"許可されていない事務です: {value!r}") from None
