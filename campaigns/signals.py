"""A unit added or changed in the administration pages appears on the dashboard at once, rather
than after the next run of the deadline engine (which rebuilds every status row anyway)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from units.models import Unit

from .engine.status import refresh_unit_status
from .models import Campaign


@receiver(post_save, sender=Unit, dispatch_uid="campaigns.unit_status_follows_unit")
def unit_status_follows_unit(sender, instance: Unit, raw: bool = False, **kwargs) -> None:
    if raw:  # loading fixtures
        return

    def refresh() -> None:
        for campaign in Campaign.objects.filter(is_active=True):
            refresh_unit_status(campaign, unit_ids=[instance.pk])

    transaction.on_commit(refresh)
