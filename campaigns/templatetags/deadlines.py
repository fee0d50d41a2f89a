"""`{{ campaign|deadline:"study_deadline" }}`: a campaign's deadline as people read it, the day it
falls on and, when it moved off a day off, the day it was set on (`campaigns.periods.Deadline`)."""

from django import template

from ..models import Campaign
from ..periods import deadline as campaign_deadline

register = template.Library()


@register.filter
def deadline(campaign: Campaign, attribute: str) -> str:
    return str(campaign_deadline(campaign, getattr(campaign, attribute)))
