"""The demo's 2024 campaign is judged on member counts of its own, taken once its tree is built,
for the real district and for a synthetic one (`seed_demo --units N`)."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from campaigns.models import Campaign, CampaignMembers, UnitStatus
from units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("units", [None, 120], ids=["district", "synthetic"])
def test_the_demo_campaign_takes_every_units_count(units):
    options = ["--no-replay"] + ([] if units is None else ["--units", str(units)])
    call_command("seed_demo", *options, stdout=StringIO())
    campaign = Campaign.objects.get()
    taken = dict(
        CampaignMembers.objects.filter(campaign=campaign).values_list("unit_id", "member_count")
    )
    assert taken == dict(Unit.objects.values_list("pk", "member_count"))
    if units is not None:
        assert len(taken) == units
    # Taken when the campaign opened (the district conference), whatever day the demo loads.
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    assert campaign.members_taken_at == datetime(2024, 2, 29, 8, 0, tzinfo=hanoi)
    assert campaign.members_taken_by is None
    # The status rows read them.
    members = dict(UnitStatus.objects.filter(campaign=campaign).values_list("unit_id", "members"))
    assert members == taken
