"""A unit added or changed in the administration pages (a member count corrected, a unit closed)
appears on the dashboard, with its flags re-judged, at once, rather than after the next run of
the deadline engine (which rebuilds every status row anyway)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from units.models import Unit
from units.signals import bulk_unit_writes, invitations_wanted, units_imported

from .engine.flags import flags_sync
from .engine.status import refresh_unit_status
from .mail.outbox import invitations_queue
from .models import Campaign
from .setup import member_counts_taken


@receiver(post_save, sender=Unit, dispatch_uid="campaigns.unit_status_follows_unit")
def unit_status_follows_unit(sender, instance: Unit, raw: bool = False, **kwargs) -> None:
    if raw or bulk_unit_writes.get():  # loading fixtures; an import refreshes once at its end
        return

    def refresh() -> None:
        today = timezone.localdate()
        for campaign in Campaign.objects.filter(is_active=True):
            with transaction.atomic():
                if campaign.starts_on <= today:
                    flags_sync(campaign=campaign, today=today, unit_ids=[instance.pk])
                refresh_unit_status(campaign, unit_ids=[instance.pk], today=today)

    transaction.on_commit(refresh)


@receiver(units_imported, dispatch_uid="campaigns.status_follows_import")
def status_follows_import(sender, unit_ids: list[int], tree_changed: bool, **kwargs) -> None:
    """After a spreadsheet import, inside its transaction: a moved or new unit changes the
    rollups of every committee above it, so the whole campaign is re-judged once (a fixed number
    of statements), and the import's page already shows the new figures."""
    if not unit_ids:
        return
    today = timezone.localdate()
    for campaign in Campaign.objects.filter(is_active=True):
        if campaign.starts_on <= today:
            flags_sync(campaign=campaign, today=today)
        refresh_unit_status(campaign, today=today)


@receiver(invitations_wanted, dispatch_uid="campaigns.invite_people")
def invite_people(sender, user_ids: list[int], again: bool = False, **kwargs) -> None:
    invitations_queue(user_ids=user_ids, again=again)


@receiver(member_counts_taken, dispatch_uid="campaigns.status_follows_member_counts")
def status_follows_member_counts(sender, campaign: Campaign, **kwargs) -> None:
    """The district office took a campaign's member counts again: inside the same transaction
    its flags (R1 depends on the counts) and status rows are re-judged once, so the page the
    office returns to shows the new figures. Other campaigns keep theirs."""
    today = timezone.localdate()
    if campaign.starts_on <= today:
        flags_sync(campaign=campaign, today=today)
    refresh_unit_status(campaign, today=today)
