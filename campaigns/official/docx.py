"""The official report as a Word file, for the office to adjust before it is signed.

Laid out like the PDF (`pdf.py`), in the Central Office's format (guidance 36-HD/VPTW, 2018):
A4, margins 20/20/30/15 mm, Times New Roman 14 pt. The look lives in a few paragraph styles
rather than on every paragraph, so that a clerk who changes a style in Word changes it everywhere.

The appendix may list every unit of the district (10,000 rows): its rows are copied from one
template `w:tr` with lxml, because python-docx's `add_row()` and `row.cells` walk the whole table
on every call and take minutes at that size.
"""

import copy
import io
import re
import unicodedata
from datetime import UTC, datetime

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Emu, Mm, Pt

from .content import Appendix, Header, ReportDocument

FONT = "Times New Roman"
LANGUAGE_TAGS = {"vi": "vi-VN", "en": "en-GB"}
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
#: The left and right columns of the header and of the closing block (together the text width).
BLOCK_COLUMNS = (Mm(75), Mm(90))
#: The short rule under the party name.
RULE_LENGTH = Mm(60)
#: Empty lines left for the signature and the seal.
SIGNING_LINES = 4

# XML 1.0 forbids C0 controls but tab, newline and carriage return, lone surrogates and
# U+FFFE/U+FFFF; C1 controls and DEL are allowed but are never meant text. A stray one pasted
# from elsewhere must not make the file unwritable or unreadable, so it is dropped (and the
# carriage return with it: "\n" alone breaks paragraphs).
NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# Paragraph styles, by name; `_add_styles` defines them.
BLOCK = "Report Block"  # centred lines of the header, title and signature
HEADING = "Report Heading"
RECIPIENT = "Report Recipient"
CELL = "Report Table Cell"


def render_docx(document: ReportDocument) -> bytes:
    word = Document()
    _set_up_page(word.sections[0])
    _add_styles(word, LANGUAGE_TAGS.get(document.language, "vi-VN"))
    _set_properties(word, document)
    _add_masthead(word, document.header)
    _add_title(word, document.header)
    for section in document.sections:
        word.add_paragraph(style=HEADING).add_run(plain_text(section.heading))
        for paragraph in section.paragraphs:
            for piece in document_paragraphs(paragraph.text):
                word.add_paragraph(style="Normal").add_run(piece)
    _add_closing(word, document)
    if document.appendix.columns:
        _add_appendix(word, document.appendix)
    output = io.BytesIO()
    word.save(output)
    return output.getvalue()


def plain_text(text: str) -> str:
    """The text as it may go into a file: NFC (Word does not compose a decomposed letter, and a
    search would miss it) and without the characters XML cannot hold (`NOT_TEXT`)."""
    return unicodedata.normalize("NFC", NOT_TEXT.sub("", text))


def document_paragraphs(text: str) -> list[str]:
    """The document paragraphs of a content paragraph's text, for both renderers. Empty lines
    go, and so do surrounding spaces: the first-line indent does what a typist's spaces did."""
    return [piece for piece in (line.strip() for line in plain_text(text).split("\n")) if piece]


def column_shares(appendix: Appendix) -> list[float]:
    """Each column's share of the table's width, from `appendix.widths`; a missing or
    non-positive width counts as 1, so no column vanishes. The PDF uses the same shares."""
    count = len(appendix.columns)
    weights = [width if width > 0 else 1 for width in appendix.widths[:count]]
    weights += [1] * (count - len(weights))
    return [weight / sum(weights) for weight in weights]


def _set_up_page(section, *, landscape: bool = False) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (
        (PAGE_HEIGHT, PAGE_WIDTH) if landscape else (PAGE_WIDTH, PAGE_HEIGHT)
    )
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT


def _text_width(section) -> Emu:
    return Emu(section.page_width - section.left_margin - section.right_margin)


def _set_fonts(rpr, language_tag: str) -> None:
    """Times New Roman for every script slot. The template's defaults name theme fonts, which
    win over a named font, and Word picks the East Asian or complex-script slot for some
    Vietnamese letters, which would then fall back to Calibri or Cambria."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)
    language = rpr.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        rpr.append(language)
    language.set(qn("w:val"), language_tag)


def _add_styles(word, language_tag: str) -> None:
    defaults = word.styles.element.find(qn("w:docDefaults"))
    _set_fonts(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")), language_tag)

    normal = word.styles["Normal"]
    normal.font.size = Pt(14)
    _set_fonts(normal.element.get_or_add_rPr(), language_tag)
    body = normal.paragraph_format
    body.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    body.first_line_indent = Mm(10)
    body.line_spacing = 1.15
    body.space_before, body.space_after = Pt(0), Pt(6)

    def add(name, *, size, alignment, space_after, line_spacing=1.0):
        style = word.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.font.size = Pt(size)
        paragraph = style.paragraph_format
        paragraph.alignment = alignment
        paragraph.first_line_indent = Mm(0)
        paragraph.line_spacing = line_spacing
        paragraph.space_after = Pt(space_after)
        return style

    add(BLOCK, size=14, alignment=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    heading = add(
        HEADING, size=14, alignment=WD_ALIGN_PARAGRAPH.LEFT, space_after=6, line_spacing=1.15
    )
    heading.font.bold = True
    heading.paragraph_format.keep_with_next = True
    add(RECIPIENT, size=12, alignment=WD_ALIGN_PARAGRAPH.LEFT, space_after=0)
    add(CELL, size=11, alignment=WD_ALIGN_PARAGRAPH.LEFT, space_after=0)


def _set_properties(word, document: ReportDocument) -> None:
    properties = word.core_properties
    properties.title = plain_text(document.document_title)
    properties.language = LANGUAGE_TAGS.get(document.language, "vi-VN")
    # The template says it was written by "python-docx" in 2013; the file is the committee's.
    properties.author = properties.last_modified_by = plain_text(document.header.issuing_body)
    properties.comments = ""
    properties.created = properties.modified = datetime.now(UTC)


def _line(container, text: str, style: str = BLOCK, *, size: float | None = None, **look):
    """One paragraph of a single run; `look` is bold, italic or underline."""
    paragraph = container.add_paragraph(style=style)
    run = paragraph.add_run(plain_text(text))
    if size is not None:
        run.font.size = Pt(size)
    for attribute, value in look.items():
        setattr(run.font, attribute, value)
    return paragraph


def _table(word, widths: list[Emu], style=None):
    """A one-row table of fixed column widths, written where Word (the grid) and LibreOffice
    (the table's and the cells' widths) each look for them."""
    table = word.add_table(rows=1, cols=len(widths))
    table.style = style
    table.autofit = False
    for column, cell, width in zip(table.columns, table.rows[0].cells, widths, strict=True):
        column.width = cell.width = width
    table_width = table._tbl.tblPr.find(qn("w:tblW"))
    table_width.set(qn("w:type"), "dxa")
    table_width.set(qn("w:w"), str(Emu(sum(widths)).twips))
    return table


def _two_columns(word):
    """A borderless two-column table filling the text width; returns its two cells, emptied."""
    cells = _table(word, list(BLOCK_COLUMNS)).rows[0].cells
    for cell in cells:
        # A new cell holds an empty paragraph, which would open it with a blank line.
        cell._tc.remove(cell.paragraphs[0]._p)
    return cells


def _short_rule(cell, length: Emu, width: Emu) -> None:
    """An empty, nearly flat paragraph whose bottom border is the rule: a border on the party
    name itself would run as wide as the column."""
    rule = cell.add_paragraph(style=BLOCK)
    rule.paragraph_format.left_indent = rule.paragraph_format.right_indent = Emu(
        (width - length) // 2
    )
    rule.paragraph_format.line_spacing = Pt(2)
    border = parse_xml(
        f"<w:pBdr {nsdecls('w')}>"
        '<w:bottom w:val="single" w:sz="6" w:space="1" w:color="auto"/></w:pBdr>'
    )
    # pBdr comes before spacing and ind in w:pPr's sequence.
    rule._p.pPr.find(qn("w:spacing")).addprevious(border)


def _add_masthead(word, header: Header) -> None:
    body, party = _two_columns(word)
    _line(body, header.superior_body, size=13)
    _line(body, header.issuing_body, bold=True)
    _line(body, "*")
    _line(body, header.number)
    _line(party, header.party_name, size=15, bold=True)
    _short_rule(party, RULE_LENGTH, BLOCK_COLUMNS[1])
    place_and_date = _line(party, header.place_and_date, italic=True)
    place_and_date.paragraph_format.space_before = Pt(6)


def _add_title(word, header: Header) -> None:
    kind = _line(word, header.kind, size=15, bold=True)
    kind.paragraph_format.space_before = Pt(18)
    title = word.add_paragraph(style=BLOCK)
    for index, line in enumerate(plain_text(header.title).split("\n")):
        run = title.add_run()
        run.font.bold = True
        if index:
            run.add_break()
        run.add_text(line.strip())
    rule = _line(word, "-----")
    rule.paragraph_format.space_after = Pt(12)


def _add_closing(word, document: ReportDocument) -> None:
    recipients, signature = _two_columns(word)
    _line(recipients, document.recipients_label, RECIPIENT, bold=True, underline=True)
    for recipient in document.recipients:
        _line(recipients, recipient, RECIPIENT)
    signer = document.signature
    if signer.on_behalf:
        _line(signature, signer.on_behalf, bold=True)
    _line(signature, signer.title, bold=True)
    for _ in range(SIGNING_LINES):
        signature.add_paragraph(style=BLOCK)
    _line(signature, signer.name, bold=True)


def _add_appendix(word, appendix: Appendix) -> None:
    section = word.add_section(WD_SECTION.NEW_PAGE)
    # Ten columns of figures read better across the long side.
    _set_up_page(section, landscape=True)
    _line(word, appendix.title, bold=True)
    subtitle = _line(word, appendix.subtitle, italic=True)
    subtitle.paragraph_format.space_after = Pt(12)

    text_width = _text_width(section)
    widths = [Emu(int(text_width * share)) for share in column_shares(appendix)]
    table = _table(word, widths, word.styles["Table Grid"])
    header_row = table.rows[0]
    for cell, label in zip(header_row.cells, appendix.columns, strict=True):
        paragraph = cell.paragraphs[0]
        paragraph.style = word.styles[CELL]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(plain_text(label)).font.bold = True
    # Repeated at the top of every page the table runs onto.
    header_row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))

    template = _row_template(widths, set(appendix.numeric), word.styles[CELL].style_id)
    text_tag = qn("w:t")
    tbl = table._tbl
    for cells in appendix.rows:
        row = copy.deepcopy(template)
        for node, text in zip(row.iter(text_tag), cells, strict=False):
            node.text = plain_text(text)
        tbl.append(row)


def _row_template(widths: list[Emu], numeric: set[int], cell_style_id: str):
    """One body row of the appendix, every cell a single empty run to be filled in."""
    cells = []
    for index, width in enumerate(widths):
        alignment = '<w:jc w:val="right"/>' if index in numeric else ""
        cells.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{Emu(width).twips}" w:type="dxa"/></w:tcPr>'
            f'<w:p><w:pPr><w:pStyle w:val="{cell_style_id}"/>{alignment}</w:pPr>'
            '<w:r><w:t xml:space="preserve"></w:t></w:r></w:p></w:tc>'
        )
    # A unit's row is never split across two pages.
    return parse_xml(f"<w:tr {nsdecls('w')}><w:trPr><w:cantSplit/></w:trPr>{''.join(cells)}</w:tr>")
