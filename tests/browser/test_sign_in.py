"""A person signs in with a real browser (Debian's Chromium) and sees their start page."""

import pytest

from campaigns.engine.status import refresh_unit_status
from campaigns.models import ReviewStatus
from tests.factories import TEST_PASSWORD, StudySessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844, "mobile": True}


def sign_in(page, base_url: str, lang: str, username: str) -> None:
    page.goto(f"{base_url}/{lang}/accounts/login/")
    page.get_by_label("Tên đăng nhập" if lang == "vi" else "Username").fill(username)
    page.get_by_label("Mật khẩu" if lang == "vi" else "Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Đăng nhập" if lang == "vi" else "Sign in").click()
    page.wait_for_load_state("networkidle")


def test_secretary_signs_in_in_vietnamese_and_sees_their_unit(
    live_server, page_factory, district, campaign, ward_secretary, artifacts_dir
):
    StudySessionFactory(campaign=campaign, unit=district.ward, attendees=12, members_expected=12)
    StudySessionFactory(
        campaign=campaign,
        unit=district.cell,
        status=ReviewStatus.RETURNED,
        review_comment="Thiếu biên bản hội nghị",
    )
    for name, size in (("desktop", {}), ("phone", PHONE)):
        page = page_factory(**size)
        sign_in(page, live_server.url, "vi", ward_secretary.username)
        assert page.url == f"{live_server.url}/vi/units/{district.ward.code}/"
        assert page.get_by_test_id("unit-name").inner_text() == "Đảng bộ phường Kim Liên"
        assert page.locator('[data-rule="R1"]').get_attribute("data-state") == "done"
        assert page.get_by_role("link", name="Chi bộ Tổ dân phố số 1").is_visible()
        assert page.locator("html").get_attribute("lang") == "vi"
        page.screenshot(path=artifacts_dir / f"secretary-unit-vi-{name}.png", full_page=True)
        assert page.console_errors == []


def test_staff_signs_in_in_english_and_sees_the_dashboard_chart(
    live_server, page_factory, district, campaign, staff_en, artifacts_dir
):
    StudySessionFactory(campaign=campaign, unit=district.ward, attendees=12, members_expected=12)
    refresh_unit_status(campaign)  # what the services and the engine do after a change
    for name, size in (("desktop", {}), ("phone", PHONE)):
        page = page_factory(**size)
        sign_in(page, live_server.url, "en", staff_en.username)
        assert page.url == f"{live_server.url}/en/dashboard/"
        assert page.get_by_role("heading", name="Campaign overview").is_visible()
        assert page.get_by_test_id("study-on-time").inner_text() == "1"
        page.wait_for_selector('#study-chart[data-drawn="true"]')
        page.screenshot(path=artifacts_dir / f"staff-dashboard-en-{name}.png", full_page=True)
        # A CSP violation or a script error shows up in the console.
        assert page.console_errors == []


def test_language_switcher_moves_to_english_and_remembers_it(
    live_server, page_factory, district, campaign, ward_secretary
):
    """The browser remembers (the root address opens in English); the person's e-mails stay in
    the language of their profile."""
    page = page_factory()
    sign_in(page, live_server.url, "vi", ward_secretary.username)
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}/en/units/{district.ward.code}/"
    assert page.get_by_role("heading", name="Checklist").is_visible()
    page.goto(f"{live_server.url}/")
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}/en/units/{district.ward.code}/"
    ward_secretary.refresh_from_db()
    assert ward_secretary.language == "vi"
