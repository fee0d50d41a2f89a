"""The official report's content: the figures of its day, the sentences written from them, the
comparison with the previous issued report, the header blocks, and a cost that does not grow
with the district."""

import unicodedata
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from docx import Document

from campaigns.models import OfficialReport, UnitStatus
from campaigns.official.build import build_document
from campaigns.official.services import OfficialReportError, new_draft
from tests.factories import ImplementationPlanFactory, StudySessionFactory, UnitFactory


@pytest.fixture
def story(district, campaign):
    """The cell studies on time (20/03, all 40 members); the other ward's cell in a make-up
    session on 10/04 (30 members); the ward adopts its plan on 25/03."""
    StudySessionFactory(campaign=campaign, unit=district.cell, held_on=date(2024, 3, 20))
    StudySessionFactory(campaign=campaign, unit=district.sibling_cell, held_on=date(2024, 4, 10))
    ImplementationPlanFactory(campaign=campaign, unit=district.ward, issued_on=date(2024, 3, 25))
    return district


def draft(staff, campaign, committee, day, language="en", **fields):
    report = new_draft(
        user=staff, campaign=campaign, committee=committee, as_of=day, language=language
    )
    for name, value in fields.items():
        setattr(report, name, value)
    return report


def paragraphs(document) -> dict[str, str]:
    return {key: p.text for key, p in document.paragraphs().items()}


def test_the_figures_are_those_of_the_day(story, campaign, staff):
    early = build_document(draft(staff, campaign, story.root, date(2024, 4, 5)))
    later = build_document(draft(staff, campaign, story.root, date(2024, 4, 15)))
    assert (early.figures["units"], early.figures["done"], early.figures["late"]) == (4, 1, 0)
    assert (early.figures["members"], early.figures["members_covered"]) == (92, 40)
    assert (later.figures["done"], later.figures["late"], later.figures["members_covered"]) == (
        2,
        1,
        70,
    )
    assert early.figures["plans_accepted"] == 1
    text = paragraphs(later.document)["study"]
    assert "by the deadline (31/03/2024), study sessions had been held in 1 of 4 units (25%)" in (
        text
    )
    assert "By 15/04/2024, the study has been completed in 2 of 4 units (50%)" in text
    assert "70 party members (76%) have studied" in text
    assert "1 unit completed it in a make-up session after the deadline." in text
    # Working out a past day keeps nothing.
    assert not UnitStatus.objects.filter(campaign=campaign).exists()


def test_the_appendix_lists_each_unit_under_its_committee(story, campaign, staff):
    appendix = build_document(draft(staff, campaign, story.root, date(2024, 4, 15))).document
    rows = appendix.appendix.rows
    assert [row[1] for row in rows] == [
        "Kim Lien Ward Party Committee",
        "Residential Group No. 1 Party Cell",
        "Van Mieu Ward Party Committee",
        "Residential Area No. 2 Party Cell",
    ]
    assert rows[1][2] == "Kim Lien Ward Party Committee"
    assert rows[1][4:6] == ["On time", "20/03/2024"]
    assert rows[3][4:6] == ["Late", "10/04/2024"]
    assert rows[0][6] == "Accepted"
    assert len(appendix.appendix.columns) == len(rows[0])


def test_a_ward_reports_on_its_own_subtree_under_its_own_header(story, campaign, staff):
    built = build_document(draft(staff, campaign, story.ward, date(2024, 4, 15), language="vi"))
    header = built.document.header
    assert header.superior_body == "ĐẢNG BỘ QUẬN ĐỐNG ĐA"
    assert header.issuing_body == "ĐẢNG ỦY PHƯỜNG KIM LIÊN"
    assert header.number.endswith("-BC/ĐU")
    assert built.figures["units"] == 2
    assert [row[1] for row in built.document.appendix.rows] == [
        "Đảng bộ phường Kim Liên",
        "Chi bộ Tổ dân phố số 1",
    ]


def test_the_vietnamese_header_follows_the_guidance(story, campaign, staff):
    report = draft(staff, campaign, story.root, date(2024, 4, 5), language="vi", number="15")
    document = build_document(report).document
    assert document.header.superior_body == "ĐẢNG BỘ THÀNH PHỐ HÀ NỘI"
    assert document.header.issuing_body == "QUẬN ỦY ĐỐNG ĐA"
    assert document.header.party_name == "ĐẢNG CỘNG SẢN VIỆT NAM"
    assert document.header.number == "Số 15-BC/QU"
    assert document.header.place_and_date == "Hà Nội, ngày 05 tháng 4 năm 2024"
    assert document.header.kind == "BÁO CÁO"
    assert document.signature.on_behalf == "T/M BAN THƯỜNG VỤ"
    assert document.recipients_label == "Nơi nhận:"
    for section in document.sections:
        assert unicodedata.is_normalized("NFC", section.heading)
        for paragraph in section.paragraphs:
            assert unicodedata.is_normalized("NFC", paragraph.text)
    assert "1.250" not in paragraphs(document)["study"]  # no stray English grouping
    assert "25%" in paragraphs(document)["study"]


def test_february_and_early_days_take_a_leading_zero(story, campaign, staff):
    report = draft(staff, campaign, story.root, date(2024, 3, 5), language="vi")
    report.dated = date(2024, 2, 9)
    header = build_document(report).document.header
    assert header.place_and_date == "Hà Nội, ngày 09 tháng 02 năm 2024"


def test_an_edited_paragraph_replaces_the_apps_text(story, campaign, staff):
    typed = "Văn bản <b>tự gõ</b> { DATE \\@ dd/MM/yyyy }"
    report = draft(staff, campaign, story.root, date(2024, 4, 15), edits={"plans": typed})
    document = build_document(report).document
    plans = document.paragraphs()["plans"]
    assert (plans.text, plans.edited) == (typed, True)
    assert not document.paragraphs()["study"].edited


def test_the_draft_compares_with_the_previous_issued_report(story, campaign, staff):
    first = build_document(draft(staff, campaign, story.root, date(2024, 4, 5)))
    previous = draft(staff, campaign, story.root, date(2024, 4, 5))
    previous.state = OfficialReport.State.ISSUED
    previous.snapshot = {"document": first.document.to_data(), "figures": first.figures}
    previous.save()
    later = build_document(draft(staff, campaign, story.root, date(2024, 4, 15)))
    assert later.previous == previous
    assert (
        "the share of units that completed the study went up from 25% to 50%"
        in (paragraphs(later.document)["study"])
    )
    study = next(f for f in later.document.figures if f.key == "study_done")
    assert (study.display, study.previous_display) == ("50%", "25%")
    # A report of another committee, or a draft, is not "the previous report".
    ward = build_document(draft(staff, campaign, story.ward, date(2024, 4, 15)))
    assert ward.previous is None


def test_the_document_survives_a_round_trip_through_json(story, campaign, staff):
    document = build_document(draft(staff, campaign, story.root, date(2024, 4, 15))).document
    assert type(document).from_data(document.to_data()) == document


@pytest.mark.parametrize(
    ("day", "message"),
    [(date(2024, 2, 1), "bắt đầu từ ngày 29/02/2024"), (date(2099, 1, 1), "ngày chưa tới")],
)
def test_a_day_outside_the_campaign_is_refused(story, campaign, staff, day, message):
    with pytest.raises(OfficialReportError, match=message):
        draft(staff, campaign, story.root, day)


def _statements(staff, campaign, root) -> int:
    with CaptureQueriesContext(connection) as queries:
        build_document(draft(staff, campaign, root, date(2024, 4, 15)))
    return len(queries)


def test_the_cost_does_not_grow_with_the_district(story, campaign, staff):
    few = _statements(staff, campaign, story.root)
    for number in range(30):
        cell = UnitFactory(parent=story.ward, code=f"p-kim-lien-x{number}", member_count=5)
        if number % 3 == 0:
            StudySessionFactory(campaign=campaign, unit=cell, held_on=date(2024, 3, 20))
    assert _statements(staff, campaign, story.root) == few


def test_build_report_writes_a_draft_and_keeps_nothing(story, campaign, tmp_path):
    output = tmp_path / "bao-cao.docx"
    call_command("build_report", unit="dongda", as_of="2024-04-15", output=str(output))
    text = "\n".join(p.text for p in Document(output).paragraphs)
    assert "BÁO CÁO" in text
    assert "Tính đến ngày 15/04/2024, 2/4 đơn vị (50%) đã hoàn thành học tập" in text
    assert not OfficialReport.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"unit": "dongda", "as_of": "15/04/2024", "output": "x.docx"}, "YYYY-MM-DD"),
        ({"unit": "dongda", "as_of": "2024-04-15", "output": "x.txt"}, ".docx or .pdf"),
        ({"unit": "nowhere", "as_of": "2024-04-15", "output": "x.docx"}, "no unit"),
        ({"unit": "p-kim-lien-cb01", "as_of": "2024-04-15", "output": "x.docx"}, "committee"),
        ({"unit": "dongda", "as_of": "2024-01-01", "output": "x.docx"}, "29/02/2024"),
    ],
)
def test_build_report_refuses_bad_arguments(story, campaign, tmp_path, options, message):
    options["output"] = str(tmp_path / options["output"])
    with pytest.raises(CommandError, match=message):
        call_command("build_report", **options)
    assert not list(tmp_path.iterdir())


def test_numbers_restart_each_year(story, campaign, staff):
    from campaigns.official.services import issue, number_taken, start_draft

    first = start_draft(
        user=staff, campaign=campaign, committee=story.root, as_of=date(2024, 4, 5), language="vi"
    )
    OfficialReport.objects.filter(pk=first.pk).update(number="15")
    issue(report_id=first.pk, user=staff, expected_version=first.version)
    same_year = draft(staff, campaign, story.root, date(2024, 4, 15), number="15")
    next_year = draft(staff, campaign, story.root, date(2024, 4, 15), number="15")
    next_year.dated = date(2025, 1, 10)
    assert number_taken(same_year)
    assert not number_taken(next_year)
