"""The sign-in forms check the sign-in name's length (units.sign_in): Django's own shows a
`maxlength` it never checks, and a failed sign-in with a name longer than django-axes' column
could not be recorded (PostgreSQL: a 500)."""

import pytest
from axes.models import AccessAttempt

from tests.factories import TEST_PASSWORD
from units.sign_in import AdminSignInForm, SignInForm

pytestmark = pytest.mark.django_db

PAGES = ("/en/accounts/login/", "/admin/login/")


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # A failed sign-in hashes the password it was given.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("url", PAGES)
def test_a_sign_in_name_past_its_length_is_refused_by_the_form_and_nothing_is_recorded(
    client, staff, url
):
    response = client.post(url, {"username": "x" * 300, "password": TEST_PASSWORD})
    assert response.status_code == 200
    refused = response.context["form"].errors.as_data()["username"]
    assert [error.code for error in refused] == ["max_length"]
    if url.startswith("/en/"):
        assert "Ensure this value has at most 150 characters (it has 300)." in response.text
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("url", PAGES)
def test_a_wrong_password_is_still_recorded(client, staff, url):
    response = client.post(url, {"username": "vanphong", "password": "sai-mat-khau"})
    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "vanphong"


@pytest.mark.parametrize(("url", "form"), [(PAGES[0], SignInForm), (PAGES[1], AdminSignInForm)])
def test_both_sign_in_pages_use_the_checked_form(client, url, form):
    assert type(client.get(url).context["form"]) is form
