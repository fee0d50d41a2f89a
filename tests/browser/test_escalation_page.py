"""A ward secretary opens the ward's page and sees the flags of its cells raised to the ward
committee, each marked with the day it was raised, in both languages, at phone and desktop
widths (screenshots in test-artifacts/)."""

from datetime import date

import pytest
from playwright.sync_api import expect

from campaigns.models import Flag, FlagKind

from .test_sign_in import sign_in

HEADING = {
    "vi": "Cảnh báo của đơn vị trực thuộc đã báo cáo lên cấp ủy",
    "en": "Flags of the units below escalated to this committee",
}
MARK = {
    "vi": "Đã báo cáo lên cấp ủy cấp trên ngày 15/05/2024",
    "en": "Escalated to the committee on 15/05/2024",
}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("width", [390, 1280])
def test_ward_secretary_sees_its_cells_escalated_flags(
    lang, width, live_server, page_factory, district, campaign, ward_secretary, artifacts_dir
):
    ward_secretary.language = lang
    ward_secretary.save(update_fields=["language"])
    for kind in (FlagKind.PLAN_MISSING, FlagKind.NO_BREAKTHROUGH):
        flag, _created = Flag.objects.get_or_create(
            campaign=campaign,
            unit=district.cell,
            kind=kind,
            subject="",
            closed_at__isnull=True,
            defaults={"opened_on": date(2024, 5, 1)},
        )
        Flag.objects.filter(pk=flag.pk).update(
            opened_on=date(2024, 5, 1), escalated_to_committee_on=date(2024, 5, 15)
        )
    page = page_factory(width=width, mobile=width < 500)
    sign_in(page, live_server.url, lang, ward_secretary.username)
    page.goto(f"{live_server.url}/{lang}/units/{district.ward.code}/")
    section = page.locator("section", has=page.get_by_role("heading", name=HEADING[lang]))
    expect(section).to_be_visible()
    expect(section.locator("[data-escalated-flag]")).to_have_count(2)
    expect(section.get_by_text(MARK[lang]).first).to_be_visible()
    section.scroll_into_view_if_needed()
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(
        path=str(artifacts_dir / f"escalated-ward-page-{lang}-{width}.png"), full_page=True
    )


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_staff_preview_of_a_past_weeks_district_digest(
    width, live_server, page_factory, district, campaign, staff, artifacts_dir
):
    """The office's preview of week 20's district digest opens with what the office must do."""
    Flag.objects.get_or_create(
        campaign=campaign,
        unit=district.cell,
        kind=FlagKind.PLAN_MISSING,
        subject="",
        closed_at__isnull=True,
        defaults={"opened_on": date(2024, 5, 1)},
    )
    Flag.objects.filter(unit=district.cell, kind=FlagKind.PLAN_MISSING).update(
        opened_on=date(2024, 5, 1), escalated_to_committee_on=date(2024, 5, 15)
    )
    page = page_factory(width=width, mobile=width < 500)
    sign_in(page, live_server.url, "vi", staff.username)
    page.goto(f"{live_server.url}/vi/dashboard/digest/?week=2024-W20")
    expect(page.get_by_test_id("digest-subject")).to_have_text(
        "[Chuyên đề năm 2024] tuần 20, 13/05–19/05/2024: 1 cảnh báo đang mở"
    )
    frame = page.frame_locator("iframe.digest-frame")
    expect(frame.get_by_text("Việc Văn phòng Quận ủy cần làm trong tuần")).to_be_visible()
    expect(frame.get_by_text("Chi bộ Tổ dân phố số 1").first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / f"digest-preview-week-20-{width}.png"), full_page=True)
