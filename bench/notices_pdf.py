"""Benchmark the 高額療養費 notice PDFs against a floor measured in the same run.

    .venv/bin/python bench/notices_pdf.py [--notices 1000] [--repeat 3] [--out FILE]

* notices — `decision_notices_pdf` over ``--notices`` 支給決定通知書 with realistic content:
  an addressee with a 方書, 2 persons, a masked 振込先 and 8 計算明細 lines of the shape
  `kogaku.explain` writes (one of them long enough to wrap); amounts, names and numbers vary
  per notice, so the font subsets and the line breaking see what a real batch brings. The
  PDF is checked to have one page per notice.
* floor — reportlab's canvas drawing the same number of pages with one short string each,
  in the same embedded font (IPAexMincho), into one document: what any PDF of that many
  pages costs. ``ratio`` = notices time ÷ floor time.
* replay — the same canvas calls the notices made (every string, line and rectangle, same
  fonts and places), recorded once and played back on a fresh canvas without any layout,
  line breaking or checks: what reportlab itself spends on this content. notices ÷ replay
  is the share of our own code.

Fonts are registered before timing (once per process, as in the server). Times are the best
of ``--repeat`` runs. The last line is ``RESULT key=value ...``.
"""

import argparse
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = ("給付", "蜜柑", "山田", "佐藤", "伊予", "松山", "髙橋", "渡邊", "宇和島", "今治")
GIVEN = ("太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "千尋", "大輔", "恵美")
TOWNS = ("本町", "道後町", "南堀端町", "みかん台", "港町", "城北", "中央")
HOLDERS = ("キユウフ タロウ", "ミカン ハナコ", "ヤマダ イチロウ")
BANKS = ("みかん銀行 本店", "伊予信用金庫 城北支店", "ゆうちょ銀行 〇一八店")


def _birth(rnd: random.Random) -> str:
    return f"19{rnd.randint(57, 99)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"


def _notices(count: int, seed: int):
    from kokuho.benefits.notices import DecisionNotice, NoticeAddressee, NoticePerson

    rnd = random.Random(seed)
    notices = []
    for i in range(count):
        surname = rnd.choice(SURNAMES)
        head, other = f"{surname} {rnd.choice(GIVEN)}", f"{surname} {rnd.choice(GIVEN)}"
        copay1 = rnd.randrange(60_000, 400_000, 10)
        copay2 = rnd.randrange(21_000, 90_000, 10)
        cost = (copay1 + copay2) * 10 // 3
        limit = 80_100 + max(cost - 267_000, 0) // 100
        amount = copay1 + copay2 - limit
        share1 = amount * copay1 // (copay1 + copay2)  # 按分: remainder to the larger
        share2 = amount * copay2 // (copay1 + copay2)
        if copay1 >= copay2:
            share1 = amount - share2
        else:
            share2 = amount - share1
        steps = (
            "診療月 2026-07（令和8年7月）",
            f"P1: {_birth(rnd)}生・70歳未満・区分 ウ",
            f"P2: {_birth(rnd)}生・70歳未満・区分 ウ",
            f"P1 38{rnd.randrange(10**7, 10**8)} 入院 医科: 一部負担金 {copay1:,}円・医療費 "
            f"{copay1 * 10 // 3:,}円 → 21,000円以上のため合算",
            f"P2 38{rnd.randrange(10**7, 10**8)} 外来 医科: 一部負担金 {copay2:,}円・医療費 "
            f"{copay2 * 10 // 3:,}円（レセプト 2 件を合わせる（調剤は処方元に合算）） → "
            "21,000円以上のため合算",
            "多数回: 直前11か月の支給月なし → 非該当",
            f"手順3 世帯全体の合算: {copay1 + copay2:,}円 − 限度額 {limit:,}円（ウ: 80,100 + "
            f"({cost:,} − 267,000) × 1% = {limit:,}） → 支給 {amount:,}円",
            f"按分（手順3）: P1 {copay1:,}円 → {share1:,}円、P2 {copay2:,}円 → {share2:,}円"
            "（円未満切捨て、端数は最も多い人）",
        )
        notices.append(
            DecisionNotice(
                notice_no=f"K-2026-07-{i + 1:06d}",
                issued_on=dt.date(2026, 9, 15),
                addressee=NoticeAddressee(
                    postal_code=f"799-{rnd.randrange(10000):04d}",
                    address=f"みかん市{rnd.choice(TOWNS)}{rnd.randint(1, 9)}丁目"
                    f"{rnd.randint(1, 30)}番{rnd.randint(1, 20)}号"
                    f"\nみかんハイツ{rnd.randint(101, 509)}号",
                    name=head,
                ),
                insured_symbol="10",
                insured_number=f"{rnd.randrange(10**7):07d}",
                service_month=dt.date(2026, 7, 1),
                amount=amount,
                decided_on=dt.date(2026, 9, 10),
                kind_label=rnd.choice(("申請による決定", "申請簡素化による決定")),
                payee=f"{rnd.randrange(10**4):04d} {rnd.choice(BANKS)} 普通 "
                f"****{rnd.randrange(1000):03d} {rnd.choice(HOLDERS)}",
                payment_due_on=dt.date(2026, 9, 25),
                persons=(NoticePerson(head, copay1, share1), NoticePerson(other, copay2, share2)),
                steps=steps,
            )
        )
    return notices


def _floor(pages: int) -> bytes:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from kokuho.core.pdf import MINCHO

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    for i in range(pages):
        c.setFont(MINCHO, 10.5)
        c.drawString(72, 720, f"高額療養費支給決定通知書 {i + 1}")
        c.showPage()
    previous, rl_config.useA85 = rl_config.useA85, 0  # the same streams as the notices
    try:
        c.save()
    finally:
        rl_config.useA85 = previous
    return buffer.getvalue()


_RECORDED = (
    "setFont", "drawString", "drawRightString", "drawCentredString", "line", "rect",
    "setLineWidth", "setFillGray", "showPage", "setTitle", "setAuthor", "setCreator",
)  # fmt: skip


def _record(notices) -> list[tuple[str, tuple, dict]]:
    """The canvas calls `decision_notices_pdf` makes, in order (not timed)."""
    from reportlab.pdfgen.canvas import Canvas

    import kokuho.benefits.notices as module

    calls: list[tuple[str, tuple, dict]] = []

    def recorder(name):
        def method(self, *args, **kwargs):
            calls.append((name, args, kwargs))
            return getattr(Canvas, name)(self, *args, **kwargs)

        return method

    recording = type("RecordingCanvas", (Canvas,), {n: recorder(n) for n in _RECORDED})
    module.Canvas = recording
    try:
        module.decision_notices_pdf(notices, municipality="みかん市")
    finally:
        module.Canvas = Canvas
    return calls


def _replay(calls) -> bytes:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    for name, args, kwargs in calls:
        getattr(c, name)(*args, **kwargs)
    previous, rl_config.useA85 = rl_config.useA85, 0
    try:
        c.save()
    finally:
        rl_config.useA85 = previous
    return buffer.getvalue()


def _best(repeat: int, fn):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260915)
    parser.add_argument("--out", type=Path, help="write the notices PDF here")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django

    django.setup()
    from pypdf import PdfReader

    from kokuho.benefits.notices import decision_notices_pdf
    from kokuho.core.pdf import fonts_register

    fonts_register()
    notices = _notices(args.notices, args.seed)

    seconds, pdf = _best(
        args.repeat, lambda: decision_notices_pdf(notices, municipality="みかん市")
    )
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    if pages != len(notices):
        raise SystemExit(f"expected {len(notices)} pages, got {pages}")
    if args.out:
        args.out.write_bytes(pdf)
    floor_seconds, floor_pdf = _best(args.repeat, lambda: _floor(pages))
    calls = _record(notices)
    replay_seconds, _ = _best(args.repeat, lambda: _replay(calls))

    rate, floor_rate = pages / seconds, pages / floor_seconds
    ratio = seconds / floor_seconds
    print(f"notices: {pages} pages in {seconds:.3f} s = {rate:,.0f} pages/s ({len(pdf):,} bytes)")
    print(
        f"floor:   {pages} pages in {floor_seconds:.3f} s = {floor_rate:,.0f} pages/s "
        f"({len(floor_pdf):,} bytes; one short string per page, same font)"
    )
    texts = sum(1 for name, *_ in calls if name.startswith("draw"))
    print(
        f"replay:  {pages} pages in {replay_seconds:.3f} s = {pages / replay_seconds:,.0f} "
        f"pages/s (the same {len(calls):,} canvas calls, {texts / pages:.0f} text runs a page, "
        f"no layout); notices = ×{seconds / replay_seconds:.2f} the replay"
    )
    verdict = "met" if rate >= 200 else "NOT met"
    print(f"ratio:   ×{ratio:.1f} the floor; target ≥ 200 pages/s: {verdict}")
    print(
        f"RESULT pages={pages} seconds={seconds:.3f} pages_per_s={rate:.0f} "
        f"floor_pages_per_s={floor_rate:.0f} ratio={ratio:.1f} "
        f"replay_pages_per_s={pages / replay_seconds:.0f} bytes={len(pdf)}"
    )


if __name__ == "__main__":
    main()
