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


@pytest.mark.parametrize(
    ("lang", "heading"), [("vi", "Tổng quan chuyên đề"), ("en", "Campaign overview")]
)
def test_sign_in_lands_in_the_language_of_the_sign_in_page(
    client, staff_en, campaign, lang, heading
):
    """Whatever language the person saved for their e-mails (staff-en: English)."""
    response = client.post(
        f"/{lang}/accounts/login/",
        {"username": "staff-en", "password": "mật-khẩu-thử-2024"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/{lang}/dashboard/"
    assert heading in response.text
    assert client.cookies["dongda_language"].value == lang
    staff_en.refresh_from_db()
    assert staff_en.language == "en"


def test_sign_in_from_english_keeps_english_for_a_vietnamese_next(client, staff, campaign):
    """Sent to sign in from a Vietnamese page, then switched the sign-in page to English: the
    page asked for opens in English."""
    response = client.post(
        "/en/accounts/login/?next=/vi/dashboard/%3Fas_of%3D01/04/2024",
        {"username": "vanphong", "password": "mật-khẩu-thử-2024"},
    )
    assert response["Location"] == "/en/dashboard/?as_of=01/04/2024"


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


def test_switching_language_keeps_the_page_and_leaves_the_e_mail_language(
    client, ward_secretary, district
):
    client.force_login(ward_secretary)
    response = client.post(
        "/vi/language/",
        {"language": "en", "next": f"/vi/units/{district.ward.code}/?as_of=01/04/2024"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/en/units/{district.ward.code}/?as_of=01/04/2024"
    assert response.cookies["dongda_language"].value == "en"
    ward_secretary.refresh_from_db()
    assert ward_secretary.language == "vi"  # e-mails change only on the profile


def test_switching_language_drops_an_overlong_query(client, ward_secretary, district):
    """A forged or pasted 5,000-character query is neither echoed in the switcher's form nor
    followed: the page's path is enough."""
    client.force_login(ward_secretary)
    page = f"/vi/units/{district.ward.code}/"
    long_query = "?as_of=" + "1" * 5000
    response = client.get(page + long_query)
    assert long_query not in response.text
    assert f'name="next" value="{page}"' in response.text
    response = client.post("/vi/language/", {"language": "en", "next": page + long_query})
    assert response["Location"] == f"/en/units/{district.ward.code}/"
    short = client.get(page + "?as_of=01/04/2024")
    assert f'name="next" value="{page}?as_of=01/04/2024"' in short.text


def test_switching_language_ignores_an_offsite_next(client, ward_secretary):
    client.force_login(ward_secretary)
    response = client.post("/vi/language/", {"language": "en", "next": "https://example.com/"})
    assert response["Location"] == "/en/"


def test_switching_language_needs_post(client, ward_secretary):
    client.force_login(ward_secretary)
    assert client.get("/vi/language/").status_code == 405
