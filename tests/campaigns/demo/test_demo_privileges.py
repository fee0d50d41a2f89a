"""The demo's accounts hold no more than their part needs: one administrator (vanphong), and the
office's English-speaking login without the administration, which the app's pages do not need."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from units.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> str:
    out = StringIO()
    call_command("seed_demo", "--units", "60", "--no-replay", stdout=out)
    return out.getvalue()


def test_one_demo_account_administers_and_no_other_is_staff(demo):
    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == [
        "vanphong"
    ]
    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == [
        "vanphong"
    ]
    assert "vanphong" in demo and "administrator" in demo


def test_the_english_office_login_works_in_the_app_but_not_in_the_administration(demo):
    client = Client()
    client.force_login(User.objects.get(username="staff-en"))
    assert client.get("/en/dashboard/").status_code == 200
    assert client.get("/en/dashboard/review/").status_code == 200
    assert "/admin/" not in client.get("/en/dashboard/").text  # no link to it either
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_administrator_opens_the_administration(demo):
    client = Client()
    client.force_login(User.objects.get(username="vanphong"))
    assert client.get("/admin/units/unit/").status_code == 200
    assert client.get("/admin/units/user/").status_code == 200
