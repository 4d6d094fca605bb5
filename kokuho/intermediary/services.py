"""情報照会: ask (refused before it leaves unless the allow-list permits it), write the
pending requests' file, read the results back by 処理通番, and read a result for its 事務.

Every step is in the audit trail with the person as subject (so it shows in the person's
access history): INFO_QUERY_REQUESTED, INFO_QUERY_REFUSED, INFO_QUERY_ANSWERED,
INFO_QUERY_RESULT_VIEWED. The wire carries the 団体内統合宛名番号 only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kokuho.accounts.permissions import Perm, purposes_for_roles
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.mynumber import is_valid_my_number
from kokuho.core.purposes import Purpose, PurposeError, parse_purpose
from kokuho.identity.services import vault_integrated_numbers
from kokuho.intermediary.allow_list import allow_list
from kokuho.intermediary.models import InfoQuery, QueryFile, QueryStatus, ResultFile
from kokuho.intermediary.wire import REQUEST, RESULT, wire_layout
from kokuho.national.inbound import RecordTextError, my_numbers_refuse, record_text
from kokuho.national.layouts import LayoutError, line_read, line_write
from kokuho.payments.public_accounts import PublicAccountFileError, public_accounts_apply
from kokuho.people.models import Person

PUBLIC_ACCOUNT_ROW = "public_account"
# The 照会結果's item names for the 公金受取口座 (our design, info_query_result.yaml).
PUBLIC_ACCOUNT_ITEMS = {
    "金融機関コード": "金融機関コード",
    "店舗コード": "店舗コード",
    "預金種目": "預金種目",
    "口座番号": "口座番号",
    "口座名義": "口座名義",
}


class InfoQueryRefused(PermissionError):
    """A 照会 (or a result's use) that is not allowed; the refusal is audited."""


class InfoQueryError(ValueError):
    """Input that cannot be used (unknown person, a bad file); nothing was changed."""


def query_dir() -> Path:
    return Path(getattr(settings, "KOKUHO_NATIONAL_DIR", "var/national")) / "info_query"


def _refuse(*, actor: Any, atena_no: str, reason: str, **extra: Any) -> InfoQueryRefused:
    """Record the refusal in its own transaction (a caller's rollback must not erase it)."""
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.INFO_QUERY_REFUSED,
            actor=actor,
            subject_type=SubjectType.PERSON if atena_no else SubjectType.SYSTEM,
            subject_id=atena_no,
            purpose=Purpose.INFO_LINKAGE_QUERY,
            extra={"reason": reason, **extra},
        )
    return InfoQueryRefused(reason)


def _actor_may_query(actor: Any) -> str:
    """'' when the actor may make 情報照会 (None: the system), else the reason."""
    if actor is None:
        return ""
    if not actor.has_perm(str(Perm.INFO_QUERY)):
        return "情報照会の権限がありません"
    roles = set(actor.groups.values_list("name", flat=True))
    if Purpose.INFO_LINKAGE_QUERY not in purposes_for_roles(roles):
        return "この職員の役割では情報照会の事務を扱えません"
    return ""


def _next_serial(today: dt.date) -> str:
    prefix = f"{settings.KOKUHO_INSURER_NUMBER:0>8}{today:%Y%m%d}"
    last = InfoQuery.objects.filter(serial__startswith=prefix).aggregate(m=Max("serial"))["m"]
    n = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{n:06d}"


def info_query_request(*, actor: Any | None, atena_no: str, row: str, purpose: str) -> InfoQuery:
    """情報照会の依頼. Refused (audited, nothing kept or written out) when the 事務 may not ask
    that row, the actor may not make 照会, or the person has no 団体内統合宛名番号."""
    context = {"row": row, "purpose": str(purpose)}
    try:
        chosen = parse_purpose(purpose)
    except PurposeError:
        reason = "許可されていない事務です"
        raise _refuse(actor=actor, atena_no=atena_no, reason=reason, **context) from None
    if reason := _actor_may_query(actor):
        raise _refuse(actor=actor, atena_no=atena_no, reason=reason, **context)
    rules = allow_list()
    if not rules.permits(chosen, row):
        raise _refuse(
            actor=actor,
            atena_no=atena_no,
            reason=f"事務「{chosen.label}」はこの項（{row}）を照会できません（許可リスト）",
            **context,
        )
    person = Person.objects.filter(atena_no=atena_no).first()
    if person is None:
        raise InfoQueryError(f"宛名番号 {atena_no} の住民が見つかりません")
    integrated = vault_integrated_numbers(atena_nos=[atena_no]).get(atena_no)
    if integrated is None:
        raise _refuse(
            actor=actor,
            atena_no=atena_no,
            reason="個人番号が未登録のため団体内統合宛名番号がなく、照会できません",
            **context,
        )
    now = timezone.now()
    with transaction.atomic():
        query = InfoQuery.objects.create(
            serial=_next_serial(timezone.localdate(now)),
            purpose=chosen.value,
            row=row,
            legal_reference=rules.rows[row].reference[:300],
            person=person,
            integrated_no=integrated,
            requested_by=actor,
            requested_at=now,
        )
        audit_event_record(
            event_type=EventType.INFO_QUERY_REQUESTED,
            actor=actor,
            subject_type=SubjectType.PERSON,
            subject_id=atena_no,
            purpose=Purpose.INFO_LINKAGE_QUERY,
            extra={"serial": query.serial, "row": row, "for_purpose": chosen.value},
        )
    return query


def _write(path: Path, lines: list[str], encoding: str, ending: str) -> str:
    """Write atomically (temporary name, fsync, rename) and return the SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = "".join(line + ending for line in lines).encode(encoding)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as out:
        out.write(raw)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return hashlib.sha256(raw).hexdigest()


def info_query_requests_export(*, actor: Any | None, on: dt.date) -> tuple[QueryFile, Path] | None:
    """The file of every request not yet sent; they become pending (照会中). None: nothing."""
    desc = wire_layout(REQUEST)
    with transaction.atomic():
        todo = list(
            InfoQuery.objects.select_for_update()
            .filter(status=QueryStatus.REQUESTED)
            .order_by("serial")
        )
        if not todo:
            return None
        last = QueryFile.objects.aggregate(m=Max("sequence"))["m"] or 0
        sequence = last + 1
        name = f"{REQUEST}_{settings.KOKUHO_INSURER_NUMBER}_{sequence:08d}_{on:%Y%m%d}.csv"
        control = {
            "layout": desc.layout,
            "version": desc.version,
            "insurer_no": settings.KOKUHO_INSURER_NUMBER,
            "sequence": str(sequence),
            "created_on": on,
        }
        lines = [line_write(desc, "control", control, on)]
        for q in todo:
            values = {
                "serial": q.serial,
                "integrated_no": q.integrated_no,
                "purpose": q.purpose,
                "row": q.row,
                "requested_on": timezone.localdate(q.requested_at),
            }
            lines.append(line_write(desc, "data", values, on))
        lines.append(line_write(desc, "end", {"count": str(len(todo))}, on))
        path = query_dir() / name
        sha = _write(path, lines, desc.encoding, desc.line_ending)
        file = QueryFile.objects.create(
            sequence=sequence,
            file_name=name,
            sha256=sha,
            record_count=len(todo),
            created_at=timezone.now(),
            created_by=actor,
        )
        InfoQuery.objects.filter(pk__in=[q.pk for q in todo]).update(
            status=QueryStatus.PENDING, request_file=file
        )
    return file, path


@dataclass
class ResultOutcome:
    file: ResultFile
    answered: int = 0
    errors: int = 0
    accounts: str = ""
    unknown: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = [f"{self.file.file_name}: 回答 {self.answered}件・エラー {self.errors}件"]
        if self.accounts:
            lines.append(self.accounts)
        if self.unknown:
            lines.append(f"対応する照会のない結果 {len(self.unknown)}件（適用していません）:")
            lines += [f"  {u}" for u in self.unknown[:50]]
        return "\n".join(lines)


def _items(text: str | None, line_no: int) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise InfoQueryError(f"{line_no}行目 結果の項目: 項目名=値 ではありません")
        if is_valid_my_number("".join(ch for ch in value if ch.isdigit())):
            # Never kept in the business database: the whole file is refused.
            raise InfoQueryError(f"{line_no}行目 結果の項目 {name}: 個人番号と思われる値があります")
        found[name] = value
    return found


def _read(path: Path) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    desc = wire_layout(RESULT)
    assert (desc.encoding, desc.line_ending) == ("cp932", "\r\n"), "record_text reads these"
    try:
        # Empty, UTF-8/UTF-16, not CP932, a control character, a line end other than CRLF,
        # a last line without one (cut short): each named with its line.
        text = record_text(path.read_bytes())
    except RecordTextError as error:
        raise InfoQueryError(str(error)) from None
    lines = text[: -len(desc.line_ending)].split(desc.line_ending)
    if len(lines) < 2 or not lines[-1].startswith("9,"):
        raise InfoQueryError("ファイルが途中で切れています（エンドレコードがありません）")
    try:
        control = line_read(desc, "control", lines[0], 1)
        end = line_read(desc, "end", lines[-1], len(lines))
        data = [(n, line_read(desc, "data", line, n)) for n, line in enumerate(lines[1:-1], 2)]
        for n, values in data:
            # The 結果の項目 are screened item by item in `_items`; the other free texts here.
            my_numbers_refuse(desc, "data", {**values, "items": None}, n)
    except LayoutError as error:
        raise InfoQueryError(str(error)) from None
    if (control["layout"], control["version"]) != (desc.layout, desc.version):
        raise InfoQueryError(
            f"レイアウト {control['layout']} 版 {control['version']} は取り込めません"
        )
    if control["insurer_no"] != settings.KOKUHO_INSURER_NUMBER:
        raise InfoQueryError(f"他の保険者（{control['insurer_no']}）あての結果です")
    if int(end["count"] or 0) != len(data):
        raise InfoQueryError(f"件数 {end['count']} がデータレコード {len(data)} 件と一致しません")
    serials = [r["serial"] for _, r in data]
    if len(set(serials)) != len(serials):
        raise InfoQueryError("同じ処理通番の結果が複数あります")
    return control, data


def info_query_results_import(*, path: Path, actor: Any | None) -> ResultOutcome:
    """A result file, matched by 処理通番. Refused whole (one message, nothing changed) when
    truncated, of another layout or insurer, imported before, or carrying a My Number; a
    result whose 処理通番 we never sent (or already answered, or for another person) is
    reported and never applied. 公金受取口座 answers become the payee account."""
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    if ResultFile.objects.filter(sha256=sha).exists():
        raise InfoQueryError(f"{path.name}: 取込済みのファイルです")
    try:
        control, data = _read(path)
        parsed = [(n, r, _items(r["items"], n)) for n, r in data]
    except InfoQueryError as error:
        raise InfoQueryError(f"{path.name}: {error}") from None
    queries = {
        q.serial: q
        for q in InfoQuery.objects.select_related("person").filter(
            serial__in=[r["serial"] for _, r, _ in parsed]
        )
    }
    unknown: list[str] = []
    matched: list[tuple[InfoQuery, dict[str, Any], dict[str, str]]] = []
    for n, record, items in parsed:
        query = queries.get(record["serial"])
        if query is None:
            unknown.append(f"{n}行目 処理通番 {record['serial']}: 依頼していない照会です")
        elif query.status != QueryStatus.PENDING:
            unknown.append(f"{n}行目 処理通番 {record['serial']}: 照会中ではありません")
        elif query.integrated_no != record["integrated_no"]:
            unknown.append(f"{n}行目 処理通番 {record['serial']}: 対象者が依頼と違います")
        else:
            matched.append((query, record, items))
    now = timezone.now()
    answered_on = control["answered_on"]
    with transaction.atomic():
        result_file = ResultFile.objects.create(
            file_name=path.name, sha256=sha, imported_at=now, imported_by=actor, unknown=unknown
        )
        answered = errors = 0
        accounts: list[tuple[int, dict[str, Any]]] = []
        for query, record, items in matched:
            ok = record["status"] in ("0", "1")
            answered, errors = answered + ok, errors + (not ok)
            query.status = QueryStatus.ANSWERED if ok else QueryStatus.ERROR
            query.result_file, query.answered_at = result_file, now
            query.result_status = record["status"]
            query.result_code = record["code"] or ""
            query.result_message = (record["message"] or "")[:200]
            query.result = items
            if query.row == PUBLIC_ACCOUNT_ROW and record["status"] == "0":
                accounts.append((len(accounts) + 1, _account_record(query, items, answered_on)))
            audit_event_record(
                event_type=EventType.INFO_QUERY_ANSWERED,
                actor=actor,
                subject_type=SubjectType.PERSON,
                subject_id=query.person.atena_no,
                purpose=Purpose.INFO_LINKAGE_QUERY,
                extra={"serial": query.serial, "row": query.row, "status": record["status"]},
            )
        InfoQuery.objects.bulk_update(
            [m[0] for m in matched],
            ["status", "result_file", "answered_at", "result_status", "result_code",
             "result_message", "result"],
        )  # fmt: skip
        summary = ""
        if accounts:
            try:
                summary = public_accounts_apply(records=accounts, actor=actor, where=path).format()
            except PublicAccountFileError as error:
                # Nothing half-applied: the whole file goes back with the account's problem.
                raise InfoQueryError(str(error)) from None
        result_file.counts = {"answered": answered, "errors": errors, "unknown": len(unknown)}
        result_file.save(update_fields=["counts"])
    return ResultOutcome(result_file, answered, errors, summary, unknown)


def _account_record(query: InfoQuery, items: dict[str, str], on: dt.date) -> dict[str, Any]:
    """A 公金受取口座 answer in the columns of the payments' 照会 result import."""
    missing = [k for k in PUBLIC_ACCOUNT_ITEMS if not items.get(k)]
    if missing:
        raise InfoQueryError(f"処理通番 {query.serial}: 公金受取口座の項目 {missing} がありません")
    if items["預金種目"] not in ("1", "2"):
        raise InfoQueryError(f"処理通番 {query.serial}: 預金種目は 1 か 2 です")
    return {
        "宛名番号": query.person.atena_no,
        "生年月日": query.person.birth_date,
        "照会日": on,
        "金融機関コード": items["金融機関コード"],
        "店舗コード": items["店舗コード"],
        "預金種目": int(items["預金種目"]),
        "口座番号": items["口座番号"],
        "口座名義": items["口座名義"],
    }


def info_query_result_view(*, query: InfoQuery, actor: Any | None, purpose: str) -> dict[str, str]:
    """The result's items, for the query's own 事務 only (番号法: 目的外利用の禁止); each read is
    an INFO_QUERY_RESULT_VIEWED event with the person as subject."""
    atena_no = query.person.atena_no
    if str(purpose) != query.purpose:
        raise _refuse(
            actor=actor,
            atena_no=atena_no,
            reason="照会の事務と異なる事務では結果を利用できません",
            action="view",
            serial=query.serial,
            purpose=str(purpose),
        )
    if reason := _actor_may_query(actor):
        raise _refuse(actor=actor, atena_no=atena_no, reason=reason, action="view")
    if query.status not in (QueryStatus.ANSWERED, QueryStatus.ERROR):
        raise InfoQueryError(f"処理通番 {query.serial}: まだ結果がありません")
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.INFO_QUERY_RESULT_VIEWED,
            actor=actor,
            subject_type=SubjectType.PERSON,
            subject_id=atena_no,
            purpose=Purpose.INFO_LINKAGE_QUERY,
            extra={"serial": query.serial, "row": query.row, "for_purpose": query.purpose},
        )
    return dict(query.result)
