import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.models import ReviewStatus
from tests.factories import StudySessionFactory, UnitFactory, UserFactory


def url(name: str, lang: str = "vi", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


@pytest.mark.parametrize(("lang", "text"), [("vi", "Đăng nhập"), ("en", "Sign in")])
def test_login_page_speaks_the_url_language(client, db, lang, text):
    response = client.get(f"/{lang}/accounts/login/")
    assert response.status_code == 200
    assert text in response.text
    assert f'<html lang="{lang}">' in response.text


def test_root_url_redirects_to_a_language_prefix(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/vi/")


def test_anonymous_home_goes_to_login(client, db):
    response = client.get("/vi/")
    assert response.status_code == 302
    assert response["Location"].startswith("/vi/accounts/login/")


def test_sign_in_with_password_lands_district_staff_on_dashboard(client, staff, campaign):
    response = client.post(
        "/vi/accounts/login/",
        {"username": "vanphong", "password": "mật-khẩu-thử-2024"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/vi/dashboard/"
    assert "Tổng quan chuyên đề" in response.text


def test_sign_in_opens_in_the_users_saved_language(client, staff_en, campaign):
    response = client.post(
        "/vi/accounts/login/",
        {"username": "staff-en", "password": "mật-khẩu-thử-2024"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/en/dashboard/"
    assert "Campaign overview" in response.text


def test_wrong_password_is_refused_in_vietnamese(client, staff):
    response = client.post("/vi/accounts/login/", {"username": "vanphong", "password": "sai"})
    assert response.status_code == 200
    assert "Tên đăng nhập và mật khẩu chính xác" in response.text


def test_repeated_failures_lock_the_account_out(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/vi/accounts/login/", {"username": "vanphong", "password": "sai"})
    response = client.post(
        "/vi/accounts/login/", {"username": "vanphong", "password": "mật-khẩu-thử-2024"}
    )
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in response.text


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
    with django_assert_max_num_queries(14) as few:
        client.get(f"/vi/units/{district.ward.code}/")
    for n in range(30):
        unit = UnitFactory(parent=district.ward, code=f"p-kim-lien-x{n}")
        StudySessionFactory(campaign=campaign, unit=unit)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/vi/units/{district.ward.code}/")
    assert response.text.count("/vi/units/p-kim-lien-x") == 30


def test_switching_language_saves_the_choice_and_keeps_the_page(client, ward_secretary, district):
    client.force_login(ward_secretary)
    response = client.post(
        "/vi/language/", {"language": "en", "next": f"/vi/units/{district.ward.code}/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/en/units/{district.ward.code}/"
    ward_secretary.refresh_from_db()
    assert ward_secretary.language == "en"


def test_switching_language_ignores_an_offsite_next(client, ward_secretary):
    client.force_login(ward_secretary)
    response = client.post("/vi/language/", {"language": "en", "next": "https://example.com/"})
    assert response["Location"] == "/en/"


def test_switching_language_needs_post(client, ward_secretary):
    client.force_login(ward_secretary)
    assert client.get("/vi/language/").status_code == 405


def test_accepted_sessions_only_count(client, ward_secretary, district, campaign):
    StudySessionFactory(campaign=campaign, unit=district.ward, status=ReviewStatus.SUBMITTED)
    client.force_login(ward_secretary)
    response = client.get(f"/vi/units/{district.ward.code}/")
    assert (
        'data-rule="R1" data-state="overdue"' in response.text
        or 'data-rule="R1" data-state="pending"' in response.text
    )


def test_pages_carry_a_content_security_policy(client, staff, campaign):
    client.force_login(staff)
    response = client.get("/vi/dashboard/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_not_found_page_is_friendly_and_translated(client, staff):
    client.force_login(staff)
    response = client.get("/en/units/no-such-unit/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Traceback" not in response.text


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
