"""The campaign dashboard: the study figures of everything in the person's scope."""

import json
import re
from datetime import date

import pytest

from campaigns.engine.status import refresh_unit_status
from campaigns.models import ReviewStatus, StudySession
from tests.factories import StudySessionFactory, UnitFactory, UserFactory
from units.models import Unit, UnitKind

TEST_IDS = (
    "study-on-time",
    "study-late",
    "study-awaiting",
    "study-in-progress",
    "study-not-started",
)
LABELS = {
    "vi": ["Đúng hạn", "Muộn", "Chờ quận duyệt", "Đang thực hiện", "Chưa thực hiện"],
    "en": ["On time", "Late", "Awaiting the district", "In progress", "Not started"],
}


def accepted(campaign, unit: Unit, attendees: int, held_on=date(2024, 3, 15)) -> None:
    StudySessionFactory(
        campaign=campaign,
        unit=unit,
        attendees=attendees,
        members_expected=unit.member_count,
        held_on=held_on,
    )


def on_time(campaign, unit: Unit) -> None:
    accepted(campaign, unit, unit.member_count)


def late(campaign, unit: Unit) -> None:
    accepted(campaign, unit, unit.member_count - 4)
    StudySessionFactory(
        campaign=campaign,
        unit=unit,
        attendees=4,
        members_expected=4,
        held_on=date(2024, 4, 10),
        kind=StudySession.Kind.MAKEUP,
    )


def in_progress(campaign, unit: Unit) -> None:
    accepted(campaign, unit, unit.member_count // 2)


@pytest.fixture
def study_figures(district, campaign):
    """Whole district: 3 on time, 2 late, 1 awaiting the district (its whole session sent),
    1 in progress, 3 not started (plus a Front committee that does not count). Kim Liên ward's
    subtree alone: 3, 1, 0, 0, 1."""
    kim_lien = [
        UnitFactory(parent=district.ward, code=f"p-kim-lien-cb0{n}", member_count=20)
        for n in (2, 3, 4)
    ]
    van_mieu = [
        UnitFactory(parent=district.sibling_ward, code=f"p-van-mieu-cb0{n}", member_count=20)
        for n in (2, 3, 4)
    ]
    for unit in (district.ward, kim_lien[0], kim_lien[1]):
        on_time(campaign, unit)
    for unit in (district.cell, van_mieu[0]):
        late(campaign, unit)
    in_progress(campaign, district.sibling_ward)
    StudySessionFactory(
        campaign=campaign, unit=van_mieu[1], attendees=20, status=ReviewStatus.SUBMITTED
    )
    front = UnitFactory(
        parent=district.root, code="mttq", kind=UnitKind.FATHERLAND_FRONT, member_count=15
    )
    on_time(campaign, front)
    # The factories write reports directly; the services and the engine would refresh these.
    refresh_unit_status(campaign)
    return district


def figures(html: str) -> list[int]:
    values = []
    for test_id in TEST_IDS:
        match = re.search(rf'data-testid="{test_id}">([\d.,\s]+)<', html)
        assert match, f"{test_id} is missing from the page"
        values.append(int(re.sub(r"\D", "", match.group(1))))
    return values


def chart_data(html: str) -> dict:
    match = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "the chart payload is missing from the page"
    return json.loads(match.group(1))["state"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_staff_see_the_four_study_counts_of_the_district(
    client, staff, study_figures, campaign, lang
):
    client.force_login(staff)
    response = client.get(f"/{lang}/dashboard/")
    assert response.status_code == 200
    assert figures(response.text) == [3, 2, 1, 1, 3]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_chart_payload_carries_the_four_counts_with_labels_in_the_page_language(
    client, staff, study_figures, campaign, lang
):
    client.force_login(staff)
    payload = chart_data(client.get(f"/{lang}/dashboard/").text)
    assert payload["values"] == [3, 2, 1, 1, 3]
    assert payload["labels"] == LABELS[lang]


@pytest.mark.parametrize(
    ("lang", "heading"), [("vi", "Tổng quan chuyên đề"), ("en", "Campaign overview")]
)
def test_dashboard_speaks_the_url_language(client, staff, study_figures, campaign, lang, heading):
    client.force_login(staff)
    response = client.get(f"/{lang}/dashboard/")
    assert heading in response.text
    assert f'<html lang="{lang}">' in response.text


def test_standing_committee_sees_the_same_district_counts(
    client, standing, study_figures, campaign
):
    client.force_login(standing)
    response = client.get("/vi/dashboard/")
    assert response.status_code == 200
    assert figures(response.text) == [3, 2, 1, 1, 3]
    assert chart_data(response.text)["values"] == [3, 2, 1, 1, 3]


def test_standing_committee_page_offers_no_change(client, standing, study_figures, campaign):
    client.force_login(standing)
    response = client.get("/en/dashboard/")
    assert "<form" not in response.text.split('id="study-heading"', 1)[1]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_ward_secretary_sees_only_their_subtree_counts(
    client, ward_secretary, study_figures, campaign, lang
):
    client.force_login(ward_secretary)
    response = client.get(f"/{lang}/dashboard/")
    assert response.status_code == 200
    assert figures(response.text) == [3, 1, 0, 0, 1]
    assert chart_data(response.text)["values"] == [3, 1, 0, 0, 1]


def test_cell_secretary_sees_only_their_cell(client, cell_secretary, study_figures, campaign):
    client.force_login(cell_secretary)
    assert figures(client.get("/vi/dashboard/").text) == [0, 1, 0, 0, 0]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_anonymous_visitor_is_sent_to_login(client, db, lang):
    response = client.get(f"/{lang}/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/{lang}/accounts/login/")
    assert f"next=/{lang}/dashboard/" in response["Location"]


def test_user_without_role_is_refused(client, study_figures, campaign):
    client.force_login(UserFactory())
    response = client.get("/vi/dashboard/")
    assert response.status_code == 403
    assert 'data-testid="study-on-time"' not in response.text


def test_dashboard_refuses_post(client, staff, campaign):
    client.force_login(staff)
    assert client.post("/vi/dashboard/").status_code == 405
    assert client.post("/en/dashboard/").status_code == 405


def test_dashboard_without_an_active_campaign_says_so(client, staff):
    client.force_login(staff)
    response = client.get("/vi/dashboard/")
    assert response.status_code == 200
    assert "Chưa có chuyên đề nào đang triển khai" in response.text
    assert 'data-testid="study-on-time"' not in response.text


def test_dashboard_query_count_does_not_grow_with_units(
    client, staff, district, campaign, django_assert_max_num_queries
):
    for unit in (district.ward, district.cell):
        on_time(campaign, unit)
    refresh_unit_status(campaign)
    client.force_login(staff)
    client.get("/vi/dashboard/")  # warm the session
    # session, user, assignments, campaign, last engine run and failure, headline figures,
    # by kind, by ward (figures and names), completion curve
    with django_assert_max_num_queries(11) as few:
        client.get("/vi/dashboard/")
    small = len(few.captured_queries)

    for n in range(60):
        parent = district.ward if n % 2 else district.sibling_ward
        unit = UnitFactory(parent=parent, code=f"cb-them-{n:02d}", member_count=20)
        (on_time if n % 3 else in_progress)(campaign, unit)
    refresh_unit_status(campaign)
    with django_assert_max_num_queries(small) as many:
        response = client.get("/vi/dashboard/")
    assert len(many.captured_queries) == small
    # 2 + 40 on time, 20 in progress, the sibling ward and its cell not started
    assert figures(response.text) == [42, 0, 0, 20, 2]
