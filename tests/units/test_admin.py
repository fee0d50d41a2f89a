"""The district office manages units, accounts and campaigns in /admin/; every page must open."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import (
    BreakthroughTaskFactory,
    IncidentFactory,
    ProgressReportFactory,
    StudySessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(district):
    return UserFactory(username="quantri", is_staff=True, is_superuser=True)


@pytest.fixture
def some_reports(district, campaign):
    StudySessionFactory(campaign=campaign, unit=district.ward)
    task = BreakthroughTaskFactory(campaign=campaign, unit=district.ward)
    ProgressReportFactory(task=task)
    IncidentFactory(campaign=campaign, unit=district.ward)


OUR_MODELS = [
    model
    for model in admin.site._registry
    if model._meta.app_label in {"units", "campaigns", "breakthroughs"}
]


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_admin_changelist_add_and_change_pages_open(client, superuser, some_reports, model):
    client.force_login(superuser)
    meta = model._meta
    changelist = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert changelist.status_code == 200
    add = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    # The outbox and the engine's runs are written by the app, never added by hand.
    read_only = ("outgoingmail", "deadlineenginerun")
    assert add.status_code == (403 if model._meta.model_name in read_only else 200)
    obj = model._default_manager.first()
    if obj is not None:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200


def test_unit_admin_edits_both_languages_in_tabs(client, superuser, district):
    client.force_login(superuser)
    response = client.get(reverse("admin:units_unit_change", args=[district.ward.pk]))
    assert 'name="name_vi"' in response.text
    assert 'name="name_en"' in response.text


def test_secretary_cannot_enter_admin(client, ward_secretary):
    client.force_login(ward_secretary)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
