"""The installation's payment configuration: bank profiles and 振込依頼人 (payers).

A bank profile (`profiles/<name>.yaml`) says how one bank wants its 全銀 file (payments.md
§6.5): line breaks, EOF, 手形交換所番号, 振込指定区分, bank names, 顧客コード or EDI, lead
days and cut-off. The city's file (`KOKUHO_PAYMENT_CONFIG`, default the demo city's) names
the profile of its bank, the 依頼人口座 (the 国保特別会計's accounts) and which benefit is
paid from which. Both are checked when loaded: a wrong file stops a run before it starts.
"""

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from kokuho.payments.charset import zengin_is_valid
from kokuho.payments.models import Benefit

PROFILE_DIR = Path(__file__).parent / "profiles"
DEMO_CONFIG = Path(__file__).parent / "data" / "demo_payers.yaml"

_CHOICES = {
    "line_break": ("crlf", "none"),
    "clearing_house": ("0000", "blank"),
    "transfer_kind": ("7", "8", "blank"),
    "bank_names": ("required", "blank"),
    "customer_code": ("numeric", "edi"),
}


class PaymentConfigError(ValueError):
    """The payment configuration or a bank profile is malformed (file, key, reason)."""


@dataclass(frozen=True)
class BankProfile:
    name: str
    description: str
    line_break: str
    eof: bool
    clearing_house: str
    transfer_kind: str
    bank_names: str
    customer_code: str
    lead_days: int
    cutoff: str  # HH:MM, the bank's cut-off on the day the file is sent

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def cutoff_time(self) -> dt.time:
        return dt.time.fromisoformat(self.cutoff)


@dataclass(frozen=True)
class Payer:
    """振込依頼人: the city's account a benefit is paid from."""

    key: str
    code: str
    name: str
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: int
    account_number: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PaymentConfig:
    profile: BankProfile
    payers: dict[str, Payer]
    benefit_payer: dict[str, str]  # benefit code → payer key

    def payer_for(self, benefit: str) -> Payer:
        return self.payers[self.benefit_payer[benefit]]


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PaymentConfigError(f"{path}: 読めません: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise PaymentConfigError(f"{path}: YAML として読めません: {error}") from None
    if not isinstance(document, dict):
        raise PaymentConfigError(f"{path}: 対応表ではありません")
    return document


def profile_from_dict(document: dict[str, Any], where: str) -> BankProfile:
    for key, allowed in _CHOICES.items():
        if str(document.get(key)) not in allowed:
            raise PaymentConfigError(f"{where}: {key} は {' / '.join(allowed)} のいずれかです")
    try:
        dt.time.fromisoformat(str(document.get("cutoff")))
    except ValueError:
        raise PaymentConfigError(f"{where}: cutoff は HH:MM です") from None
    lead = document.get("lead_days")
    if not isinstance(lead, int) or isinstance(lead, bool) or not 0 <= lead <= 10:
        raise PaymentConfigError(f"{where}: lead_days は 0〜10 の整数です")
    if not isinstance(document.get("eof"), bool):
        raise PaymentConfigError(f"{where}: eof は true / false です")
    return BankProfile(
        name=str(document.get("name", "")),
        description=str(document.get("description", "")),
        line_break=str(document["line_break"]),
        eof=document["eof"],
        clearing_house=str(document["clearing_house"]),
        transfer_kind=str(document["transfer_kind"]),
        bank_names=str(document["bank_names"]),
        customer_code=str(document["customer_code"]),
        lead_days=lead,
        cutoff=str(document["cutoff"]),
    )


def bank_profile_load(name: str) -> BankProfile:
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.exists():
        raise PaymentConfigError(f"銀行別仕様 {name!r} がありません（{PROFILE_DIR}）")
    return profile_from_dict(_read(path), f"profiles/{name}.yaml")


def _payer(key: str, entry: Any, where: str) -> Payer:
    if not isinstance(entry, dict):
        raise PaymentConfigError(f"{where}: payers.{key} が対応表ではありません")
    digits = {"code": 10, "bank_code": 4, "branch_code": 3, "account_number": 7}
    for field, width in digits.items():
        value = str(entry.get(field, ""))
        if not (value.isascii() and value.isdigit() and len(value) == width):
            raise PaymentConfigError(f"{where}: payers.{key}.{field} は {width} 桁の数字です")
    for field, width, kind in (
        ("name", 40, "payee"),
        ("bank_name", 15, "bank"),
        ("branch_name", 15, "bank"),
    ):
        value = str(entry.get(field, ""))
        if not value or len(value) > width or not zengin_is_valid(value, kind=kind):
            raise PaymentConfigError(
                f"{where}: payers.{key}.{field} は全銀の文字（半角カナ等）で {width} 文字以内です"
            )
    if entry.get("account_type") not in (1, 2, 9):
        raise PaymentConfigError(f"{where}: payers.{key}.account_type は 1・2・9 です")
    return Payer(
        key=key,
        code=str(entry["code"]),
        name=str(entry["name"]),
        bank_code=str(entry["bank_code"]),
        bank_name=str(entry["bank_name"]),
        branch_code=str(entry["branch_code"]),
        branch_name=str(entry["branch_name"]),
        account_type=int(entry["account_type"]),
        account_number=str(entry["account_number"]),
    )


def payment_config_load(path: Path | None = None) -> PaymentConfig:
    """The installation's configuration (`KOKUHO_PAYMENT_CONFIG`), checked."""
    path = path or Path(getattr(settings, "KOKUHO_PAYMENT_CONFIG", "") or DEMO_CONFIG)
    document = _read(path)
    where = path.name
    profile = bank_profile_load(str(document.get("profile", "")))
    raw_payers = document.get("payers")
    if not isinstance(raw_payers, dict) or not raw_payers:
        raise PaymentConfigError(f"{where}: payers がありません")
    payers = {str(k): _payer(str(k), v, where) for k, v in raw_payers.items()}
    mapping = document.get("benefits")
    if not isinstance(mapping, dict):
        raise PaymentConfigError(f"{where}: benefits がありません")
    for benefit in Benefit.values:
        if str(mapping.get(benefit)) not in payers:
            raise PaymentConfigError(f"{where}: benefits.{benefit} の依頼人がありません")
    return PaymentConfig(profile, payers, {b: str(mapping[b]) for b in Benefit.values})
