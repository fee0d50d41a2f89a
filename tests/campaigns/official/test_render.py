"""The official report's two renderers, read back: the Word file through python-docx, the PDF
through poppler's tools. Every text of the content comes out exactly (NFC, no letter lost or
replaced), typed markup stays text, the fonts are the ones meant and the pages are A4. The PDF's
body is WeasyPrint's and its appendix ReportLab's (`pdf_table.py`), joined into one file."""

import dataclasses
import io
import re
import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from campaigns.official.content import (
    Appendix,
    Header,
    Paragraph,
    ReportDocument,
    Section,
    Signature,
)
from campaigns.official.docx import render_docx
from campaigns.official.pdf import font_urls, render_html, render_pdf
from campaigns.official.pdf_table import REGULAR, register_fonts, render_appendix_pdf, wrap_lines
from tests.conftest import require

TYPED_MARKUP = "Ý kiến: <b>HTML</b> & {DATE \\@ field} giữ nguyên như đã gõ."
COLUMNS = [
    "STT",
    "Đơn vị",
    "Số đảng viên",
    "Đã học",
    "Tỷ lệ",
    "Chưa học",
    "Thu hoạch",
    "Kế hoạch",
    "Gương điển hình",
    "Ghi chú",
]


def appendix_row(number: int) -> list[str]:
    return [
        str(number),
        f"Chi bộ Tổ dân phố số {number} phường Văn Miếu - Quốc Tử Giám",
        str(30 + number),
        str(28 + number),
        f"{90 + number % 10} %",
        "2",
        str(25 + number),
        "Đã có" if number % 2 else "Chưa có",
        "Nguyễn Thị Ưởng",
        "Ổn định",
    ]


def sample_document(*, rows: int = 30, on_behalf: str = "T/M BAN THƯỜNG VỤ") -> ReportDocument:
    return ReportDocument(
        language="vi",
        as_of=date(2024, 4, 5),
        header=Header(
            superior_body="ĐẢNG BỘ THÀNH PHỐ HÀ NỘI",
            issuing_body="QUẬN ỦY ĐỐNG ĐA",
            number="Số 15-BC/QU",
            place_and_date="Đống Đa, ngày 05 tháng 4 năm 2024",
            kind="BÁO CÁO",
            title="Kết quả học tập, quán triệt chuyên đề năm 2024\ncủa Đảng bộ quận Đống Đa",
        ),
        sections=[
            Section(
                heading="I. KẾT QUẢ HỌC TẬP, QUÁN TRIỆT",
                paragraphs=[
                    Paragraph(
                        key="study",
                        text=(
                            "Đảng ủy phường Văn Miếu - Quốc Tử Giám đã tổ chức học tập cho "
                            "toàn thể đảng viên; tỷ lệ đạt 95,4 %.\n\n"
                            "Những chữ khó: ữ ỹ ặ ở ộ, Ừ Ỹ Ặ Ở Ộ, ẩ ẫ ậ ề ễ ệ ỉ ĩ ị ỏ õ ọ ố ổ "
                            "ỗ ờ ớ ỡ ợ ủ ũ ụ ứ ử ự ỳ ỷ ỵ đ Đ."
                        ),
                    ),
                    Paragraph(key="opinion", text=TYPED_MARKUP, edited=True),
                ],
            ),
            Section(
                heading="II. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
                paragraphs=[
                    Paragraph(
                        key="plans",
                        text="Tiếp tục đôn đốc các chi bộ chưa học bù hoàn thành trước "
                        "ngày 30/4/2024.",
                    )
                ],
            ),
        ],
        recipients_label="Nơi nhận:",
        recipients=["- Thành ủy Hà Nội,", "- Ban Tuyên giáo Thành ủy,", "- Lưu VPQU."],
        signature=Signature(on_behalf=on_behalf, title="PHÓ BÍ THƯ", name="Trần Quốc Hưởng"),
        appendix=Appendix(
            title="PHỤ LỤC",
            subtitle="Tình hình thực hiện của các đơn vị, đến ngày 05/04/2024",
            columns=COLUMNS,
            widths=[5, 30, 8, 8, 7, 8, 8, 8, 14, 10],
            rows=[appendix_row(number) for number in range(1, rows + 1)],
            numeric=[0, 2, 3, 4, 5, 6],
        ),
        document_title="Báo cáo kết quả học tập chuyên đề năm 2024",
    )


def body_texts(document: ReportDocument) -> list[str]:
    """Every document paragraph the sections make, in order."""
    texts = []
    for section in document.sections:
        texts.append(section.heading)
        for paragraph in section.paragraphs:
            texts += [piece for piece in paragraph.text.split("\n") if piece.strip()]
    return texts


def all_texts(document: ReportDocument) -> list[str]:
    header = document.header
    signature = document.signature
    return [
        header.superior_body,
        header.issuing_body,
        header.number,
        header.party_name,
        header.place_and_date,
        header.kind,
        *header.title.split("\n"),
        *body_texts(document),
        document.recipients_label,
        *document.recipients,
        *[text for text in (signature.on_behalf, signature.title, signature.name) if text],
        document.appendix.title,
        document.appendix.subtitle,
    ]


def vietnamese_letters(document: ReportDocument) -> set[str]:
    return {letter for text in all_texts(document) for letter in text if ord(letter) > 127}


# --- The Word file ------------------------------------------------------------------------


def read_docx(document: ReportDocument):
    return Document(io.BytesIO(render_docx(document)))


def test_docx_holds_every_text_exactly():
    document = sample_document()
    word = read_docx(document)
    masthead, closing, _appendix = word.tables
    header = document.header

    left, right = masthead.rows[0].cells
    assert [p.text for p in left.paragraphs] == [
        header.superior_body,
        header.issuing_body,
        "*",
        header.number,
    ]
    assert right.paragraphs[0].text == header.party_name
    assert right.paragraphs[-1].text == header.place_and_date

    paragraphs = [p.text for p in word.paragraphs if p.text]
    assert paragraphs[:3] == [header.kind, header.title, "-----"]
    assert paragraphs[3 : 3 + len(body_texts(document))] == body_texts(document)
    assert TYPED_MARKUP in paragraphs
    assert all(unicodedata.is_normalized("NFC", text) for text in paragraphs)

    recipients, signature = closing.rows[0].cells
    assert [p.text for p in recipients.paragraphs] == [
        document.recipients_label,
        *document.recipients,
    ]
    assert [p.text for p in signature.paragraphs if p.text] == [
        "T/M BAN THƯỜNG VỤ",
        "PHÓ BÍ THƯ",
        "Trần Quốc Hưởng",
    ]
    assert word.core_properties.title == document.document_title
    assert word.core_properties.language == "vi-VN"


def test_docx_appendix_table_repeats_its_header_row():
    document = sample_document()
    table = read_docx(document).tables[2]

    assert len(table.rows) == 1 + 30
    assert [cell.text for cell in table.rows[0].cells] == COLUMNS
    assert [cell.text for cell in table.rows[1].cells] == appendix_row(1)
    assert [cell.text for cell in table.rows[30].cells] == appendix_row(30)
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    numeric_cell = table.rows[1].cells[2].paragraphs[0]
    name_cell = table.rows[1].cells[1].paragraphs[0]
    assert numeric_cell._p.pPr.find(qn("w:jc")).get(qn("w:val")) == "right"
    assert name_cell._p.pPr.find(qn("w:jc")) is None
    widths = [cell.width for cell in table.rows[1].cells]
    assert widths[1] == pytest.approx(widths[0] * 6, rel=0.01)


def test_docx_font_language_and_page():
    word = read_docx(sample_document())

    defaults = word.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    for fonts in (
        defaults.find(qn("w:rPr")).find(qn("w:rFonts")),
        word.styles["Normal"].element.rPr.find(qn("w:rFonts")),
    ):
        assert {fonts.get(qn(f"w:{slot}")) for slot in ("ascii", "hAnsi", "eastAsia", "cs")} == {
            "Times New Roman"
        }
        assert fonts.get(qn("w:asciiTheme")) is None
    assert word.styles["Normal"].font.size.pt == 14
    language = defaults.find(qn("w:rPr")).find(qn("w:lang"))
    assert language.get(qn("w:val")) == "vi-VN"

    portrait, landscape = word.sections
    assert_mm(portrait.page_width, 210)
    assert_mm(portrait.page_height, 297)
    assert_mm(landscape.page_width, 297)
    assert_mm(landscape.page_height, 210)
    for section in word.sections:
        assert_mm(section.top_margin, 20)
        assert_mm(section.bottom_margin, 20)
        assert_mm(section.left_margin, 30)
        assert_mm(section.right_margin, 15)


def assert_mm(length, millimetres: float) -> None:
    assert abs(length - Mm(millimetres)) < Mm(0.1), (length.mm, millimetres)


def test_docx_in_english_says_so():
    document = dataclasses.replace(sample_document(), language="en")
    word = read_docx(document)
    defaults = word.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    assert defaults.find(qn("w:rPr")).find(qn("w:lang")).get(qn("w:val")) == "en-GB"
    assert word.core_properties.language == "en-GB"


def test_docx_drops_characters_xml_cannot_hold():
    document = sample_document(rows=1)
    document.sections[0].paragraphs[0].text = "Trước\x00 sau\x0b\r\nđoạn \ud800mới\x1f"
    document.appendix.rows[0][1] = "Chi bộ\x08 số 1"

    word = read_docx(document)

    texts = [p.text for p in word.paragraphs]
    assert "Trước sau" in texts
    assert "đoạn mới" in texts
    assert word.tables[2].rows[1].cells[1].text == "Chi bộ số 1"


def test_docx_without_rows_or_on_behalf_line():
    word = read_docx(sample_document(rows=0, on_behalf=""))

    appendix = word.tables[2]
    assert len(appendix.rows) == 1
    signature = word.tables[1].rows[0].cells[1]
    assert [p.text for p in signature.paragraphs if p.text] == ["PHÓ BÍ THƯ", "Trần Quốc Hưởng"]


# --- The PDF ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def poppler():
    tools = ("pdftotext", "pdffonts", "pdfinfo")
    require(all(shutil.which(tool) for tool in tools), "poppler-utils (" + ", ".join(tools) + ")")


@pytest.fixture(scope="module")
def sample_pdf(poppler, tmp_path_factory) -> Path:
    """The sample report drawn once for the module: a PDF takes about half a second."""
    return written(render_pdf(sample_document()), tmp_path_factory.mktemp("official"))


def written(pdf: bytes, directory: Path) -> Path:
    path = directory / "report.pdf"
    path.write_bytes(pdf)
    return path


def poppler_output(*command: str) -> str:
    return subprocess.run(command, capture_output=True, check=True, text=True).stdout


def pdf_text(path: Path) -> str:
    text = poppler_output("pdftotext", "-layout", "-enc", "UTF-8", str(path), "-")
    return unicodedata.normalize("NFC", text)


def words(text: str) -> str:
    """The text as one line of single spaces: the layout mode lays the two header columns side
    by side and wraps justified paragraphs, so a text is looked for word by word."""
    return " ".join(text.split())


def test_pdf_holds_every_text(sample_pdf):
    document = sample_document()
    text = pdf_text(sample_pdf)
    flowing = words(text)

    for expected in all_texts(document):
        expected = unicodedata.normalize("NFC", expected)
        if len(expected) > 40:
            assert words(expected) in flowing, expected
        else:
            # Short lines of the header and closing blocks sit beside the other column's line.
            assert expected in text, expected
    assert "<b>HTML</b> & {DATE \\@ field}" in flowing
    # A cell may wrap, and its lines then sit among the next cells' lines: word by word.
    drawn_words = set(flowing.split())
    for cells in (COLUMNS, appendix_row(1), appendix_row(30)):
        for cell in cells:
            assert set(cell.split()) <= drawn_words, cell


def test_pdf_draws_every_vietnamese_letter(sample_pdf):
    document = sample_document()
    text = pdf_text(sample_pdf)

    assert {letter for letter in vietnamese_letters(document) if letter not in text} == set()
    assert "\ufffd" not in text
    assert "?" not in text


def test_pdf_embeds_only_liberation_serif(sample_pdf):
    rows = poppler_output("pdffonts", str(sample_pdf)).splitlines()[2:]

    assert rows
    for row in rows:
        assert re.fullmatch(r"([A-Z]{6}\+)?Liberation-?Serif(-\w+)?", row.split()[0]), row
        # From the end: emb, sub, uni, then the object number and generation.
        assert row.split()[-5] == "yes", row


def test_pdf_fonts_come_from_the_project():
    html = render_html(sample_document())
    for url in font_urls().values():
        assert f'url("{url}")' in html
        assert Path(url.removeprefix("file://")).is_file()


PORTRAIT, LANDSCAPE = (595, 842), (842, 595)


def page_sizes(path: Path) -> list[tuple[int, int]]:
    info = poppler_output("pdfinfo", "-f", "1", "-l", "9999", str(path))
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    return [(round(float(width)), round(float(height))) for width, height in sizes]


def appendix_pages(path: Path) -> list[str]:
    """The text of each landscape page, one by one."""
    return [
        unicodedata.normalize(
            "NFC",
            poppler_output(
                "pdftotext", "-layout", "-enc", "UTF-8", "-f", str(n), "-l", str(n), str(path), "-"
            ),
        )
        for n, size in enumerate(page_sizes(path), start=1)
        if size == LANDSCAPE
    ]


def test_pdf_pages_are_a4_and_titled(sample_pdf):
    info = poppler_output("pdfinfo", str(sample_pdf))
    sizes = page_sizes(sample_pdf)

    # The report on portrait pages, then the appendix across landscape ones.
    body = sizes.count(PORTRAIT)
    assert body >= 1
    assert sizes == [PORTRAIT] * body + [LANDSCAPE] * (len(sizes) - body)
    assert sizes[-1] == LANDSCAPE
    assert re.search(r"^Title:\s+Báo cáo kết quả học tập chuyên đề năm 2024$", info, re.MULTILINE)
    assert re.search(r"^Author:\s+QUẬN ỦY ĐỐNG ĐA$", info, re.MULTILINE)
    assert PdfReader(sample_pdf).trailer["/Root"]["/Lang"] == "vi-VN"


def test_pdf_appendix_flows_over_pages_with_its_header_on_each(poppler, tmp_path):
    document = sample_document(rows=300)
    path = written(render_pdf(document), tmp_path)

    pages = appendix_pages(path)
    assert len(pages) >= 4
    assert "PHỤ LỤC" in pages[0]
    assert all("PHỤ LỤC" not in page for page in pages[1:])
    numbers = []
    for page in pages:
        # The header row once on every page, at its top: "STT" is in no other cell.
        assert page.count("STT") == 1, page
        assert {"Gương", "điển", "hình", "Thu", "hoạch"} <= set(page.split())
        assert page.index("STT") < page.index("Chi bộ Tổ dân phố")
        # A row's first line starts with its number and its unit's name.
        numbers += [int(n) for n in re.findall(r"^\s*(\d+)\s+Chi bộ Tổ", page, re.MULTILINE)]
    # Every row once, in order: none lost or repeated where a page ends.
    assert numbers == list(range(1, 301))


def test_pdf_appendix_keeps_typed_text_and_drops_what_it_cannot_draw(poppler, tmp_path):
    document = sample_document(rows=3)
    document.appendix.title = "PHỤ\x00 LỤC\ud800"
    document.appendix.rows[0][1] = "<b>Chi bộ</b> & {DATE}"
    document.appendix.rows[1][1] = "Chi bộ\ud800 Tổ\x07 dân\x1b phố số 2"
    document.appendix.rows[2][8] = "Nguyễn\tThị\r\nƯởng"

    text = pdf_text(written(render_pdf(document), tmp_path))

    assert "<b>Chi bộ</b> & {DATE}" in text
    assert "PHỤ LỤC" in text
    assert "Chi bộ Tổ dân phố số 2" in text
    assert {"Nguyễn", "Thị", "Ưởng"} <= set(text.split())
    assert "\ufffd" not in text


def test_pdf_appendix_never_breaks_a_number(poppler, tmp_path):
    # The first column is 5/106 of the table: "10.000" is wider than it less its padding.
    document = sample_document(rows=3)
    document.appendix.rows[0][0] = "10.000"
    document.appendix.rows[1][0] = "100.000.000"

    text = pdf_text(written(render_pdf(document), tmp_path)).split()

    assert "10.000" in text
    assert "100.000.000" in text


def test_pdf_appendix_without_rows_or_columns(poppler, tmp_path):
    no_rows = sample_document(rows=0)
    path = written(render_pdf(no_rows), tmp_path)
    (page,) = appendix_pages(path)
    assert "PHỤ LỤC" in page
    assert "Gương" in page and "STT" in page

    no_appendix = dataclasses.replace(
        no_rows, appendix=dataclasses.replace(no_rows.appendix, columns=[], widths=[])
    )
    assert render_appendix_pdf(no_appendix.appendix, "vi") == b""
    path = written(render_pdf(no_appendix), tmp_path)
    assert set(page_sizes(path)) == {PORTRAIT}
    assert "PHỤ LỤC" not in pdf_text(path)


def test_pdf_appendix_row_taller_than_a_page_is_split(poppler, tmp_path):
    document = sample_document(rows=3)
    document.appendix.rows[1][1] = "Chi bộ rất dài " * 700 + "HẾT"
    document.appendix.rows[2][1] = "x" * 2000

    path = written(render_pdf(document), tmp_path)

    pages = appendix_pages(path)
    assert len(pages) >= 4
    assert all(page.count("STT") == 1 for page in pages)
    text = words(" ".join(pages))
    assert "HẾT" in text
    assert text.count("x") == 2000
    assert "Chi bộ Tổ dân phố số 1 " in text


def test_wrap_lines_fits_every_line_and_keeps_every_word():
    register_fonts()
    text = "Chi bộ Trường Trung học phổ thông Kim Liên - Đống Đa (khối văn phòng)\nx" + "y" * 80
    lines = wrap_lines(text, REGULAR, 10, 100)

    assert len(lines) > 3
    assert all(stringWidth(line, REGULAR, 10) <= 100 for line in lines)
    assert "".join(" ".join(lines).split()) == "".join(text.split())
    assert lines[0] == "Chi bộ Trường Trung"
    assert wrap_lines("a\n\nb", REGULAR, 10, 100) == ["a", "", "b"]


def test_pdf_and_html_without_rows_or_on_behalf_line(poppler, tmp_path):
    document = sample_document(rows=0, on_behalf="")
    text = pdf_text(written(render_pdf(document), tmp_path))

    assert "PHÓ BÍ THƯ" in text
    assert "T/M" not in text
    assert "Gương điển hình" in text
    html = render_html(document)
    assert "<title>Báo cáo kết quả học tập chuyên đề năm 2024</title>" in html
    assert '<html lang="vi-VN">' in html


def test_pdf_drops_characters_it_cannot_draw(poppler, tmp_path):
    document = sample_document(rows=1)
    document.sections[0].paragraphs[0].text = "Trước\x00 sau\x1b\r\nđoạn \ud800mới"

    text = pdf_text(written(render_pdf(document), tmp_path))

    assert "Trước sau" in text
    assert "đoạn mới" in text


def test_html_escapes_typed_markup():
    html = render_html(sample_document())

    assert "&lt;b&gt;HTML&lt;/b&gt; &amp; {DATE \\@ field}" in html
    assert "<b>HTML</b>" not in html


def test_html_preview_shows_the_appendix_and_the_pdf_page_does_not():
    document = sample_document(rows=2)
    row = "<td>Chi bộ Tổ dân phố số 2 phường Văn Miếu - Quốc Tử Giám</td>"

    preview = render_html(document)
    assert '<section class="appendix">' in preview
    assert row in preview
    body = render_html(document, include_appendix=False)
    assert "appendix" not in body.split("</style>")[1]
    assert row not in body
    # A template comment left as text would be drawn on the first page.
    assert "{#" not in preview and "#}" not in preview
