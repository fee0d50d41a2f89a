"""A unit added or changed in the administration pages (a member count corrected, a unit closed)
appears on the dashboard, with its flags re-judged, at once, rather than after the next run of
the deadline engine (which rebuilds every status row anyway). A deleted report takes its
evidence files off the disk once the deletion commits."""

from django.apps import apps
from django.db import transaction
from django.db.models import FileField
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from units.models import Unit
from units.signals import bulk_unit_writes, invitations_wanted, units_imported

from .engine.flags import flags_sync
from .engine.status import lock_rollups, lock_rollups_shared, refresh_unit_status
from .mail.outbox import invitations_queue
from .models import Campaign, evidence_path
from .reporting.evidence import discard_on_commit
from .setup import member_counts_taken


@receiver(post_save, sender=Unit, dispatch_uid="campaigns.unit_status_follows_unit")
def unit_status_follows_unit(sender, instance: Unit, raw: bool = False, **kwargs) -> None:
    if raw or bulk_unit_writes.get():  # loading fixtures; an import refreshes once at its end
        return

    def refresh() -> None:
        today = timezone.localdate()
        for campaign in Campaign.objects.filter(is_active=True):
            with transaction.atomic():
                lock_rollups_shared(campaign)  # before the flags: see lock_rollups
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
        lock_rollups(campaign)  # before the flags and the status rows: see lock_rollups
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
    lock_rollups(campaign)  # before the flags and the status rows: see lock_rollups
    if campaign.starts_on <= today:
        flags_sync(campaign=campaign, today=today)
    refresh_unit_status(campaign, today=today)


def _evidence_fields(model) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, FileField) and f.upload_to is evidence_path
    ]


def evidence_leaves_with_its_report(sender, instance, **kwargs) -> None:
    """Reports are deleted only from the administration pages (one, or a selection, which
    Django deletes row by row when a receiver listens) or by a cascade, never by a service, so
    this is the one place that sees every deletion. History rows keep the old paths, but nothing
    serves a file from them."""
    discard_on_commit(*(getattr(instance, name) for name in _evidence_fields(sender)))


# Every model with evidence, whichever app declares it (breakthroughs too): all models are loaded
# before any app's ready() imports this module. Connected per model, not for every sender, so that
# deleting rows without evidence (flags, status rows) stays a single DELETE.
for _model in apps.get_models():
    if _evidence_fields(_model):
        post_delete.connect(
            evidence_leaves_with_its_report,
            sender=_model,
            dispatch_uid=f"campaigns.evidence_leaves_with:{_model._meta.label_lower}",
        )
