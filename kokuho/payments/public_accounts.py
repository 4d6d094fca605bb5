"""公金受取口座: the 情報照会 result, imported from a file until the live 照会 comes with the
national links (payments.md §4; 公金受取口座登録法 第9条・第10条).

The city asks, for persons who chose to be paid to their registered 公金受取口座 (an
application's 「公金受取口座を利用する」), and the answer comes back through the
団体内統合宛名 system keyed by the city's 宛名番号. The file (CSV, UTF-8 or CP932, read by
`interfaces.layout`) has the header `宛名番号,生年月日,照会日,金融機関コード,店舗コード,
預金種目,口座番号,口座名義` — 預金種目 1 普通 / 2 当座, 口座名義 in kana. It is checked whole
before anything is kept: a malformed field, an unknown 宛名番号 (or one whose 生年月日
differs), a bank or branch zengin-code does not know, a name that is not kana, or a person
twice in the file names its line, and the file is refused.

Each line becomes the person's current 振込先 (source 公金受取口座, a new version, never an
overwrite) unless the current one already says the same. An account the person gave on an
application or by a 委任 stays current: a 照会 answer does not replace what the person wrote
and signed (decision 262); those lines are counted and listed, not kept. Payments waiting
for an account are released to the new one (`payee_account_record`).
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kokuho.interfaces.layout import (
    Column,
    FieldInvalid,
    ImportRejected,
    Layout,
    date_value,
    digits,
    layout_read,
    nfkc,
    text,
)
from kokuho.payments.models import AccountSource, PayeeAccount
from kokuho.payments.services import (
    AccountError,
    AccountInput,
    AccountPreview,
    payee_account_preview,
    payee_account_record,
)
from kokuho.people.models import Person

SOURCE_REF = "公金受取口座照会:{day}"


class PublicAccountFileError(ValueError):
    """A 照会 result file refused whole; `problems` lists each bad line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path.name}: " + " / ".join(problems[:20]))
        self.problems = problems


def _fixed(length: int) -> Any:
    def parse(value: str) -> str:
        code = nfkc(value)
        if not (code.isascii() and code.isdigit() and len(code) == length):
            raise FieldInvalid(f"{length}桁の数字ではありません: '{value}'")
        return code

    return parse


def _account_type(value: str) -> int:
    code = nfkc(value)
    if code not in ("1", "2"):
        raise FieldInvalid(f"預金種目は 1（普通）か 2（当座）です: '{value}'")
    return int(code)


LAYOUT = Layout(
    title="公金受取口座の照会結果",
    id_column="宛名番号",
    columns=(
        Column("宛名番号", "宛名番号", digits(15), required=True),
        Column("生年月日", "生年月日", date_value, required=True),
        Column("照会日", "照会日", date_value, required=True),
        Column("金融機関コード", "金融機関コード", _fixed(4), required=True),
        Column("店舗コード", "店舗コード", _fixed(3), required=True),
        Column("預金種目", "預金種目", _account_type, required=True),
        Column("口座番号", "口座番号", _fixed(7), required=True),
        Column("口座名義", "口座名義", text(60), required=True),
    ),
)
HEADER = tuple(c.name for c in LAYOUT.columns)


@dataclass(frozen=True)
class PublicAccountsSummary:
    kept: int  # new current accounts
    unchanged: int  # the current account already says the same
    kept_applicant: list[str] = field(default_factory=list)  # 宛名番号 whose own account stays
    held: list[str] = field(default_factory=list)  # 宛名番号 whose name needs a clerk (held)

    def format(self) -> str:
        lines = [
            f"公金受取口座の照会結果: 振込先に記録 {self.kept:,}件・変更なし {self.unchanged:,}件"
        ]
        if self.kept_applicant:
            lines.append(
                "  申請書等で届け出た口座を優先し記録しなかったもの "
                f"{len(self.kept_applicant):,}件: " + "、".join(self.kept_applicant[:20])
            )
        if self.held:
            lines.append(
                f"  口座名義を全銀の文字で書けず保留になるもの {len(self.held):,}件: "
                + "、".join(self.held[:20])
            )
        return "\n".join(lines)


def public_accounts_import(*, path: Path, actor: Any | None) -> PublicAccountsSummary:
    """Import a 照会 result file (see the module docstring)."""
    try:
        _, rows = layout_read(path, LAYOUT)
        read = list(rows)
    except ImportRejected as error:
        raise PublicAccountFileError(path, [error.reason]) from None
    problems = [
        f"{e.line}行目" + (f" {e.field}" if e.field else "") + f": {e.reason}"
        for row in read
        for e in row.errors
    ]
    parsed = [(row.line, row.record) for row in read if row.record is not None]
    return public_accounts_apply(records=parsed, actor=actor, where=path, problems=problems)


def public_accounts_apply(
    *,
    records: list[tuple[int, dict[str, Any]]],
    actor: Any | None,
    where: Path,
    problems: list[str] | None = None,
) -> PublicAccountsSummary:
    """Keep parsed 照会 answers (line, record with the file's columns parsed) — the file
    import above and the 中間サーバー's 照会 results (kokuho.intermediary) share it. Checked
    whole: any problem refuses them all (`PublicAccountFileError` naming `where`)."""
    problems = list(problems or [])
    parsed = records
    people = {
        p.atena_no: p
        for p in Person.objects.filter(atena_no__in={r["宛名番号"] for _, r in parsed})
    }
    current = {
        a.person_id: a
        for a in PayeeAccount.objects.filter(person__in=people.values(), superseded_at__isnull=True)
    }
    accepted: list[tuple[Person, AccountPreview, dt.date]] = []
    seen: set[str] = set()
    for line, record in parsed:
        atena = record["宛名番号"]
        person = people.get(atena)
        if person is None or person.birth_date != record["生年月日"]:
            problems.append(
                f"{line}行目 宛名番号: {atena} の住民（生年月日 {record['生年月日']}）がいません"
            )
            continue
        if atena in seen:
            problems.append(f"{line}行目 宛名番号: ファイル内で重複しています: {atena}")
            continue
        seen.add(atena)
        try:
            preview = payee_account_preview(
                AccountInput(
                    bank_code=record["金融機関コード"],
                    branch_code=record["店舗コード"],
                    account_type=record["預金種目"],
                    account_number=record["口座番号"],
                    holder_kana=record["口座名義"],
                )
            )
        except AccountError as error:
            problems.append(f"{line}行目 {error.field}: {error}")
            continue
        accepted.append((person, preview, record["照会日"]))
    if problems:
        raise PublicAccountFileError(where, problems)
    kept = unchanged = 0
    kept_applicant: list[str] = []
    held: list[str] = []
    for person, preview, asked_on in accepted:
        before = current.get(person.pk)
        if before is not None and before.source != AccountSource.PUBLIC:
            kept_applicant.append(person.atena_no)
            continue
        account = payee_account_record(
            person=person,
            account=preview,
            source=AccountSource.PUBLIC,
            valid_from=asked_on,
            actor=actor,
            source_ref=SOURCE_REF.format(day=asked_on.isoformat()),
        )
        if before is not None and account.pk == before.pk:
            unchanged += 1
            continue
        kept += 1
        if not account.holder_zengin:
            held.append(person.atena_no)
    return PublicAccountsSummary(kept, unchanged, kept_applicant, held)
