"""The report PDF embeds its Japanese font and carries the text it was given."""

import io

from pypdf import PdfReader

from kokuho.core.pdf import Report, Section, report_pdf


def _render() -> PdfReader:
    report = Report(
        title="自己点検結果報告書",
        subtitle="令和8年10月分",
        meta=[("作成者", "監査担当 山田")],
        sections=[
            Section(heading="点検項目", rows=[("休眠アカウント", "1 件")]),
            Section(
                heading="一覧",
                table_header=["職員", "内容"],
                table=[[f"職員{i}", "勤務時間外の個人番号表示 <大量>"] for i in range(80)],
            ),
            Section(heading="空の節", empty_text="該当なし"),
        ],
        footer="Kokuho",
    )
    return PdfReader(io.BytesIO(report_pdf(report)))


def test_the_text_is_extractable_and_the_font_embedded():
    reader = _render()
    text = "".join(page.extract_text() for page in reader.pages)
    assert "自己点検結果報告書" in text
    assert "勤務時間外の個人番号表示 <大量>" in text
    assert "該当なし" in text
    assert len(reader.pages) >= 2  # the long table breaks over pages
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            for child in descriptor.get("/DescendantFonts", [descriptor]):
                fd = child.get_object().get("/FontDescriptor")
                if fd is not None and "/FontFile2" in fd.get_object():
                    fonts.add(str(fd.get_object()["/FontName"]))
    assert any("IPAexGothic" in name for name in fonts), fonts
