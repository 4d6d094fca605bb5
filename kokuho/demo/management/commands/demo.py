"""`kokuho demo` — the main job of `make demo`.

Grows with each capability: it generates the demo city (once), derives eligibility, imports
last month's 住基異動, a month of claims and runs that 高額療養費 month, makes the demo staff
accounts, and runs the privacy officer's checks. Certificates join here as they are built.
"""

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.test import override_settings
from django.utils import timezone

from kokuho.benefits.kogaku.run import (
    kogaku_latest_confirmed_month,
    kogaku_run_create,
    kogaku_run_execute,
    kogaku_run_summary,
)
from kokuho.benefits.kogaku.workflow import kogaku_current_run
from kokuho.certificates.daily import documents_daily
from kokuho.certificates.management.commands.certificates import renewal_summary
from kokuho.certificates.renewal import renewal_run_create, renewal_run_execute
from kokuho.certificates.rules import renewal_dates
from kokuho.certificates.selectors import documents_count_summary
from kokuho.certificates.services import renewal_month_day
from kokuho.core.wareki import format_both, parse_date
from kokuho.demo.changes import changes_generate
from kokuho.demo.city import city_exists, city_generate, city_load
from kokuho.demo.claims import claims_csv_write
from kokuho.demo.myna_file import demo_myna_file_write
from kokuho.demo.national import demo_national_send, demo_onshi_results
from kokuho.demo.numbers import demo_my_numbers_link
from kokuho.demo.report import city_summary, format_summary
from kokuho.demo.staff import demo_staff_ensure, logins_file
from kokuho.eligibility.batch import eligibility_derive_initial
from kokuho.eligibility.report import eligibility_overview
from kokuho.interfaces.services import (
    import_claims,
    import_myna_status,
    import_residents_changes,
)
from kokuho.national.selectors import national_overview


class Command(BaseCommand):
    help = "デモ市を生成し（初回のみ）、主処理を実行して集計を表示します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=3000, help="世帯数 (既定 3000)")
        parser.add_argument("--seed", type=int, default=1, help="乱数の種 (既定 1)")
        parser.add_argument("--on", type=str, default=None, help="基準日 (既定: 今日)")
        parser.add_argument("--no-progress", action="store_true", help="進捗を表示しない")

    def handle(self, *args: Any, households: int, seed: int, on: str | None, **opts: Any) -> None:
        today: date = parse_date(on) if on else timezone.localdate()
        self.stdout.write(f"== Kokuho デモ（基準日 {format_both(today)}）")
        if city_exists():
            self.stdout.write("デモ市は生成済みです（再利用します）。")
        else:
            self.stdout.write(f"デモ市を生成します: {households:,} 世帯, seed={seed}")
            data = city_generate(households=households, seed=seed, on=today)
            stats = city_load(
                data, source=f"demo-city seed={seed}", progress=not opts["no_progress"]
            )
            self.stdout.write(f"読み込み完了: {stats}")
        derived = eligibility_derive_initial(on=today)
        if derived.with_periods:
            self.stdout.write(
                f"資格の初期導出: {derived.with_periods:,}人に資格期間、"
                f"{derived.households_numbered:,}世帯に記号・番号を付番しました。"
            )
        self._registry_month(today, seed, progress=not opts["no_progress"])
        if linked := demo_my_numbers_link():
            self.stdout.write(f"個人番号（デモ用の架空番号）を保管庫に {linked:,} 件登録しました。")
        self.stdout.write("")
        self.stdout.write(format_summary(city_summary(on=today)))
        self.stdout.write("")
        self.stdout.write(eligibility_overview(on=today).format())
        self._kogaku_month(today, seed, progress=not opts["no_progress"])
        self._documents(today, seed)
        self.stdout.write("")
        logins = demo_staff_ensure(today=today)
        self.stdout.write(f"デモ用ログイン（{logins_file()} にも保存）:")
        for login in logins:
            self.stdout.write(f"  {login.role.value:<6} {login.username:<10} {login.password}")
        # The 給付担当 of the demo receives and decides the month's applications.
        clerk = get_user_model().objects.get(username="kyufu")
        self._gassan(today, seed, clerk)
        self._payments(today, seed, clerk)
        self._cases(today, seed, clerk)
        self._national(today, seed)
        self._privacy_checks(today)

    def _national(self, today: date, seed: int) -> None:
        """The national links' night: full extracts once, a day of changes, the deltas, a
        synthetic 処理結果 with rejections and one J-LIS mismatch, and the work items."""
        directory = Path(settings.VAR_DIR) / "demo" / "national"
        national_dir = os.environ.get("KOKUHO_NATIONAL_DIR") or directory
        self.stdout.write("")
        self.stdout.write(f"国・国保連合会との連携ファイル（{national_dir}）:")
        with override_settings(KOKUHO_NATIONAL_DIR=Path(national_dir)):
            sent = demo_national_send(
                today=today, seed=seed, directory=directory, write=self.stdout.write
            )
            for kind, outcomes in (("全件", sent.full), ("差分", sent.delta)):
                for outcome in outcomes:
                    file = outcome.file
                    counts = "、".join(f"{k} {v:,}" for k, v in file.counts.items() if v)
                    self.stdout.write(
                        f"  {file.get_feed_display()} 通番 {file.sequence} {kind} "
                        f"{file.record_count:,}件（{counts or '変更なし'}）"
                    )
            if sent.full or sent.delta:
                self.stdout.write(f"  {sent.delta[0].layout_note if sent.delta else ''}")
            for message in sent.messages:
                self.stdout.write(f"  {message}")
            demo_onshi_results(directory=directory, write=self.stdout.write)
        items = national_overview().open_items_by_kind
        self.stdout.write(
            "  未解決の作業項目: "
            + ("、".join(f"{kind} {n:,}件" for _feed, kind, n in items) or "なし")
        )
        self.stdout.write("  画面: /national/status/（連携状況）")

    def _privacy_checks(self, today: date) -> None:
        """The privacy officer's routine on the demo: the audit chain, last month's 自己点検
        (PDF under var/demo/) and what is past retention (plan only — nothing is erased)."""
        month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        pdf = Path(settings.VAR_DIR) / "demo" / f"self-inspection-{month:%Y%m}.pdf"
        self.stdout.write("")
        call_command("audit", "verify", stdout=self.stdout)
        self.stdout.write("")
        call_command(
            "audit", "self-inspection", f"--month={month:%Y-%m}", f"--pdf={pdf}", stdout=self.stdout
        )
        self.stdout.write("")
        call_command("retention", "plan", f"--as-of={today.isoformat()}", stdout=self.stdout)

    def _kogaku_month(self, today: date, seed: int, *, progress: bool) -> None:
        """A month of claims for the latest 診療月 whose limits are confirmed, generated once
        and imported through the real importer, then the monthly 高額療養費 run on it (once:
        a later demo shows the current run again)."""
        month = kogaku_latest_confirmed_month(before=today)
        directory = Path(settings.VAR_DIR) / "demo"
        path = directory / f"claims-{month:%Y%m}.csv"
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            claims_csv_write(path, month=month, seed=seed)
        summary = import_claims(path=path, actor=None, progress=progress, reported_on=today)
        self.stdout.write("")
        self.stdout.write(summary.format())
        run = kogaku_current_run(month=month)
        if run is None:
            run = kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)
        self.stdout.write("")
        self.stdout.write(kogaku_run_summary(run))

    def _gassan(self, today: date, seed: int, clerk: Any) -> None:
        """The latest 高額介護合算 year: the 介護 side's certificates (generated once, imported
        through the real importer) and the yearly run."""
        from kokuho.benefits.gassan.yearly import care_certificates_import, gassan_year_run
        from kokuho.demo.gassan import (
            demo_care_certificates_write,
            demo_gassan_decide,
            demo_gassan_year,
        )

        year = demo_gassan_year(today)
        path = Path(settings.VAR_DIR) / "demo" / f"care-certificates-{year}.csv"
        if not path.exists():
            demo_care_certificates_write(path=path, year=year, seed=seed)
        self.stdout.write("")
        self.stdout.write(care_certificates_import(path=path).format())
        run = gassan_year_run(year=year)
        c = run.counts
        self.stdout.write(
            f"高額介護合算 {year}年8月〜{year + 1}年7月: 証明書のある世帯 {c['households']:,}・"
            f"計算 {c['computed']:,}・支給対象 {c['paid']:,} 世帯"
            f"（医療保険の負担分 合計 {c['medical_share_total']:,}円）"
        )
        decided = demo_gassan_decide(run=run, seed=seed, on=today, actor=clerk)
        if decided:
            self.stdout.write(f"  支給対象の世帯の申請 {decided:,} 件を受け付け、支給決定しました")

    def _payments(self, today: date, seed: int, clerk: Any) -> None:
        """The month's 高額療養費 applications decided at the counter, then the payment run
        of the first 支払日 the bank can take (files under var/demo/payments/)."""
        from kokuho.benefits.lifecycle.models import BenefitDecision
        from kokuho.benefits.lifecycle.notice_data import benefit_notices_pdf
        from kokuho.demo.benefits import demo_benefits_month
        from kokuho.demo.payments import (
            demo_kogaku_applications,
            demo_payment_run,
            demo_payments_held,
        )
        from kokuho.payments.management.commands.payments import run_summary
        from kokuho.payments.printing import payment_run_print

        month = kogaku_latest_confirmed_month(before=today)
        applied, decided, refused = demo_kogaku_applications(
            month=month, seed=seed, on=today, actor=clerk
        )
        self.stdout.write("")
        self.stdout.write(
            f"高額療養費 {month:%Y-%m} 診療分の申請 {applied:,} 件を受け付け、"
            f"{decided:,} 件を支給決定しました"
            + (f"（受け付けられなかった申請 {refused:,} 件）" if refused else "")
        )
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        counts = demo_benefits_month(month=last_month, seed=seed, on=today, actor=clerk)
        if counts:
            labels = {"paid": "支給", "partial": "一部支給", "refused": "不支給"}
            names = {"sosai": "葬祭費", "shussan": "出産育児一時金", "ryoyohi": "療養費"}
            parts = [
                f"{names[key.split(':')[0]]} {labels.get(key.split(':')[1], '受付不可')} {n:,}件"
                for key, n in sorted(counts.items())
            ]
            self.stdout.write(f"{last_month:%Y-%m} の給付の申請を決定しました: " + "、".join(parts))
        self._kogaku_changes(month, today, seed)
        outcome, message = demo_payment_run(today=today)
        if message:
            self.stdout.write(message)
        if outcome is not None:
            if not outcome.run.prints:
                payment_run_print(run=outcome.run, actor=clerk)
            self.stdout.write(run_summary(outcome.run, repeated=outcome.repeated))
        decided = BenefitDecision.objects.filter(decided_on=today).select_related(
            "application__subject", "application__applicant", "changes"
        )
        if decided:
            path = Path(settings.VAR_DIR) / "demo" / f"benefit-notices-{today:%Y%m%d}.pdf"
            path.write_bytes(benefit_notices_pdf(decided.order_by("pk")))
            self.stdout.write(f"  給付の決定通知書 {len(decided):,}通: {path}")
        if held := demo_payments_held():
            self.stdout.write(f"  保留中の支払（口座名義を全銀の文字で書けない等）: {held:,} 件")

    def _cases(self, today: date, seed: int, clerk: Any) -> None:
        """調査・求償の案件: a few late 社保加入 after the month's claims were paid
        (`demo.cases`), their 資格喪失後受診 cases and the clerk's first steps on them."""
        from kokuho.cases.models import InvestigationCase
        from kokuho.cases.selectors import case_row
        from kokuho.demo.cases import demo_cases_make

        month = kogaku_latest_confirmed_month(before=today)
        ids = demo_cases_make(month=month, today=today, seed=seed, clerk=clerk)
        rows = [
            case_row(case)
            for case in InvestigationCase.objects.filter(pk__in=ids).select_related("person")
        ]
        self.stdout.write("")
        self.stdout.write(
            f"調査・求償の案件（資格喪失後受診）: {len(rows)} 件・請求 "
            f"{sum(r['claimed_yen'] for r in rows):,} 円・収納 "
            f"{sum(r['recovered_yen'] for r in rows):,} 円（kokuho cases list で一覧）"
        )
        for r in rows:
            self.stdout.write(
                f"  #{r['id']} 宛名番号 {r['subject']} {r['status_label']}"
                f"{'（' + r['method_label'] + '）' if r['method_label'] else ''}"
                f" 請求 {r['claimed_yen']:,} 円・未収 {r['outstanding_yen']:,} 円"
            )

    def _kogaku_changes(self, month: date, today: date, seed: int) -> None:
        """After the first decisions: a few late claims of the month (generated once,
        through the real importer) and the month run again, which makes their 変更決定
        (追加支給, paid by the payment run that follows); then the 70〜74 外来年間合算 of
        the last year whose 基準日 has passed. A second demo changes nothing."""
        from kokuho.benefits.kogaku.outpatient_year import kogaku_outpatient_year_settle
        from kokuho.benefits.kogaku.recompute import kogaku_recompute
        from kokuho.benefits.models import DecisionKind, KogakuDecision
        from kokuho.demo.kogaku_changes import demo_late_claims_write

        path = Path(settings.VAR_DIR) / "demo" / f"claims-{month:%Y%m}-late.csv"
        if not path.exists():
            demo_late_claims_write(path=path, month=month, seed=seed)
        summary = import_claims(path=path, actor=None, progress=False, reported_on=today)
        self.stdout.write("")
        self.stdout.write(summary.format())
        if not KogakuDecision.objects.filter(month=month, kind=DecisionKind.CHANGE).exists():
            run = kogaku_recompute(month=month, actor=None)
            self.stdout.write(kogaku_run_summary(run))
        year = today.year - 1 if today >= date(today.year, 8, 1) else today.year - 2
        s = kogaku_outpatient_year_settle(year=year, actor=None, on=today)
        self.stdout.write(
            f"高額療養費 外来年間合算 {year}年8月〜{year + 1}年7月: 対象者 {s.members:,} 人・"
            f"精算 {s.settled:,} 人（支給額 合計 {s.total_benefit:,} 円）・"
            f"変更なし {s.unchanged:,} 人・口座未登録 {s.awaiting_account:,} 人"
        )

    def _documents(self, today: date, seed: int) -> None:
        """The current period's 資格確認書 / 資格情報のお知らせ: the yearly renewal on its date
        (once: a re-run issues nothing twice), then today's daily job, which invalidates the
        documents of those who left NHI since and reissues changed ones."""
        start, _ = renewal_dates(today, renewal_month_day())
        # The national side's status file of the renewal date, through the real importer
        # (generated once; a re-import finds every record in the ledger).
        path = Path(settings.VAR_DIR) / "demo" / f"myna-status-{start:%Y%m%d}.csv"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            demo_myna_file_write(path=path, on=start, seed=seed)
        summary = import_myna_status(path=path, actor=None, reported_on=today)
        self.stdout.write("")
        self.stdout.write(summary.format())
        run = renewal_run_execute(run_id=renewal_run_create(renewal_date=start, actor=None).pk)
        self.stdout.write("")
        self.stdout.write(renewal_summary(start, run.counts))
        daily = documents_daily(on=today)
        self.stdout.write(
            f"証・通知の日次処理 {today}: 確認 {daily.counts['persons_checked']:,}人、"
            f"資格喪失等による無効 {daily.counts['invalidated']:,}件"
            f"（返還請求 {daily.counts['return_requested']:,}件）、"
            f"記載事項変更の再交付 {daily.counts['reissued']:,}件"
        )
        self.stdout.write(documents_count_summary())

    def _registry_month(self, today: date, seed: int, *, progress: bool) -> None:
        """Last month's 住基異動, generated once and fed through the real importer (a re-run
        finds every record in the ledger and changes nothing)."""
        month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        directory = Path(settings.VAR_DIR) / "demo"
        path = directory / f"residents-changes-{month:%Y%m}.csv"
        if not path.exists():
            changes_generate(month=month, seed=seed, directory=directory, today=today)
        summary = import_residents_changes(path=path, actor=None, progress=progress)
        self.stdout.write("")
        self.stdout.write(summary.format())
