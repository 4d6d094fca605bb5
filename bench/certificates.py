"""Benchmark the 証・通知 PDF (`certificates.pdf.documents_pdf`) against a floor.

    .venv/bin/python bench/certificates.py [--documents 10000] [--repeat 3] [--out FILE]

* documents — `documents_pdf` over ``--documents`` documents of a yearly renewal, all
  mailed (an addressee each) and sorted by postal code as a mailing batch is: ~60 %
  資格情報のお知らせ, ~35 % 資格確認書, ~5 % 認定証 (限度額, 減額 with and without 長期入院,
  特定疾病); about a fifth of the people are 70–74 (割合 with its 発効期日, an お知らせ with an
  end). Names, addresses (some with a 方書), numbers and dates vary per person, so the font
  subsets see what a real batch brings. The PDF is checked to have one page a document.
* floor — reportlab's canvas drawing the same number of pages with the same text strings
  (every string each page prints, in one font, IPAexMincho, one `drawString` each at fixed
  places, no layout, no checks, no lines) into one document: what the text alone costs.
  ``ratio`` = documents time ÷ floor time. It can be below 1: the renderer draws the texts
  that are the same on every page of a kind (cover text, notes) once into a form XObject,
  the floor draws every string on every page.

Fonts are registered before timing (once per process, as in the server). Times are the best
of ``--repeat`` runs; peak RSS is the process's high-water mark once the documents runs are
done (the 10,000 inputs, their layouts and the PDF, before the floor). The last line is
``RESULT key=value ...``. Target: ≥ 200 pages/s on the project's 2-core machine.
"""

import argparse
import datetime as dt
import io
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = ("蜜柑", "山田", "佐藤", "伊予", "松山", "髙橋", "渡邊", "宇和島", "今治", "越智",
            "村上", "河野", "曽我部", "二宮", "玉井")  # fmt: skip
GIVEN = ("太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "千尋", "大輔", "恵美", "勝", "キヨ",
         "ハルヱ", "龍之介", "さくら", "蓮", "結衣")  # fmt: skip
TOWNS = ("本町", "道後町", "南堀端町", "みかん台", "港町", "城北", "中央", "久米", "石手", "北条辻")
BUILDINGS = ("みかんハイツ", "コーポ城北", "グランドメゾン道後", "県営港町団地", "サンシャイン久米")
DISEASES = (
    "人工透析を要する慢性腎不全",
    "血漿分画製剤を投与している先天性血液凝固第Ⅷ因子障害又は第Ⅸ因子障害（血友病）",
    "抗ウイルス剤を投与している後天性免疫不全症候群（HIV感染を含む）",
)
RENEWAL = dt.date(2026, 8, 1)
UNTIL = dt.date(2027, 7, 31)
ISSUED = dt.date(2026, 7, 15)


def _documents(count: int, seed: int):
    from kokuho.certificates.pdf import DocumentAddressee, DocumentPrint

    rnd = random.Random(seed)
    docs = []
    serial = 0
    while len(docs) < count:  # one household at a time: the head is the addressee
        surname = rnd.choice(SURNAMES)
        head = f"{surname} {rnd.choice(GIVEN)}"
        address = (
            f"みかん市{rnd.choice(TOWNS)}{rnd.randint(1, 9)}丁目{rnd.randint(1, 30)}番"
            f"{rnd.randint(1, 20)}号"
        )
        if rnd.random() < 0.3:
            address += f"\n{rnd.choice(BUILDINGS)}{rnd.randint(101, 1205)}号室"
        addressee = DocumentAddressee(f"79{rnd.randint(0, 9)}-{rnd.randrange(10000):04d}",
                                      address, head)  # fmt: skip
        symbol = str(rnd.randint(10, 49))
        number = f"{rnd.randrange(10**7):07d}"
        for branch in range(1, rnd.choice((1, 1, 2, 2, 2, 3, 4)) + 1):
            name = head if branch == 1 else f"{surname} {rnd.choice(GIVEN)}"
            age = rnd.choices((rnd.randint(0, 64), rnd.randint(65, 69), rnd.randint(70, 74)),
                              weights=(55, 25, 20))[0]  # fmt: skip
            birth = dt.date(2026 - age - 1, rnd.randint(1, 12), rnd.randint(1, 28))
            elderly = age >= 70
            roll = rnd.random()
            serial += 1
            common = {
                "serial": f"KK2026-{serial:07d}",
                "issued_on": ISSUED,
                "valid_from": RENEWAL,
                "symbol": symbol,
                "number": number,
                "branch": f"{branch:02d}",
                "name": name,
                "birth_date": birth,
                "sex": rnd.choice("男女"),
                "acquired_on": max(birth, dt.date(rnd.randint(1990, 2025), rnd.randint(1, 12), 1)),
                "head_name": head,
                "address": address,
                "addressee": addressee,
            }
            if roll < 0.60:
                docs.append(DocumentPrint(
                    doc_type="oshirase", valid_until=UNTIL if elderly else None,
                    copay_rate=rnd.choice(("2割", "3割")) if elderly else "3割",
                    copay_from=RENEWAL if elderly else None, **common,
                ))  # fmt: skip
            elif roll < 0.95:
                docs.append(DocumentPrint(
                    doc_type="kakuninsho", valid_until=UNTIL,
                    copay_rate=rnd.choice(("2割", "3割")) if elderly else "3割",
                    copay_from=RENEWAL if elderly else None,
                    category=rnd.choice("ウエ") if rnd.random() < 0.1 and not elderly else None,
                    **common,
                ))  # fmt: skip
            else:
                kind = rnd.choice(("gendogaku", "gendogaku", "gengaku", "tokutei"))
                if kind == "gendogaku":
                    category = rnd.choice(("現役並みⅠ", "現役並みⅡ") if elderly else "アイウエ")
                    extra = {"category": category, "valid_until": UNTIL}
                elif kind == "gengaku":
                    category = rnd.choice(("低所得Ⅱ", "低所得Ⅰ") if elderly else ("オ",))
                    long_stay = (
                        dt.date(2026, 6, 1)
                        if rnd.random() < 0.2 and category != "低所得Ⅰ"
                        else None
                    )
                    extra = {
                        "category": category,
                        "valid_until": UNTIL,
                        "long_stay_from": long_stay,
                    }
                else:
                    extra = {"disease": rnd.choice(DISEASES), "valid_until": None,
                             "limit_amount": rnd.choice((10_000, 20_000))}  # fmt: skip
                docs.append(DocumentPrint(doc_type=kind, **extra, **common))
            if len(docs) == count:
                break
    docs.sort(key=lambda d: (d.addressee.postal_code, d.addressee.address, d.serial))
    return docs


def _texts(docs, insurer) -> list[list[str]]:
    """Every string each page prints, in order (not timed)."""
    from kokuho.certificates.pdf import _Fixed, _page

    pages = []
    for doc in docs:
        texts = []
        for item in _page(doc, insurer).runs:
            texts += [run[4] for run in item.runs] if isinstance(item, _Fixed) else [item[4]]
        pages.append(texts)
    return pages


def _floor(pages: list[list[str]]) -> bytes:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from kokuho.core.pdf import MINCHO

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=MINCHO)
    for texts in pages:
        c.setFont(MINCHO, 9)
        y = 800.0
        for text in texts:
            c.drawString(40, y, text)
            y = y - 11 if y > 60 else 800.0
        c.showPage()
    previous, rl_config.useA85 = rl_config.useA85, 0  # the same streams as the documents
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
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--out", type=Path, help="write the documents PDF here")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django

    django.setup()
    from pypdf import PdfReader

    from kokuho.certificates.pdf import InsurerInfo, documents_pdf
    from kokuho.core.pdf import fonts_register

    fonts_register()
    insurer = InsurerInfo("みかん市", "389999", "みかん市役所 保険年金課 国保係 電話 089-000-0000")
    docs = _documents(args.documents, args.seed)
    mix: dict[str, int] = {}
    for doc in docs:
        mix[doc.doc_type] = mix.get(doc.doc_type, 0) + 1

    seconds, pdf = _best(args.repeat, lambda: documents_pdf(docs, insurer=insurer))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the checks
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    if pages != len(docs):
        raise SystemExit(f"expected {len(docs)} pages, got {pages}")
    if args.out:
        args.out.write_bytes(pdf)
    texts = _texts(docs, insurer)
    floor_seconds, floor_pdf = _best(args.repeat, lambda: _floor(texts))

    rate, floor_rate = pages / seconds, pages / floor_seconds
    ratio = seconds / floor_seconds
    runs = sum(map(len, texts)) / pages
    print("mix:       " + ", ".join(f"{k} {v:,}" for k, v in sorted(mix.items())))
    print(
        f"documents: {pages:,} pages in {seconds:.3f} s = {rate:,.0f} pages/s ({len(pdf):,} bytes)"
    )
    print(
        f"floor:     {pages:,} pages in {floor_seconds:.3f} s = {floor_rate:,.0f} pages/s "
        f"({len(floor_pdf):,} bytes; the same {runs:.0f} strings a page, one font, no layout)"
    )
    verdict = "met" if rate >= 200 else "NOT met"
    print(f"ratio:     ×{ratio:.2f} the floor; target ≥ 200 pages/s: {verdict}")
    print(f"peak RSS:  {peak_mib:,.0f} MiB (the process, up to the end of the documents runs)")
    print(
        f"RESULT pages={pages} seconds={seconds:.3f} pages_per_s={rate:.0f} "
        f"floor_pages_per_s={floor_rate:.0f} ratio={ratio:.2f} peak_rss_mib={peak_mib:.0f} "
        f"bytes={len(pdf)}"
    )


if __name__ == "__main__":
    main()
