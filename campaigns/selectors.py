"""Reads that every part of the campaign app needs."""

from datetime import date

from django.db.models import QuerySet

from .models import Campaign


def current_campaign() -> Campaign | None:
    """The active campaign with the latest year; pages show it unless told otherwise."""
    return Campaign.objects.filter(is_active=True).order_by("-year", "-pk").first()


def active_campaigns(today: date) -> QuerySet[Campaign]:
    """The campaigns under way on `today`: the jobs (engine, digests, reminders) work on these."""
    return Campaign.objects.filter(is_active=True, starts_on__lte=today).order_by("pk")
