"""Two-level review in a real browser, in Vietnamese and in English: a ward's secretary accepts
two of its cells' study sessions (the first with the keyboard shortcut) and returns one with a
comment; the district office narrows its queue to that ward, accepts both in a row with "next";
the cell sees the committee's comment. Each screen is photographed at phone and desktop width
into test-artifacts/ (review-flow-<lang>-<step>-<width>.png)."""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import ReviewStatus, StudySession
from campaigns.reporting.services import report_submit
from tests.factories import StudySessionFactory, UnitFactory

from .test_report_flow import DESKTOP, click_and_wait, no_horizontal_overflow, settle
from .test_sign_in import PHONE, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMMENT = "Biên bản chưa có chữ ký của đồng chí chủ trì; đề nghị bổ sung rồi gửi lại."

TEXT = {
    "vi": {
        "review": "Duyệt",
        "accept": "Chấp nhận và chuyển lên Văn phòng Quận ủy",
        "accept_district": "Chấp nhận",
        "return": "Trả lại chi bộ để sửa",
        "comment": "Ý kiến gửi đơn vị",
        "record": "Ghi nhận quyết định",
        "filter": "Lọc",
        "committee": "Đảng bộ",
        "passed": "Đã chuyển lên Văn phòng Quận ủy.",
        "nothing_left": "Không còn báo cáo nào chờ duyệt trong bộ lọc này.",
        "returned_by_committee": "Cấp ủy trả lại để sửa:",
        "committee_title": "Báo cáo của các chi bộ chờ duyệt",
    },
    "en": {
        "review": "Review",
        "accept": "Accept and pass on to the district office",
        "accept_district": "Accept",
        "return": "Return to the cell for correction",
        "comment": "Comment to the unit",
        "record": "Record the decision",
        "filter": "Filter",
        "committee": "Committee",
        "passed": "Passed on to the district office.",
        "nothing_left": "Nothing else waits for review in this filter.",
        "returned_by_committee": "Returned by the committee for correction:",
        "committee_title": "Your cells' reports to review",
    },
}


def shoot(page: Page, artifacts_dir, lang: str, step: str) -> None:
    width = page.viewport_size["width"]
    assert no_horizontal_overflow(page), f"{step} at {width}px is wider than the screen"
    page.screenshot(path=artifacts_dir / f"review-flow-{lang}-{step}-{width}.png", full_page=True)


def both_widths(pages, artifacts_dir, lang, step, url=None) -> None:
    """Photographs the desktop page as it is and the phone page at the same address."""
    desktop, phone = pages
    shoot(desktop, artifacts_dir, lang, step)
    phone.goto(url or desktop.url)
    settle(phone)
    shoot(phone, artifacts_dir, lang, step)


def submitted_session(unit, campaign, day: int) -> StudySession:
    session = StudySessionFactory(
        campaign=campaign,
        unit=unit,
        held_on=date(2024, 3, day),
        presenter=f"Đồng chí Báo cáo viên {day}",
        status=ReviewStatus.DRAFT,
    )
    return report_submit(item=session, user=None, expected_version=session.version)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_ward_reviews_first_then_the_district_filters_and_accepts_in_a_row(
    lang,
    live_server,
    page_factory,
    district,
    campaign,
    ward_secretary,
    cell_secretary,
    request,
    artifacts_dir,
):
    t = TEXT[lang]
    base = live_server.url
    campaign.two_level_review = True
    campaign.save(update_fields=["two_level_review"])
    for person in (ward_secretary, cell_secretary):
        person.language = lang
        person.save(update_fields=["language"])
    second_cell = UnitFactory(
        parent=district.ward, code="p-kim-lien-cb02", name_vi="Chi bộ Tổ dân phố số 2"
    )
    first = submitted_session(district.cell, campaign, 4)
    second = submitted_session(second_cell, campaign, 5)
    to_return = submitted_session(district.cell, campaign, 6)
    # Another ward's own report: it goes straight to the district, and the ward filter hides it.
    elsewhere = submitted_session(district.sibling_ward, campaign, 7)
    queue_url = f"{base}/{lang}/dashboard/review/"

    # --- 1. The ward's secretary: accept two (one with the "A" key), return one. -------------
    ward, ward_phone = page_factory(**DESKTOP), page_factory(**PHONE)
    for page in (ward, ward_phone):
        sign_in(page, base, lang, ward_secretary.username)
    # The committee's page leads to its queue.
    click_and_wait(ward, ward.get_by_test_id("committee-review-link").get_by_role("link"))
    assert ward.url == queue_url
    expect(ward.get_by_role("heading", level=1)).to_have_text(t["committee_title"])
    expect(ward.get_by_test_id("queue-row")).to_have_count(3)
    both_widths((ward, ward_phone), artifacts_dir, lang, "ward-queue")
    click_and_wait(ward, ward.get_by_role("link", name=t["review"], exact=True).first)
    expect(ward.get_by_test_id("review-keys-hint")).to_be_visible()
    both_widths((ward, ward_phone), artifacts_dir, lang, "ward-item")
    # The shortcut: "A" with the focus outside any field accepts and opens the next item.
    with ward.expect_navigation():
        ward.keyboard.press("a")
    settle(ward)
    expect(ward.get_by_text(t["passed"])).to_be_visible()
    assert f"/sessions/{second.pk}/" in ward.url
    ward.get_by_role("radio", name=t["accept"], exact=True).check()
    click_and_wait(ward, ward.get_by_role("button", name=t["record"], exact=True))
    assert f"/sessions/{to_return.pk}/" in ward.url
    # "R" moves to the comment (typing "a" there then accepts nothing); Ctrl+Enter sends.
    ward.keyboard.press("r")
    comment = ward.get_by_label(t["comment"])
    expect(comment).to_be_focused()
    comment.fill(COMMENT)
    shoot(ward, artifacts_dir, lang, "ward-return")
    with ward.expect_navigation():
        comment.press("Control+Enter")
    settle(ward)
    expect(ward.get_by_text(t["nothing_left"])).to_be_visible()
    for item in (first, second, to_return):
        item.refresh_from_db()
    assert first.passed_by == ward_secretary and second.passed_by == ward_secretary
    assert first.status == second.status == ReviewStatus.SUBMITTED
    assert to_return.status == ReviewStatus.RETURNED and to_return.review_comment == COMMENT

    # --- 2. The district office: filter to the ward, accept both in a row. ------------------
    reviewer = request.getfixturevalue("staff" if lang == "vi" else "staff_en")
    office, office_phone = page_factory(**DESKTOP), page_factory(**PHONE)
    for page in (office, office_phone):
        sign_in(page, base, lang, reviewer.username)
    office.goto(queue_url)
    settle(office)
    expect(office.get_by_test_id("queue-row")).to_have_count(3)
    office.get_by_label(t["committee"], exact=True).select_option("p-kim-lien")
    click_and_wait(office, office.get_by_role("button", name=t["filter"], exact=True))
    expect(office.get_by_test_id("queue-row")).to_have_count(2)
    both_widths((office, office_phone), artifacts_dir, lang, "district-queue-ward")
    click_and_wait(office, office.get_by_role("link", name=t["review"], exact=True).first)
    assert f"/sessions/{first.pk}/" in office.url
    both_widths((office, office_phone), artifacts_dir, lang, "district-item")
    office.get_by_role("radio", name=t["accept_district"], exact=True).check()
    click_and_wait(office, office.get_by_role("button", name=t["record"], exact=True))
    assert f"/sessions/{second.pk}/" in office.url
    office.get_by_role("radio", name=t["accept_district"], exact=True).check()
    click_and_wait(office, office.get_by_role("button", name=t["record"], exact=True))
    expect(office.get_by_text(t["nothing_left"])).to_be_visible()
    assert "committee=p-kim-lien" in office.url
    for item in (first, second, elsewhere):
        item.refresh_from_db()
    assert first.status == second.status == ReviewStatus.ACCEPTED
    assert elsewhere.status == ReviewStatus.SUBMITTED

    # --- 3. The cell sees the committee's comment. -------------------------------------------
    cell, cell_phone = page_factory(**DESKTOP), page_factory(**PHONE)
    for page in (cell, cell_phone):
        sign_in(page, base, lang, cell_secretary.username)
    item_url = f"{base}/{lang}/units/{district.cell.code}/sessions/{to_return.pk}/"
    cell.goto(item_url)
    settle(cell)
    returned = cell.get_by_test_id("review-comment")
    expect(returned).to_contain_text(t["returned_by_committee"])
    expect(returned).to_contain_text(COMMENT)
    both_widths((cell, cell_phone), artifacts_dir, lang, "cell-returned")
    for page in (ward, office, cell, ward_phone, office_phone, cell_phone):
        assert not page.console_errors, page.console_errors
