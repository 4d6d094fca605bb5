"""Every inbound file format of the product, its valid base file, and how to run it.

`base_build()` makes the data the base files refer to (insured persons, a payment run, a
national file sent, …) once for the corpus; each format's base rows quote it. `RUNNERS`
call each format's real entry point — the service `kokuho import …`, the 取込 screen's job
and the other commands call — and say what happened as an `Outcome`, in the same terms for
every format; anything else the entry point raises is a traceback (the test fails).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from kokuho.interfaces.tests.corpus.generate import CsvFormat, RecordFormat

RECEIVED = dt.date(2026, 11, 10)  # the day of receipt of the files that have one
DECIDED = dt.date(2026, 11, 20)
PAY = dt.date(2026, 12, 18)
SENT = dt.datetime(2026, 12, 14, 10, 0)
EXPORTED = dt.date(2026, 4, 1)  # 基準日 of the 資格情報（個人） file the results answer
MOVED_IN = dt.date(2024, 5, 1)


@dataclass(frozen=True)
class Insured:
    atena_no: str
    symbol: str
    number: str
    branch: str
    birth: dt.date


@dataclass
class Base:
    insured: list[Insured]
    mothers: list[Insured]
    customer_codes: list[str]
    sent_keys: list[str]
    sequence: int
    continuity_key: list[str]  # the moved-in person's key items (insurer … acquired_on)
    clerk: Any = None  # the 給付担当 who imports the 国保連 files


def _numbers(person: Any) -> Insured:
    from kokuho.eligibility.models import BranchNumber

    number = (
        BranchNumber.objects.filter(person=person)
        .select_related("household_number")
        .order_by("-assigned_on", "-id")
        .first()
    )
    return Insured(
        person.atena_no,
        number.household_number.symbol,
        number.household_number.number,
        number.branch,
        person.birth_date,
    )


def base_build() -> Base:
    """The data every base file refers to (called once, inside the corpus' transaction)."""
    from kokuho.national.ledger import national_export
    from kokuho.national.models import Feed, SentState
    from kokuho.national.tests.builders import arrive
    from kokuho.payments.tests.test_payment_run import _due, _run
    from kokuho.people.models import Person

    insured = [
        arrive(f"95000000{n:02d}", f"96000000{n:02d}", birth=dt.date(1970, 1, n + 1))
        for n in range(1, 4)
    ]
    mothers = [
        arrive(
            f"95000001{n:02d}",
            f"96000001{n:02d}",
            sex=2,
            name="出産 花子",
            kana="シュッサン ハナコ",
        )
        for n in range(1, 4)
    ]
    moved = arrive(
        "9500000201", "9600000201", on=MOVED_IN, name="継続 一郎", kana="ケイゾク イチロウ"
    )
    payments = [_due(p, amount) for p, amount in zip(insured[:2], (1200, 3400), strict=True)]
    _run(PAY, sent_at=SENT)
    national_export(feed=Feed.SHUYAKU_PERSON, as_of=EXPORTED, full=True, actor=None)
    from kokuho.national.models import OutboundFile, OutboundRecord

    file = OutboundFile.objects.get(feed=Feed.SHUYAKU_PERSON, as_of=EXPORTED)
    keys = list(
        OutboundRecord.objects.filter(file=file).order_by("line_no").values_list("key", flat=True)
    )
    moved_key = SentState.objects.get(
        feed=Feed.SHUYAKU_PERSON, subject=Person.objects.get(atena_no=moved.atena_no).pk
    ).key
    from kokuho.accounts.permissions import Role
    from kokuho.testing import make_staff

    return Base(
        clerk=make_staff(role=Role.BENEFITS),
        insured=[_numbers(p) for p in insured],
        mothers=[_numbers(p) for p in mothers],
        customer_codes=[f"{p.pk:010d}" for p in payments],
        sent_keys=keys[:2],
        sequence=file.sequence,
        continuity_key=moved_key.split("|"),
    )


# --- the header-and-lines formats --------------------------------------------------------


def _residents_rows(b: Base) -> list[dict[str, str]]:
    new = {
        "change_code": "A01",
        "change_date": "2026-04-01",
        "relation": "世帯主",
        "name": "転入 太郎",
        "name_kana": "テンニュウ タロウ",
        "birth_date": "1980-01-01",
        "sex": "1",
        "postal_code": "799-0001",
        "address": "みかん市本町1-1",
    }
    return [
        new | {"record_id": "R0001", "atena_no": "9700000001", "household_no": "9800000001"},
        {
            "record_id": "R0002",
            "change_code": "C05",
            "change_date": "2026-04-02",
            "atena_no": b.insured[0].atena_no,
            "household_no": "9600000001",
            "relation": "世帯主",
            "name": "改名 太郎",
            "name_kana": "カイメイ タロウ",
        },
        new | {"record_id": "R0003", "atena_no": "9700000002", "household_no": "9800000002"},
    ]


def _income_rows(b: Base) -> list[dict[str, str]]:
    return [
        {
            "record_id": f"I{n:04d}",
            "atena_no": p.atena_no,
            "income_year": "2025",
            "total_income": str(1_500_000 + n),
            "taxable": "800000",
            "tax_exempt": "0",
            "revenue": "2500000",
            "pension_revenue": "",
            "pension_income": "",
            "unreported": "0",
        }
        for n, p in enumerate(b.insured, 1)
    ]


def _claims_rows(b: Base) -> list[dict[str, str]]:
    return [
        {
            "claim_id": f"C20261000{n:02d}",
            "service_month": "202610",
            "insurer_no": settings.KOKUHO_INSURER_NUMBER,
            "symbol": p.symbol,
            "number": p.number,
            "branch": p.branch,
            "provider": "3810000001",
            "setting": "2",
            "kind": "1",
            "prescribed_by": "",
            "points": "1000",
            "copay": "3000",
            "public_payer": "",
            "specific_disease": "0",
            "limit_applied": "0",
        }
        for n, p in enumerate(b.insured, 1)
    ]


def _myna_rows(b: Base) -> list[dict[str, str]]:
    return [
        {
            "record_id": f"M{n:04d}",
            "insurer_no": settings.KOKUHO_INSURER_NUMBER,
            "symbol": p.symbol,
            "number": p.number,
            "branch": p.branch,
            "status": "1",
            "as_of": "2026-10-01",
        }
        for n, p in enumerate(b.insured, 1)
    ]


def _entrusted_rows(b: Base) -> list[dict[str, str]]:
    return [
        {
            "処理年月": "202611",
            "施術区分": "1",
            "施術所コード": "J000000001",
            "施術所名": "みかん接骨院",
            "記号": p.symbol,
            "番号": p.number,
            "枝番": p.branch,
            "施術年月": "202610",
            "施術日数": "5",
            "費用額": "10000",
            "一部負担金": "3000",
            "請求額": "7000",
        }
        for p in b.insured
    ]


def _childbirth_rows(b: Base) -> list[dict[str, str]]:
    return [
        {
            "処理年月": "202611",
            "医療機関コード": "H000000001",
            "医療機関名": "みかん産院",
            "記号": p.symbol,
            "番号": p.number,
            "枝番": p.branch,
            "出産日": f"2026-10-0{n}",
            "出産費用": "500000",
            "産科医療補償制度": "1",
            "妊娠週数": "39",
        }
        for n, p in enumerate(b.mothers, 1)
    ]


def _returns_rows(b: Base) -> list[dict[str, str]]:
    return [
        {"支払日": PAY.isoformat(), "顧客コード": code, "不能理由": reason}
        for code, reason in zip(b.customer_codes, ("1", "3"), strict=True)
    ]


def _public_rows(b: Base) -> list[dict[str, str]]:
    return [
        {
            "宛名番号": p.atena_no,
            "生年月日": p.birth.isoformat(),
            "照会日": "2026-11-01",
            "金融機関コード": "0001",
            "店舗コード": "001",
            "預金種目": "1",
            "口座番号": f"123456{n}",
            "口座名義": "レンケイ タロウ",
        }
        for n, p in enumerate(b.insured, 1)
    ]


def _certificate_rows(b: Base) -> list[dict[str, str]]:
    return [
        {
            "証明書番号": f"K20250000{n:02d}",
            "宛名番号": p.atena_no,
            "生年月日": p.birth.isoformat(),
            "計算期間開始年": "2025",
            "介護保険者番号": "389999",
            "介護自己負担額": str(120_000 + n),
        }
        for n, p in enumerate(b.insured, 1)
    ]


def _header(module: str) -> tuple[str, ...]:
    import importlib

    return tuple(importlib.import_module(module).LAYOUT.names)


def csv_formats() -> dict[str, CsvFormat]:
    return {
        "residents_changes": CsvFormat(
            "residents_changes",
            "residents-changes.csv",
            _header("kokuho.interfaces.residents_changes"),
            _residents_rows,
            date="change_date",
            digits="atena_no",
            kana="name_kana",
            free="name",
            free_max=60,
            required="change_code",
            unknown=lambda r: {"atena_no": "9999999999"},
            changed=lambda r: r | {"name": "別名 太郎"},
        ),
        "income": CsvFormat(
            "income",
            "income.csv",
            _header("kokuho.interfaces.income"),
            _income_rows,
            date="income_year",
            digits="atena_no",
            amount="total_income",
            required="income_year",
            unknown=lambda r: {"atena_no": "9999999999"},
            changed=lambda r: r | {"total_income": "1"},
        ),
        "claims": CsvFormat(
            "claims",
            "claims-202610.csv",
            _header("kokuho.interfaces.claims"),
            _claims_rows,
            date="service_month",
            digits="insurer_no",
            amount="points",
            required="provider",
            unknown=lambda r: {"symbol": "99", "number": "999999"},
            changed=lambda r: r | {"points": "2000"},
            wareki="R8.10",
        ),
        "myna_status": CsvFormat(
            "myna_status",
            "myna-status.csv",
            _header("kokuho.interfaces.myna"),
            _myna_rows,
            date="as_of",
            digits="insurer_no",
            required="status",
            unknown=lambda r: {"number": "999999"},
            changed=lambda r: r | {"status": "2"},
        ),
        "entrusted": CsvFormat(
            "entrusted",
            "jusei-202611.csv",
            _header("kokuho.benefits.entrusted.jusei"),
            _entrusted_rows,
            date="施術年月",
            digits="施術日数",
            amount="費用額",
            free="施術所名",
            free_max=60,
            required="施術所コード",
            unknown=lambda r: {"番号": "999999"},
            changed=lambda r: r | {"施術日数": "6"},
            wareki="R8.10",
        ),
        "childbirth": CsvFormat(
            "childbirth",
            "chokusetsu-202611.csv",
            _header("kokuho.benefits.entrusted.childbirth"),
            _childbirth_rows,
            date="出産日",
            digits="妊娠週数",
            amount="出産費用",
            free="医療機関名",
            free_max=60,
            required="医療機関コード",
            unknown=lambda r: {"番号": "999999"},
            changed=lambda r: r | {"出産費用": "480000"},
            wareki="R8.10.2",
        ),
        "payment_returns": CsvFormat(
            "payment_returns",
            "furikomi-funo.csv",
            _header("kokuho.payments.returns"),
            _returns_rows,
            date="支払日",
            digits="顧客コード",
            required="不能理由",
            unknown=lambda r: {"顧客コード": "9999999999"},
            changed=lambda r: r | {"不能理由": "9"},
            wareki="R8.12.18",
        ),
        "public_accounts": CsvFormat(
            "public_accounts",
            "kokin-shokai.csv",
            _header("kokuho.payments.public_accounts"),
            _public_rows,
            date="照会日",
            digits="宛名番号",
            kana="口座名義",
            free="口座名義",
            free_max=60,
            required="金融機関コード",
            unknown=lambda r: {"宛名番号": "9999999999"},
            changed=lambda r: r | {"口座番号": "7654321"},
            wareki="R8.11.1",
        ),
        "care_certificates": CsvFormat(
            "care_certificates",
            "kaigo-shomei.csv",
            _header("kokuho.benefits.gassan.yearly"),
            _certificate_rows,
            date="生年月日",
            digits="宛名番号",
            amount="介護自己負担額",
            required="介護保険者番号",
            unknown=lambda r: {"宛名番号": "9999999999"},
            changed=lambda r: r | {"介護自己負担額": "1"},
            wareki="S45.1.3",
        ),
    }


# --- the record formats (国保情報集約システム, 中間サーバー) -------------------------------------


def _result_data(b: Base) -> list[str]:
    return [f"2,{b.sent_keys[0]},0,,", f"2,{b.sent_keys[1]},1,E101,生年月日が住基と一致しません"]


def _continuity_data(b: Base) -> list[str]:
    insurer, symbol, number, branch, acquired = b.continuity_key
    return [
        f"2,{insurer},{symbol},{number},{branch},{acquired},1,1,380014,20240430,20240501,"
        "20190401,,県内転入（継続）",
    ]


def _candidate_data(b: Base) -> list[str]:
    p = b.insured[2]
    head = f"380014,20,000123,{settings.KOKUHO_INSURER_NUMBER},{p.symbol},{p.number}"
    return [
        f"2,K0000001,1,1,{head},202510,1,,,,,",
        f"2,K0000001,1,2,{head},202601,1,,,,,",
        f"2,K0000001,2,1,{head},,,引継 太郎,ヒキツギ タロウ,19700110,1,世帯主",
    ]


def record_formats() -> dict[str, RecordFormat]:
    ins = settings.KOKUHO_INSURER_NUMBER
    return {
        "national_result": RecordFormat(
            "national_result", "shuyaku-result.csv",
            lambda b: f"1,shuyaku_result,C0.1,{ins},shuyaku_person,{b.sequence}",
            _result_data, date_item=None, digit_item=2, text_item=4, item_row=1,
        ),
        "continuity": RecordFormat(
            "continuity", "shuyaku-continuity.csv",
            lambda b: f"1,shuyaku_continuity,C0.1,{ins},1,20250410",
            _continuity_data, date_item=5, digit_item=4, text_item=13,
        ),
        "carry_candidates": RecordFormat(
            "carry_candidates", "shuyaku-kogaku-candidate.csv",
            lambda b: f"1,shuyaku_kogaku_candidate,C0.1,{ins},7,20260801",
            _candidate_data, date_item=14, digit_item=3, text_item=12, text_max=60, item_row=2,
        ),
        "info_query": RecordFormat(
            "info_query", "info-query-result.csv",
            lambda b: f"1,info_query_result,D0.1,{ins},20261120",
            lambda b: ["2,1000000000000000000001,100000000000001,0,,,a=b",
                       "2,1000000000000000000002,100000000000002,1,E1,該当なし,"],
            date_item=None, digit_item=1, text_item=5,
        ),
    }  # fmt: skip


# --- running a file through its entry point -----------------------------------------------


@dataclass
class Outcome:
    """What an entry point did with a file, in the same terms for every format."""

    refused: str | None = None  # the refusal's message (the file was refused whole)
    applied: int = 0
    held: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, code)
    reasons: list[str] = field(default_factory=list)  # the held rows' reasons
    reported: list[str] = field(default_factory=list)  # applied but listed for staff


def _interfaces(service: str, **kw: Any) -> Callable[[Path, Base], Outcome]:
    def run(path: Path, base: Base) -> Outcome:
        from kokuho.interfaces import services
        from kokuho.interfaces.models import ImportFile, QuarantinedRow

        try:
            summary = getattr(services, service)(path=path, actor=None, **kw)
        except services.ImportRejected as error:
            recorded = ImportFile.objects.filter(file_name=path.name).order_by("-pk").first()
            assert recorded is not None and recorded.rejected_reason == error.reason
            return Outcome(refused=str(error))
        rows = QuarantinedRow.objects.filter(file_id=summary.import_file_id).order_by("line", "pk")
        return Outcome(
            applied=summary.applied,
            held=[(r.line, r.field, r.code) for r in rows],
            reasons=[r.reason for r in rows],
            reported=[f"{k}: {n}" for k, n in summary.reported.items()],
        )

    return run


def _entrusted(path: Path, base: Base) -> Outcome:
    from kokuho.benefits.entrusted.common import BatchFileError
    from kokuho.benefits.entrusted.jusei import entrusted_import

    try:
        summary = entrusted_import(path=path, actor=base.clerk, decided_on=DECIDED)
    except BatchFileError as error:
        return Outcome(refused=str(error))
    return Outcome(
        applied=summary.batch.decided_count,
        reported=[
            f"{x.line_no}行目 {x.get_status_display()}: {x.reason}"
            for x in [*summary.unmatched, *summary.duplicates]
        ],
    )


def _childbirth(path: Path, base: Base) -> Outcome:
    from kokuho.benefits.entrusted.childbirth import childbirth_import
    from kokuho.benefits.entrusted.common import BatchFileError

    try:
        summary = childbirth_import(path=path, actor=base.clerk, decided_on=DECIDED)
    except BatchFileError as error:
        return Outcome(refused=str(error))
    return Outcome(
        applied=summary.batch.decided_count,
        reported=[
            f"{x.line_no}行目 {x.get_status_display()}: {x.reason}"
            for x in [*summary.unmatched, *summary.duplicates]
        ],
    )


def _returns(path: Path, base: Base) -> Outcome:
    from kokuho.payments.returns import ReturnFileError, payment_returns_import

    try:
        summary = payment_returns_import(path=path, actor=None)
    except ReturnFileError as error:
        return Outcome(refused=str(error))
    return Outcome(
        applied=summary.returned,
        reported=[f"記録済み {summary.already}件"] if summary.already else [],
    )


def _public(path: Path, base: Base) -> Outcome:
    from kokuho.payments.public_accounts import PublicAccountFileError, public_accounts_import

    try:
        summary = public_accounts_import(path=path, actor=None)
    except PublicAccountFileError as error:
        return Outcome(refused=str(error))
    reported = [f"変更なし {summary.unchanged}件"] if summary.unchanged else []
    reported += [f"申請の口座を優先 {a}" for a in summary.kept_applicant]
    reported += [f"保留 {a}" for a in summary.held]
    return Outcome(applied=summary.kept, reported=reported)


def _certificates(path: Path, base: Base) -> Outcome:
    from kokuho.benefits.gassan.yearly import CertificateFileError, care_certificates_import

    try:
        summary = care_certificates_import(path=path)
    except CertificateFileError as error:
        return Outcome(refused=str(error))
    return Outcome(
        applied=summary.kept,
        reported=[f"記録済み {summary.already}件"] if summary.already else [],
    )


def _national_result(path: Path, base: Base) -> Outcome:
    from kokuho.national.results import NationalResultRejected, national_result_import

    try:
        outcome = national_result_import(path=path, actor=None)
    except NationalResultRejected as error:
        return Outcome(refused=str(error))
    return Outcome(
        applied=outcome.accepted + outcome.rejected,
        reported=[f"送信していないレコード {k}" for k in outcome.unknown],
    )


def _continuity(path: Path, base: Base) -> Outcome:
    from kokuho.national.continuity import continuity_result_import
    from kokuho.national.inbound import NationalInboundRejected

    try:
        outcome = continuity_result_import(path=path, actor=None)
    except NationalInboundRejected as error:
        return Outcome(refused=str(error))
    return Outcome(applied=outcome.opened + outcome.already_open, reported=outcome.problems)


def _candidates(path: Path, base: Base) -> Outcome:
    from kokuho.benefits.kogaku.carry_candidates import kogaku_carry_candidates_import
    from kokuho.national.inbound import NationalInboundRejected

    try:
        outcome = kogaku_carry_candidates_import(path=path, actor=None)
    except NationalInboundRejected as error:
        return Outcome(refused=str(error))
    return Outcome(applied=outcome.created, reported=outcome.problems)


def _info_query(path: Path, base: Base) -> Outcome:
    from kokuho.intermediary.services import InfoQueryError, info_query_results_import

    try:
        outcome = info_query_results_import(path=path, actor=None)
    except InfoQueryError as error:
        return Outcome(refused=str(error))
    return Outcome(applied=outcome.answered + outcome.errors, reported=outcome.unknown)


RUNNERS: dict[str, Callable[[Path, Base], Outcome]] = {
    "residents_changes": _interfaces("import_residents_changes"),
    "income": _interfaces("import_income", reported_on=RECEIVED),
    "claims": _interfaces("import_claims", reported_on=RECEIVED),
    "myna_status": _interfaces("import_myna_status", reported_on=RECEIVED),
    "entrusted": _entrusted,
    "childbirth": _childbirth,
    "payment_returns": _returns,
    "public_accounts": _public,
    "care_certificates": _certificates,
    "national_result": _national_result,
    "continuity": _continuity,
    "carry_candidates": _candidates,
    "info_query": _info_query,
}

# What a refused file may write, by table: the formats of the 取込台帳 record the refusal
# (its ImportFile row and the file's audit event); the other readers record nothing.
_LEDGER = {"interfaces_importfile": 1, "audit_auditevent": 1}
REFUSAL_WRITES = {
    name: _LEDGER if name in ("residents_changes", "income", "claims", "myna_status") else {}
    for name in RUNNERS
}
# What the second run of the same file may write (a no-op otherwise): the ledger's row and
# audit event of the run (マイナ: also its status event), the returns' audit event.
REPEAT_WRITES = {
    "residents_changes": _LEDGER,
    "income": _LEDGER,
    "claims": _LEDGER,
    "myna_status": {"interfaces_importfile": 1, "audit_auditevent": 2},
    "payment_returns": {"audit_auditevent": 1},
}
