"""What the counter's application form asks for each benefit: the facts the benefit's rule
(`kokuho.benefits.lifecycle.rules`) reads, with their Japanese labels and input kinds, and
the label of the day each rule starts from."""

from dataclasses import dataclass
from typing import Any

from kokuho.payments.models import Benefit

# The day each benefit's rule starts from (the application's `event_date`).
EVENT_LABELS: dict[str, str] = {
    Benefit.SOSAI: "葬祭を行った日",
    Benefit.SHUSSAN: "出産日",
    Benefit.RYOYOHI: "支払った日",
    Benefit.KAIGAI: "海外の医療機関等に支払った日",
    Benefit.ISOUHI: "移送された日",
    Benefit.GASSAN: "基準日",
}


@dataclass(frozen=True)
class Fact:
    """One fact of a benefit as the form asks for it (the names `lifecycle.rules` reads)."""

    name: str
    label: str
    kind: str  # date / int / bool / text
    required: bool = False
    initial: Any = None
    unit: str = ""
    help: str = ""


FACTS: dict[str, tuple[Fact, ...]] = {
    Benefit.SOSAI: (
        Fact("death_date", "死亡日", "date", required=True),
        Fact("chief_mourner", "喪主（葬祭を行った者）の氏名", "text", required=True),
        Fact(
            "left_employee_insurance_on",
            "被用者保険の資格喪失日",
            "date",
            help="喪失後3か月以内の死亡は前の保険者から埋葬料が支給されます（該当しなければ空欄）",
        ),
    ),
    Benefit.SHUSSAN: (
        Fact("gestation_days", "妊娠日数", "int", required=True, unit="日"),
        Fact("children", "出生児数（死産を含む）", "int", required=True, initial=1, unit="人"),
        Fact("compensation_covered", "産科医療補償制度の対象", "bool", initial=True),
        Fact("direct_payment", "直接支払制度を利用した", "bool"),
        Fact(
            "delivery_cost",
            "出産費用",
            "int",
            unit="円",
            help="直接支払制度を利用したときは必ず入力（医療機関等へ支払う額の上限）",
        ),
        Fact("former_insurer_left_on", "前の被用者保険の資格喪失日", "date"),
        Fact("former_insurer_years", "前の被用者保険の被保険者期間", "int", unit="年"),
        Fact("former_insurer_claimed", "前の保険者に出産育児一時金を請求した", "bool"),
    ),
    Benefit.RYOYOHI: (
        Fact("service_date", "受診日・装具の装着日", "date", required=True),
        Fact(
            "fee_schedule_cost",
            "保険診療の費用額（療養費の算定額）",
            "int",
            required=True,
            unit="円",
        ),
        Fact("paid_amount", "支払った額", "int", required=True, unit="円"),
        Fact(
            "device_ceiling",
            "治療用装具の上限額",
            "int",
            unit="円",
            help="治療用装具のときだけ（告示の上限額）",
        ),
    ),
}
FACTS[Benefit.KAIGAI] = (
    Fact("service_date", "海外での受診日", "date", required=True),
    Fact("currency", "通貨（USD など）", "text", required=True),
    Fact("foreign_amount", "外国で支払った額（外貨）", "text", required=True),
    Fact(
        "exchange_rate",
        "為替レート（1通貨単位あたりの円）",
        "text",
        required=True,
        help="支給決定日の換算率（外国為替相場の売相場）",
    ),
    Fact("exchange_rate_date", "為替レートの日付（支給決定日）", "date", required=True),
    Fact("exchange_rate_source", "為替レートの出所", "text"),
    Fact(
        "japan_cost",
        "日本で同じ診療を受けた場合の費用額",
        "int",
        required=True,
        unit="円",
        help="国保連合会の審査・点数の見積りによる額",
    ),
    Fact("trip_for_treatment", "治療を目的とした渡航である", "bool"),
)
FACTS[Benefit.ISOUHI] = (
    Fact("actual_cost", "移送に要した費用（実費）", "int", required=True, unit="円"),
    Fact(
        "economical_cost", "最も経済的な通常の経路・方法による額", "int", required=True, unit="円"
    ),
    Fact("doctor_instruction", "医師が移送を必要と認めた", "bool"),
    Fact("approved_beforehand", "事前に承認した", "bool"),
    Fact("emergency", "緊急でやむを得ない移送だった", "bool"),
)

# Benefits applied for from a computed result (not typed on the form): what the page shows.
SHOWN_FACTS: dict[str, tuple[Fact, ...]] = {
    Benefit.GASSAN: (
        Fact("year", "計算期間の開始年（8月〜翌7月）", "int", unit="年"),
        Fact("result_excess", "世帯の超過額", "int", unit="円"),
        Fact("result_medical_share", "医療保険の負担分", "int", unit="円"),
        Fact("result_care_share", "介護保険の負担分", "int", unit="円"),
    )
}
