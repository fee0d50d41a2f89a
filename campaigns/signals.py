"""A unit added or changed in the administration pages (a member count corrected, a unit closed)
appears on the dashboard, with its flags re-judged, at once, rather than after the next run of
the deadline engine (which rebuilds every status row anyway)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from units.models import Unit

from .engine.flags import flags_sync
from .engine.status import refresh_unit_status
from .models import Campaign


@receiver(post_save, sender=Unit, dispatch_uid="campaigns.unit_status_follows_unit")
def unit_status_follows_unit(sender, instance: Unit, raw: bool = False, **kwargs) -> None:
    if raw:  # loading fixtures
        return

    def refresh() -> None:
        today = timezone.localdate()
        for campaign in Campaign.objects.filter(is_active=True):
            with transaction.atomic():
                if campaign.starts_on <= today:
                    flags_sync(campaign=campaign, today=today, unit_ids=[instance.pk])
                refresh_unit_status(campaign, unit_ids=[instance.pk], today=today)

    transaction.on_commit(refresh)
