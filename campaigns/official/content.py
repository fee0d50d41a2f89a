"""The content of an official report, apart from how it is drawn.

One `ReportDocument` feeds both renderers (`docx.render_docx`, `pdf.render_pdf`), so the Word
file and the PDF say the same thing; an issued report keeps its `ReportDocument` as JSON
(`to_data` / `from_data`), so it is drawn again from what was issued, never from today's
figures. Every string here is final text in the document's language: the renderers translate
nothing and add no words of their own.
"""

from dataclasses import asdict, dataclass, field
from datetime import date


@dataclass
class Header:
    """The header blocks of a Party document (Central Office guidance 36-HD/VPTW, 2018)."""

    #: The superior party organisation, upper case: "ĐẢNG BỘ THÀNH PHỐ HÀ NỘI".
    superior_body: str
    #: The issuing body, upper case, bold: "QUẬN ỦY ĐỐNG ĐA".
    issuing_body: str
    #: "Số 15-BC/QU", or "Số      -BC/QU" with room to write the number by hand.
    number: str
    #: Italic: "Hà Nội, ngày 05 tháng 4 năm 2024".
    place_and_date: str
    #: The document kind, centred, bold: "BÁO CÁO".
    kind: str
    #: The title under the kind, centred, bold; may hold "\n" for a chosen line break.
    title: str
    #: Top right, bold, over a short rule.
    party_name: str = "ĐẢNG CỘNG SẢN VIỆT NAM"


@dataclass
class Paragraph:
    #: Stable name of the paragraph ("study", "plans", …): edits are stored under it.
    key: str
    #: Plain text, never markup; "\n" starts a new paragraph of the document.
    text: str
    #: Typed by a person rather than written by the app from the figures.
    edited: bool = False


@dataclass
class Section:
    #: "I. KẾT QUẢ HỌC TẬP, QUÁN TRIỆT" (bold, left, as the guidance writes section heads).
    heading: str
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class Appendix:
    #: "PHỤ LỤC" and the line under it ("Tình hình thực hiện của các đơn vị, đến ngày 05/04/2024").
    title: str
    subtitle: str
    columns: list[str]
    #: Relative widths of the columns (they sum to anything; renderers scale them to the page).
    widths: list[int]
    #: One list of cell texts per unit, as many cells as columns.
    rows: list[list[str]]
    #: Columns (by index) whose cells are right-aligned numbers.
    numeric: list[int] = field(default_factory=list)


@dataclass
class Signature:
    #: "T/M BAN THƯỜNG VỤ" (bold, upper case); empty when the signer signs in their own name.
    on_behalf: str
    #: "BÍ THƯ" / "PHÓ BÍ THƯ" (bold, upper case).
    title: str
    #: The signer's name (bold), below room for the signature and seal.
    name: str


@dataclass
class Figure:
    """A headline figure, for the draft page's comparison with the previous issued report."""

    key: str
    label: str
    #: The figure as printed ("86 %", "1.250").
    display: str
    value: float
    #: The same figure in the previous issued report of the committee, when there is one.
    previous_display: str = ""


@dataclass
class ReportDocument:
    language: str  # "vi" or "en"
    as_of: date
    header: Header
    sections: list[Section]
    #: "Nơi nhận:" (underlined, bold) and its lines ("- Thành ủy Hà Nội,", … "- Lưu VPQU.").
    recipients_label: str
    recipients: list[str]
    signature: Signature
    appendix: Appendix
    figures: list[Figure] = field(default_factory=list)
    #: The file's title in its properties and the PDF's metadata.
    document_title: str = ""

    def paragraphs(self) -> dict[str, Paragraph]:
        return {p.key: p for section in self.sections for p in section.paragraphs}

    def to_data(self) -> dict:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data

    @classmethod
    def from_data(cls, data: dict) -> "ReportDocument":
        return cls(
            language=data["language"],
            as_of=date.fromisoformat(data["as_of"]),
            header=Header(**data["header"]),
            sections=[
                Section(
                    heading=section["heading"],
                    paragraphs=[Paragraph(**p) for p in section["paragraphs"]],
                )
                for section in data["sections"]
            ],
            recipients_label=data["recipients_label"],
            recipients=list(data["recipients"]),
            signature=Signature(**data["signature"]),
            appendix=Appendix(**data["appendix"]),
            figures=[Figure(**f) for f in data.get("figures", [])],
            document_title=data.get("document_title", ""),
        )
