"""The home page and a unit's page (/<lang>/units/<code>/): its checklist against every rule, its
items, its flags, the units below it, and who may open it."""

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.models import ReviewStatus
from tests.factories import StudySessionFactory, UnitFactory, UserFactory


def url(name: str, lang: str = "vi", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


def test_secretary_home_is_their_unit(client, ward_secretary, district, campaign):
    client.force_login(ward_secretary)
    response = client.get("/vi/")
    assert response.status_code == 302
    assert response["Location"] == f"/vi/units/{district.ward.code}/"


def test_user_without_role_is_told_so(client, db):
    client.force_login(UserFactory())
    response = client.get("/vi/")
    assert response.status_code == 403
    assert "chưa được gán đơn vị" in response.text


def test_secretary_sees_own_unit_checklist_and_units_below(
    client, ward_secretary, district, campaign
):
    client.force_login(ward_secretary)
    response = client.get(f"/vi/units/{district.ward.code}/")
    assert response.status_code == 200
    assert "Đảng bộ phường Kim Liên" in response.text
    assert "Danh mục việc cần làm" in response.text
    assert "Chi bộ Tổ dân phố số 1" in response.text  # the cell below
    for rule in ("R1", "R2", "R3", "R4", "R5"):
        assert f'data-rule="{rule}"' in response.text


def test_secretary_opens_a_cell_below(client, ward_secretary, district, campaign):
    client.force_login(ward_secretary)
    assert client.get(f"/vi/units/{district.cell.code}/").status_code == 200


@pytest.mark.parametrize("target", ["sibling_ward", "sibling_cell", "root"])
def test_secretary_cannot_open_unit_outside_their_subtree(
    client, ward_secretary, district, campaign, target
):
    client.force_login(ward_secretary)
    response = client.get(f"/vi/units/{getattr(district, target).code}/")
    assert response.status_code == 404
    assert 'data-testid="unit-name"' not in response.text


def test_cell_secretary_cannot_open_their_parent(client, cell_secretary, district, campaign):
    client.force_login(cell_secretary)
    assert client.get(f"/vi/units/{district.ward.code}/").status_code == 404


def test_unknown_unit_code_is_404(client, staff, campaign):
    client.force_login(staff)
    assert client.get("/vi/units/khong-co/").status_code == 404


def test_unit_page_refuses_post(client, staff, district, campaign):
    client.force_login(staff)
    assert client.post(f"/vi/units/{district.ward.code}/").status_code == 405


def test_unit_page_shows_study_complete_when_accepted_sessions_cover_members(
    client, ward_secretary, district, campaign
):
    StudySessionFactory(campaign=campaign, unit=district.ward, attendees=12, members_expected=12)
    client.force_login(ward_secretary)
    response = client.get(f"/en/units/{district.ward.code}/")
    assert 'data-rule="R1" data-state="done"' in response.text
    assert "12 attended in accepted sessions; 12 required" in response.text


def test_unit_page_query_count_does_not_grow_with_children(
    client, staff, district, campaign, django_assert_max_num_queries
):
    client.force_login(staff)
    client.get(f"/vi/units/{district.ward.code}/")  # warm the session
    # One query per report kind's section among them: a new kind adds one, a new child none;
    # and on a committee's page one for its units' flags raised to it.
    with django_assert_max_num_queries(16) as few:
        client.get(f"/vi/units/{district.ward.code}/")
    for n in range(30):
        unit = UnitFactory(parent=district.ward, code=f"p-kim-lien-x{n}")
        StudySessionFactory(campaign=campaign, unit=unit)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/vi/units/{district.ward.code}/")
    assert response.text.count("/vi/units/p-kim-lien-x") == 30


def test_accepted_sessions_only_count(client, ward_secretary, district, campaign):
    StudySessionFactory(campaign=campaign, unit=district.ward, status=ReviewStatus.SUBMITTED)
    client.force_login(ward_secretary)
    response = client.get(f"/vi/units/{district.ward.code}/")
    assert (
        'data-rule="R1" data-state="overdue"' in response.text
        or 'data-rule="R1" data-state="pending"' in response.text
    )


def test_breadcrumb_does_not_link_ancestors_outside_scope(
    client, cell_secretary, district, campaign
):
    client.force_login(cell_secretary)
    response = client.get(f"/vi/units/{district.cell.code}/")
    assert f'href="/vi/units/{district.ward.code}/"' not in response.text
    assert "Đảng bộ phường Kim Liên" in response.text


def test_breadcrumb_links_ancestors_for_district_staff(client, staff, district, campaign):
    client.force_login(staff)
    response = client.get(f"/vi/units/{district.cell.code}/")
    assert f'href="/vi/units/{district.ward.code}/"' in response.text
