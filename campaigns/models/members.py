"""The member counts a campaign is judged on: a copy of every unit's count, taken when the
campaign is set up and again only when the district office asks for it.

A unit's coverage (R1: accepted attendance against its members) must not move when its count is
corrected the next year, or last year's figures would be rewritten. So each campaign keeps its
own counts here, and everything that judges or shows a unit's members for a campaign reads this
row first. A unit without a row (created after the counts were taken, e.g. by an import) is
judged on its live `Unit.member_count` until the office takes the counts again.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .campaign import Campaign


class CampaignMembers(models.Model):
    """One unit's member count as one campaign counts it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="member_counts")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="campaign_members")
    member_count = models.PositiveIntegerField(_("party members"))

    class Meta:
        verbose_name = _("campaign member count")
        verbose_name_plural = _("campaign member counts")
        constraints = [
            # Also the index of the LEFT JOIN every status refresh makes (campaign, unit).
            models.UniqueConstraint(
                fields=["campaign", "unit"], name="campaignmembers_one_per_unit"
            ),
            models.CheckConstraint(
                condition=models.Q(member_count__gte=0), name="campaignmembers_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.unit_id}: {self.member_count}"
