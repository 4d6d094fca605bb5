"""Benchmark the payment run (`payments.run.payment_run`) over a city's payments, against a floor.

    .venv/bin/python bench/payments.py [--payments 200000] [--sqlite] [--seed 20261214]
                                       [--profile]

One process, one run, everything measured here:

* setup (printed, not part of the result) — ``--payments`` persons in households of about
  1.65, one PayeeAccount each at a real bank and branch of the ``zengin-code`` data (伊予, 愛媛,
  百十四, みずほ, 三菱ＵＦＪ, 三井住友, ゆうちょ; names and branch names as
  `payments.banks.bank_branch_lookup` gives them), the holder's name full-width and already
  converted to 全銀 characters (`charset.zengin_field`), and one Payment due each (a mix of
  the `Benefit`s, 1,000–600,000 yen, deterministic for ``--seed``); written in bulk with
  `kokuho.core.bulkwrite` (COPY on PostgreSQL), then ANALYZE.
* engine — `payment_run(pay_date=…, sent_at=…, out_dir=…)`: the payments selected, the
  PaymentTransfer rows written, the payments marked, the lines read back, the 全銀 file(s)
  and the register built, reconciled three ways and written. Wall time, rows/s, the time
  between its progress stages, and the files' sizes and SHA-256.
* floor — the same rows read with one ``values_list`` query (timed on its own), then a bare
  Python loop that sorts them as the run does, formats the same 120-byte records with
  f-strings, encodes them cp932, joins them with CRLF, writes the register's lines with the
  csv module and writes both files: ``ratio`` = engine ÷ (floor fetch + floor write). The
  floor's bytes are compared with the engine's (they should be identical).
* the engine's 全銀 file read back with the independent reader (`payments/tests/
  zengin_reader.py`): 合計件数 and 合計金額 must be the payments' count and sum ("照合 ok").
* peak RSS of the process (after the setup, after the engine, at the end).

The payments' decisions are of source types no benefit registers (``bench_<benefit>``), so
the run's `sources_notify_scheduled` hook finds nothing to tell. ``--profile`` runs the
engine under cProfile (its time then includes the profiler) and prints the top functions to
stderr; ``--profile-out FILE`` also keeps the stats for `pstats`. PostgreSQL:
``KOKUHO_BENCH_PG`` (default postgresql://postgres@127.0.0.1:5432, trust auth); the databases
kokuho_bench_payments and kokuho_bench_payments_vault are created and dropped by this script.
``--sqlite`` uses SQLite files in a temporary directory instead.
The last line is ``RESULT key=value ...``.
"""

import argparse
import cProfile
import csv
import datetime as dt
import hashlib
import io
import os
import pstats
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench_databases import PG_SERVER, pg_create, pg_drop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = "kokuho_bench_payments"
PG_VAULT_DB = "kokuho_bench_payments_vault"

# Monday 09:00 (before the standard profile's 15:00 cut-off, 2 lead days) → that Friday.
SENT_AT = dt.datetime(2026, 12, 14, 9, 0)
PAY_DATE = dt.date(2026, 12, 18)
DECIDED_FROM = dt.date(2026, 11, 2)
CHUNK = 20_000


def _pairs(text: str) -> list[tuple[str, str]]:
    return [(kanji, kana) for kanji, _, kana in (x.partition(":") for x in text.split())]


# 氏・名 and their readings, "漢字:カナ" (the account holder's name is the reading).
SURNAMES = _pairs("""山田:ヤマダ 佐藤:サトウ 髙橋:タカハシ 渡邊:ワタナベ 伊予:イヨ
    松山:マツヤマ 越智:オチ 村上:ムラカミ 河野:コウノ 曽我部:ソガベ 二宮:ニノミヤ 玉井:タマイ
    宇和島:ウワジマ 今治:イマバリ 蜜柑:ミカン 兵頭:ヒョウドウ 菅:スガ 重松:シゲマツ
    大野:オオノ 檜垣:ヒガキ""")
GIVEN = _pairs("""太郎:タロウ 花子:ハナコ 一郎:イチロウ 美咲:ミサキ 健太:ケンタ 陽子:ヨウコ
    翔:ショウ 千尋:チヒロ 大輔:ダイスケ 恵美:エミ 勝:マサル キヨ:キヨ ハルヱ:ハルエ
    龍之介:リュウノスケ さくら:サクラ 蓮:レン 結衣:ユイ 京子:キョウコ ジョン:ジョン
    パウロ:パウロ""")
TOWNS = ("本町", "道後町", "南堀端町", "みかん台", "港町", "城北", "中央", "久米", "石手", "北条辻")
# Banks a みかん市 payee would use, with weights; branches drawn from each bank's list.
BANKS = (("0174", 34), ("0576", 18), ("0173", 4), ("0001", 8), ("0005", 6), ("0009", 6),
         ("9900", 24))  # fmt: skip
BRANCHES_PER_BANK = 60
# benefit → its share of a month's payments (amounts: `_amount`).
MIX = {
    "kogaku": 0.62,
    "ryoyohi": 0.14,
    "kaigai": 0.005,
    "isouhi": 0.005,
    "shussan": 0.04,
    "sosai": 0.09,
    "gassan": 0.10,
}
# What the run does before each of its progress reports (run.py `_run_in_transaction`).
STAGES = {
    "支払予定の選択": "select the due payments with their accounts, sort",
    "明細の記録": "新規コード, PaymentTransfer rows, bulk_create",
    "ファイルの作成": "mark scheduled, read the lines back, build the files",
    "完了": "reconcile, totals, write the files, audit",
}
HOUSEHOLD_SIZES = ((1, 0.55), (2, 0.30), (3, 0.10), (4, 0.05))


def _amount(rnd: random.Random, benefit: str) -> int:
    if benefit == "shussan":
        return 500_000 if rnd.random() < 0.95 else 600_000  # 多胎・産科医療補償制度の差
    if benefit == "sosai":
        return 50_000
    if benefit == "kogaku":
        return min(600_000, 1_000 + int(rnd.paretovariate(1.3) * 8_000))
    if benefit == "gassan":
        return rnd.randint(1_000, 300_000)
    return rnd.randint(1_000, 120_000)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- databases --------------------------------------------------------------------------------


def _django(directory: Path, sqlite: bool) -> None:
    if sqlite:
        os.environ["KOKUHO_DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
        os.environ["KOKUHO_VAULT_DATABASE_URL"] = f"sqlite:///{directory / 'vault.sqlite3'}"
    else:
        pg_create(PG_DB, PG_VAULT_DB)
        os.environ["KOKUHO_DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
        os.environ["KOKUHO_VAULT_DATABASE_URL"] = f"{PG_SERVER}/{PG_VAULT_DB}"
    os.environ["KOKUHO_VAR_DIR"] = str(directory)
    os.environ.setdefault("KOKUHO_SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="vault", verbosity=0, interactive=False)


# --- setup: the city's persons, accounts and payments -------------------------------------------


def _branch_pool() -> list[tuple[tuple, int]]:
    """(bank_code, bank_kana, branch_code, branch_kana) of real branches, with weights."""
    from zengin_code import Bank

    from kokuho.payments.banks import bank_branch_lookup

    pool = []
    for code, weight in BANKS:
        branches = sorted(Bank.all[code].branches)[:BRANCHES_PER_BANK]
        for branch_code in branches:
            b = bank_branch_lookup(code, branch_code)
            # As services._name15: a name longer than the field is left blank.
            bank_kana = b.bank_kana if len(b.bank_kana) <= 15 else ""
            branch_kana = b.branch_kana if len(b.branch_kana) <= 15 else ""
            pool.append(((code, bank_kana, branch_code, branch_kana), weight / len(branches)))
    return pool


def _names() -> list[tuple[str, str, str, str, str]]:
    """(name, name_kana, kana_key, holder_kana, holder_zengin) for every surname × given."""
    from kokuho.core.kana import kana_search_key, normalize_kana_name
    from kokuho.payments.charset import zengin_field

    out = []
    for surname, surname_kana in SURNAMES:
        for given, given_kana in GIVEN:
            kana = normalize_kana_name(f"{surname_kana} {given_kana}")
            holder = zengin_field(kana, width=30)
            out.append((f"{surname} {given}", kana, kana_search_key(kana), kana, holder))
    return out


def _with_defaults(model, names: tuple[str, ...], rows: list[tuple]) -> tuple[tuple, list]:
    """The rows, plus the default of every NOT NULL column they do not name (a field added
    later, such as a blank CharField, still gets what the ORM would write)."""
    extra = [
        f
        for f in model._meta.concrete_fields
        if f.name not in names and f.attname not in names and not f.null
    ]
    if not extra:
        return names, rows
    defaults = tuple(f.get_default() for f in extra)
    return (*names, *(f.name for f in extra)), [(*r, *defaults) for r in rows]


def _setup(n: int, seed: int) -> tuple[int, float]:
    """Write the city; returns the payments' total and the seconds it took."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kokuho.core.bulkwrite import row_writer
    from kokuho.payments.models import PayeeAccount, Payment
    from kokuho.payments.services import budget_item
    from kokuho.people.models import Household, Person

    start = time.perf_counter()
    rnd = random.Random(seed)
    branches, branch_weights = zip(*_branch_pool(), strict=True)
    names = _names()
    benefits, shares = zip(*MIX.items(), strict=True)
    items = {b: budget_item(b, DECIDED_FROM) for b in benefits}
    sizes, size_weights = zip(*HOUSEHOLD_SIZES, strict=True)
    now = timezone.now()
    total = 0
    person_cols = ("id", "atena_no", "name", "name_kana", "kana_key", "birth_date", "sex",
                   "postal_code", "address", "household", "relation", "resident_from",
                   "is_foreign", "residence_status")  # fmt: skip
    account_cols = ("id", "person", "version", "bank_code", "bank_kana", "branch_code",
                    "branch_kana", "account_type", "account_number", "holder_kana",
                    "holder_zengin", "holder_problem", "source", "source_ref", "proxy_name",
                    "valid_from", "recorded_at")  # fmt: skip
    payment_cols = ("id", "benefit", "budget_item", "source_type", "source_id", "person",
                    "account", "amount", "decided_on", "payable_from", "status",
                    "hold_reason", "hold_detail", "created_at")  # fmt: skip
    with transaction.atomic():
        writer = row_writer(connection)
        person_ids = writer.allocate_ids(Person, n)
        account_ids = writer.allocate_ids(PayeeAccount, n)
        payment_ids = writer.allocate_ids(Payment, n)
        # Households first (their heads are deferred foreign keys), then the members.
        plan: list[int] = []  # household size per household, until n persons
        placed = 0
        while placed < n:
            plan.append(min(rnd.choices(sizes, size_weights)[0], n - placed))
            placed += plan[-1]
        household_ids = writer.allocate_ids(Household, len(plan))
        household_rows = []
        owner: list[tuple[int, bool]] = []  # per person: household id, is head
        p = 0
        for hh, size in zip(household_ids, plan, strict=True):
            household_rows.append((hh, f"H{hh:012d}", person_ids[p], dt.date(2000, 4, 1)))
            owner += [(hh, i == 0) for i in range(size)]
            p += size
        writer.insert(Household, ("id", "household_no", "head", "formed_on"), household_rows)
        del household_rows
        for lo in range(0, n, CHUNK):
            people, accounts, payments = [], [], []
            for i in range(lo, min(n, lo + CHUNK)):
                pid, aid = person_ids[i], account_ids[i]
                hh, head = owner[i]
                name, kana, key, holder_kana, holder = rnd.choice(names)
                people.append((
                    pid, f"{pid:010d}", name, kana, key,
                    dt.date(rnd.randint(1940, 2025), rnd.randint(1, 12), rnd.randint(1, 28)),
                    rnd.choice((1, 2)), f"79{rnd.randint(0, 9)}-{rnd.randrange(10000):04d}",
                    f"愛媛県みかん市{rnd.choice(TOWNS)}{rnd.randint(1, 9)}-{rnd.randint(1, 30)}",
                    hh, "世帯主" if head else rnd.choice(("妻", "子", "子", "父", "母")),
                    dt.date(2000, 4, 1), False, "",
                ))  # fmt: skip
                bank_code, bank_kana, branch_code, branch_kana = rnd.choices(
                    branches, branch_weights
                )[0]
                kind = 1 if bank_code == "9900" or rnd.random() < 0.97 else rnd.choice((2, 4))
                accounts.append((
                    aid, pid, 1, bank_code, bank_kana, branch_code, branch_kana, kind,
                    f"{rnd.randrange(10**7):07d}", holder_kana, holder, "", "application",
                    "", "", dt.date(2026, 10, 1), now,
                ))  # fmt: skip
                benefit = rnd.choices(benefits, shares)[0]
                amount = _amount(rnd, benefit)
                total += amount
                decided = DECIDED_FROM + dt.timedelta(days=rnd.randrange(40))
                payments.append((
                    payment_ids[i], benefit, items[benefit], f"bench_{benefit}", i + 1, pid,
                    aid, amount, decided, min(decided, PAY_DATE), "due", "", "", now,
                ))  # fmt: skip
            for model, cols, rows in (
                (Person, person_cols, people),
                (PayeeAccount, account_cols, accounts),
                (Payment, payment_cols, payments),
            ):
                writer.insert(model, *_with_defaults(model, cols, rows))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return total, time.perf_counter() - start


# --- the floor ----------------------------------------------------------------------------------

FLOOR_FIELDS = ("pk", "benefit", "budget_item", "source_type", "source_id", "amount",
                "decided_on", "person__atena_no", "account__bank_code", "account__bank_kana",
                "account__branch_code", "account__branch_kana", "account__account_type",
                "account__account_number", "account__holder_zengin")  # fmt: skip


def _floor_fetch(status: str) -> list[tuple]:
    from kokuho.payments.models import Payment

    return list(
        Payment.objects.filter(status=status, payable_from__lte=PAY_DATE).values_list(*FLOOR_FIELDS)
    )


def _floor_write(rows: list[tuple], config, directory: Path) -> dict[str, bytes]:
    """The same records and register lines, the plain way (standard profile: CRLF, bank
    names, 手形交換所 0000, 振込指定区分 7, numeric 顧客コード; every payee new: 新規コード 1)."""
    from kokuho.payments.models import Benefit
    from kokuho.payments.run import REGISTER_COLUMNS, REGISTER_NAME, TOTAL_MARK

    payer_of = config.benefit_payer
    labels = dict(Benefit.choices)
    rows = sorted(rows, key=lambda r: (payer_of[r[1]], r[8], r[10], r[13], r[0]))
    by_payer: dict[str, list[tuple]] = defaultdict(list)
    for r in rows:
        by_payer[payer_of[r[1]]].append(r)
    pay = PAY_DATE.isoformat()
    files = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REGISTER_COLUMNS)
    by_benefit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_item: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for payer, lines in sorted(by_payer.items()):
        p = config.payers[payer]
        records = [
            f"1210{p.code:0>10}{p.name:<40}{PAY_DATE:%m%d}{p.bank_code:0>4}{p.bank_name:<15}"
            f"{p.branch_code:0>3}{p.branch_name:<15}{p.account_type}{p.account_number:0>7}"
            f"{'':17}".encode("cp932")
        ]
        total = 0
        for pk, benefit, item, stype, sid, amount, decided, atena, bank, bank_kana, branch, \
                branch_kana, kind, number, holder in lines:  # fmt: skip
            records.append(
                f"2{bank:0>4}{bank_kana:<15}{branch:0>3}{branch_kana:<15}0000{kind}{number:0>7}"
                f"{holder:<30}{amount:010d}1{pk:010d}{'':0>10}7 {'':7}".encode("cp932")
            )
            total += amount
            label = labels[benefit]
            writer.writerow((pay, payer, f"{pk:010d}", label, item, atena, f"{stype}:{sid}",
                             decided.isoformat(), bank, branch, kind, number, holder, 1,
                             amount))  # fmt: skip
            for bucket in (by_benefit[label], by_item[item]):
                bucket[0] += 1
                bucket[1] += amount
        records.append(f"8{len(lines):06d}{total:012d}{'':101}".encode("cp932"))
        records.append(f"9{'':119}".encode("cp932"))
        files[f"zengin-{payer}.txt"] = b"\r\n".join(records) + b"\r\n"
    writer.writerow(())
    writer.writerow((TOTAL_MARK, "区分", "名称", "件数", "金額"))
    for label, (count, amount) in sorted(by_benefit.items()):
        writer.writerow((TOTAL_MARK, "給付", label, count, amount))
    for item, (count, amount) in sorted(by_item.items()):
        writer.writerow((TOTAL_MARK, "予算科目", item, count, amount))
    writer.writerow((TOTAL_MARK, "総計", "", len(rows), sum(r[5] for r in rows)))
    files[REGISTER_NAME] = ("\ufeff" + out.getvalue()).encode("utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return files


# --- the run ------------------------------------------------------------------------------------


def _bench(args: argparse.Namespace, directory: Path) -> None:
    from django.db import connection
    from django.db.models import Count

    from kokuho.payments.config import payment_config_load
    from kokuho.payments.models import Payment, PaymentStatus
    from kokuho.payments.run import payment_run, register_read_total
    from kokuho.payments.tests import zengin_reader

    db = connection.vendor
    print(f"database: {db} ({connection.settings_dict['NAME']})")
    expected_total, setup_s = _setup(args.payments, args.seed)
    mix = dict(Payment.objects.values_list("benefit").annotate(n=Count("id")))
    print(
        f"setup: {args.payments:,} persons, accounts and payments due "
        f"({expected_total:,} yen) in {setup_s:.1f} s; "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(mix.items()))
    )
    rss_setup = _rss_mib()

    # --- the engine -----------------------------------------------------------------------------
    out_dir = directory / "payments"
    stages: list[tuple[str, float]] = []
    profiler = cProfile.Profile() if args.profile else None
    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages.append((stage, time.perf_counter() - start))

    if profiler:
        profiler.enable()
    outcome = payment_run(
        pay_date=PAY_DATE, actor=None, sent_at=SENT_AT, out_dir=out_dir, on_progress=progress
    )
    engine_s = time.perf_counter() - start
    if profiler:
        profiler.disable()
    rss_engine = _rss_mib()
    run = outcome.run

    # --- the check ------------------------------------------------------------------------------
    zengin = [f for f in run.files if f["name"].startswith("zengin-")]
    register = next(f for f in run.files if f["name"] == "register.csv")
    count = total = 0
    for entry in zengin:
        parsed = zengin_reader.read(Path(entry["path"]).read_bytes())
        count += parsed.trailer_count
        total += parsed.trailer_total
    assert count == args.payments, (count, args.payments)
    assert total == expected_total, (total, expected_total)
    assert (run.count, run.total) == (args.payments, expected_total)
    register_bytes = Path(register["path"]).read_bytes()
    assert register_read_total(register_bytes) == (args.payments, expected_total)
    print(f"照合 ok: {count:,} 件 {total:,} 円 (全銀 trailer read back, register, run)")

    # --- the floor (the same rows, now scheduled) ------------------------------------------------
    config = payment_config_load()
    t0 = time.perf_counter()
    rows = _floor_fetch(PaymentStatus.SCHEDULED)
    floor_fetch_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    floor_files = _floor_write(rows, config, directory / "floor")
    floor_write_s = time.perf_counter() - t0
    assert len(rows) == args.payments
    del rows
    rss_end = _rss_mib()
    same = all(
        hashlib.sha256(data).hexdigest() == next(f["sha256"] for f in run.files if f["name"] == n)
        for n, data in floor_files.items()
    ) and len(floor_files) == len(run.files)

    floor_s = floor_fetch_s + floor_write_s
    ratio = engine_s / floor_s
    rate = args.payments / engine_s
    previous = 0.0
    print(f"engine payment_run         {engine_s:>10.3f} s  ({rate:,.0f} payments/s)")
    for stage, at in stages:  # the time up to each progress report of the run
        print(f"  … {at - previous:>21.3f} s  up to 「{stage}」 ({STAGES.get(stage, '')})")
        previous = at
    for f in run.files:
        print(f"  {f['name']:<22} {f['bytes']:>12,} bytes  sha256 {f['sha256']}")
    print(f"floor fetch (values_list)  {floor_fetch_s:>10.3f} s")
    print(f"floor write (format, files){floor_write_s:>10.3f} s  (sort, f-strings, cp932, csv)")
    print(f"floor total                {floor_s:>10.3f} s  (bytes identical to the engine's: "
          f"{'yes' if same else 'NO'})")  # fmt: skip
    print(f"ratio engine / floor       {ratio:>10.2f}")
    print(f"peak RSS                   {rss_end:>10.0f} MiB  (after setup {rss_setup:.0f}, "
          f"after the engine {rss_engine:.0f})")  # fmt: skip
    if profiler:
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        sys.stderr.write(stream.getvalue())
        if args.profile_out:
            stats.dump_stats(args.profile_out)
    zengin_bytes = sum(f["bytes"] for f in zengin)
    print(
        f"RESULT payments={args.payments} setup_s={setup_s:.1f} engine_s={engine_s:.3f}"
        f" payments_per_s={rate:.0f} floor_fetch_s={floor_fetch_s:.3f}"
        f" floor_write_s={floor_write_s:.3f} floor_s={floor_s:.3f} ratio={ratio:.2f}"
        f" rss_mib={rss_end:.0f} rss_engine_mib={rss_engine:.0f} zengin_bytes={zengin_bytes}"
        f" register_bytes={register['bytes']} floor_identical={'yes' if same else 'no'}"
        f" profiled={'yes' if profiler else 'no'} db={db}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--seed", type=int, default=20261214)
    parser.add_argument("--profile", action="store_true", help="cProfile the engine (stderr)")
    parser.add_argument("--profile-out", type=Path, help="with --profile: also dump the stats")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="kokuho-bench-payments-"))
    try:
        _django(directory, args.sqlite)
        _bench(args, directory)
    finally:
        if not args.sqlite:
            from django.db import connections

            connections.close_all()
            pg_drop(PG_DB, PG_VAULT_DB)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
