"""Signing in, signing out and switching language."""

import pytest
from django.urls import reverse
from django.utils import translation


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
