"""A person gets one digest a week whatever the number of campaigns: it is about the current one
(the campaign under way, or the one that ended last), and a week already sent is never sent
again about another campaign."""

from datetime import date

import pytest
from django.core import mail

from campaigns.mail.digests import IsoWeek, digests_queue_week
from campaigns.mail.outbox import outgoing_mail_send
from campaigns.models import Flag, FlagKind, OutgoingMail
from tests.factories import CampaignFactory
from tests.smtp import isolated_mail_settings  # noqa: F401 - autouse fixture


@pytest.fixture
def two_campaigns(district, campaign, staff, standing, ward_secretary, cell_secretary):
    """2024 (29/02 to 31/12/2024) and 2025 (03/03 to 31/12/2025), both active, each with an
    open flag; five people with an address."""
    second = CampaignFactory(
        code="cd2025",
        year=2025,
        short_title_vi="Chuyên đề năm 2025",
        short_title_en="2025 thematic study",
        starts_on=date(2025, 3, 3),
        ends_on=date(2025, 12, 31),
        study_deadline=date(2025, 3, 31),
        plan_deadline=date(2025, 4, 30),
        breakthrough_deadline=date(2025, 4, 30),
    )
    for year in (campaign, second):
        Flag.objects.create(
            campaign=year,
            unit=district.cell,
            kind=FlagKind.PLAN_MISSING,
            opened_on=date(year.year, 5, 1),
        )
    people = (staff, standing, ward_secretary, cell_secretary)
    for person in people:
        person.email = f"{person.username}@dongda.test"
        person.save(update_fields=["email"])
    return campaign, second, people


def test_one_digest_per_person_with_two_campaigns_about_the_one_under_way(two_campaigns):
    _first, second, people = two_campaigns
    week = IsoWeek(2025, 24)  # Monday 09/06/2025: both campaigns have begun
    pending = digests_queue_week(week=week, today=week.monday)
    rows = OutgoingMail.objects.filter(pk__in=pending)
    assert sorted(rows.values_list("recipient_id", flat=True)) == sorted(p.pk for p in people)
    assert set(rows.values_list("campaign_id", flat=True)) == {second.pk}
    # Run again (a second beat tick): nothing new.
    assert sorted(digests_queue_week(week=week, today=week.monday)) == sorted(pending)
    assert OutgoingMail.objects.count() == len(people)
    for pk in pending:
        outgoing_mail_send(mail_id=pk)
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        p.email for p in people
    )
    assert all("2025" in message.subject for message in mail.outbox)


def test_between_two_campaigns_the_digest_is_about_the_one_that_ended(two_campaigns):
    first, _second, people = two_campaigns
    week = IsoWeek(2025, 3)  # Monday 13/01/2025
    digests_queue_week(week=week, today=week.monday)
    assert set(OutgoingMail.objects.values_list("campaign_id", flat=True)) == {first.pk}
    assert OutgoingMail.objects.count() == len(people)


def test_a_week_already_queued_is_not_sent_again_when_a_new_campaign_begins(two_campaigns):
    """The 2025 campaign begins on Monday 03/03/2025: a run on the Sunday before (about 2024)
    and a late run that Monday (about 2025) make one e-mail a person for that week."""
    first, _second, people = two_campaigns
    week = IsoWeek(2025, 10)
    digests_queue_week(week=week, today=date(2025, 3, 2))
    digests_queue_week(week=week, today=week.monday)
    assert OutgoingMail.objects.count() == len(people)
    assert set(OutgoingMail.objects.values_list("campaign_id", flat=True)) == {first.pk}


def test_no_digest_before_the_first_campaign_begins(two_campaigns):
    week = IsoWeek(2024, 6)  # Monday 05/02/2024
    assert digests_queue_week(week=week, today=week.monday) == []
    assert not OutgoingMail.objects.exists()
