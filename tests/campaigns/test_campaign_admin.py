"""The district office sets a new year up in /admin/: copies a campaign (a form with the dates
moved by a year), takes a campaign's member counts again (an action that asks first), and a
campaign added there takes its counts. Only the office's staff may; the others get no admin or a
403."""

import json
from datetime import date

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from campaigns.models import Campaign, CampaignMembers, UnitStatus
from campaigns.setup import take_member_counts
from tests.factories import CampaignFactory, UserFactory, assign
from units.models import Role, Unit

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:campaigns_campaign_changelist"


def copy_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_copy", args=[campaign.pk])


def copy_data(**overrides) -> dict:
    return {
        "code": "cd2025",
        "year": "2025",
        "title_vi": "Chuyên đề năm 2025",
        "title_en": "",
        "short_title_vi": "Chuyên đề năm 2025",
        "short_title_en": "2025 thematic study",
        "starts_on": "28/02/2025",
        "ends_on": "31/12/2025",
        "study_deadline": "31/03/2025",
        "plan_deadline": "30/04/2025",
        "breakthrough_deadline": "",  # empty: moved from the source's
    } | overrides


@pytest.fixture
def office(client, staff):
    """The office's staff, with every admin permission, as the demo's `vanphong`."""
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


def test_the_copy_form_offers_the_source_moved_by_a_year(office, campaign):
    response = office.get(copy_url(campaign))
    assert response.status_code == 200
    page = response.text
    assert 'name="code" value="cd2025"' in page
    assert 'name="year" value="2025"' in page
    assert 'value="Chuyên đề năm 2025"' in page
    assert 'name="starts_on" value="28/02/2025"' in page  # 29/02/2024, a year on
    assert 'name="study_deadline" value="31/03/2025"' in page
    # The campaign's page links to it.
    change = office.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert copy_url(campaign) in change.text


def test_the_office_copies_a_campaign(office, campaign, district, staff):
    response = office.post(copy_url(campaign), copy_data())
    copied = Campaign.objects.get(code="cd2025")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[copied.pk])
    assert (copied.starts_on, copied.breakthrough_deadline) == (
        date(2025, 2, 28),
        date(2025, 4, 30),
    )
    assert copied.members_taken_by == staff
    assert CampaignMembers.objects.filter(campaign=copied).count() == Unit.objects.count()
    followed = office.get(response["Location"]).text
    assert "Đã tạo “Chuyên đề năm 2025” từ “Chuyên đề năm 2024”" in followed


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", "Mã “cd2024” đã được dùng cho một chuyên đề khác."),
        ("en", "The code “cd2024” is already used by another campaign."),
    ],
)
def test_a_refused_copy_says_why_in_the_persons_language_and_writes_nothing(
    office, campaign, district, language, expected
):
    response = office.post(
        copy_url(campaign),
        copy_data(code="cd2024", plan_deadline="15/01/2026"),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    page = response.text
    assert expected in page
    deadline = {
        "vi": "Hạn phải nằm trong thời gian của chuyên đề, từ 28/02/2025 đến 31/12/2025.",
        "en": "The deadline must fall within the campaign, from 28/02/2025 to 31/12/2025.",
    }[language]
    assert deadline in page
    assert list(Campaign.objects.values_list("code", flat=True)) == ["cd2024"]
    assert not CampaignMembers.objects.exists()


def test_the_copy_page_refuses_other_methods(office, campaign):
    assert office.put(copy_url(campaign)).status_code == 405


# Taking the member counts again


def test_taking_the_counts_again_asks_first_then_rejudges_the_campaign(
    office, campaign, district, staff
):
    take_member_counts(campaign, by=None)
    Unit.objects.filter(pk=district.cell.pk).update(member_count=55)
    chosen = {"action": "take_member_counts_again", ACTION_CHECKBOX_NAME: [campaign.pk]}
    asked = office.post(reverse(CHANGELIST), chosen)
    assert asked.status_code == 200
    assert 'name="confirmed" value="yes"' in asked.text
    assert CampaignMembers.objects.get(campaign=campaign, unit=district.cell).member_count == 40

    done = office.post(reverse(CHANGELIST), chosen | {"confirmed": "yes"}, follow=True)
    assert done.status_code == 200
    assert CampaignMembers.objects.get(campaign=campaign, unit=district.cell).member_count == 55
    assert UnitStatus.objects.get(campaign=campaign, unit=district.cell).members == 55
    campaign.refresh_from_db()
    assert campaign.members_taken_by == staff


def test_a_campaign_added_in_the_admin_takes_its_counts(office, district, staff):
    model_admin = admin.site._registry[Campaign]
    template = CampaignFactory.build(
        code="cd2030",
        year=2030,
        starts_on=date(2030, 3, 1),
        ends_on=date(2030, 12, 31),
        study_deadline=date(2030, 3, 31),
        plan_deadline=date(2030, 4, 30),
        breakthrough_deadline=date(2030, 4, 30),
    )
    request = office.get(reverse("admin:campaigns_campaign_add")).wsgi_request
    data = {}
    for name in model_admin.get_form(request)().fields:
        value = getattr(template, name, None)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, date):
            data[name] = value.strftime("%d/%m/%Y")
        elif isinstance(value, list):
            data[name] = json.dumps(value)
        elif value is not None:
            data[name] = str(value)
    response = office.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = Campaign.objects.get(code="cd2030")
    assert CampaignMembers.objects.filter(campaign=added).count() == Unit.objects.count()
    assert added.members_taken_by == staff


# Only the district office


@pytest.mark.parametrize("who", ["cell_secretary", "standing"])
def test_people_outside_the_office_have_no_admin(client, campaign, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get(copy_url(campaign))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("who", ["cell_secretary", "standing"])
def test_staff_accounts_without_the_office_role_get_403(client, campaign, district, who, request):
    person = request.getfixturevalue(who)
    person.is_staff = person.is_superuser = True
    person.save()
    client.force_login(person)
    assert client.get(copy_url(campaign)).status_code == 403
    assert client.post(copy_url(campaign), copy_data()).status_code == 403
    # The actions are not offered, and asking for one by name does nothing.
    take_member_counts(campaign, by=None)
    Unit.objects.filter(pk=district.cell.pk).update(member_count=55)
    changelist = client.get(reverse(CHANGELIST))
    assert "take_member_counts_again" not in changelist.text
    client.post(
        reverse(CHANGELIST),
        {
            "action": "take_member_counts_again",
            ACTION_CHECKBOX_NAME: [campaign.pk],
            "confirmed": "yes",
        },
    )
    assert CampaignMembers.objects.get(campaign=campaign, unit=district.cell).member_count == 40
    assert list(Campaign.objects.values_list("code", flat=True)) == ["cd2024"]


def test_an_office_member_on_another_unit_only_is_not_the_office(client, campaign, district):
    clerk = assign(UserFactory(username="van-thu", is_staff=True), district.ward, Role.CLERK)
    client.force_login(clerk)
    assert client.get(copy_url(campaign)).status_code == 403
