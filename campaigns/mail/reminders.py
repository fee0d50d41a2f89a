"""Reminders: a few days before a deadline (the campaign's `reminder_days`, counted back from the
effective deadline, `campaigns.periods.effective_deadline`), the secretaries and clerks of the
units that have not met it yet get an e-mail."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from units.models import UNIT_ROLES, Assignment

from ..engine.flags import wanted_flags
from ..models import FlagKind, OutgoingMail
from ..periods import effective_deadline
from ..selectors import active_campaigns

REMINDER_DEADLINES = {
    FlagKind.STUDY_OVERDUE: "study_deadline",
    FlagKind.PLAN_MISSING: "plan_deadline",
    FlagKind.NO_BREAKTHROUGH: "breakthrough_deadline",
}


@transaction.atomic
def reminders_queue(*, today: date | None = None) -> list[int]:
    """Reminders to the secretaries (and clerks) of units that have not yet met a deadline that
    falls a configured number of days from today."""
    today = today or timezone.localdate()
    pending: list[int] = []
    for campaign in active_campaigns(today):
        for kind, attribute in REMINDER_DEADLINES.items():
            set_on: date = getattr(campaign, attribute)
            due_on = effective_deadline(campaign, set_on)
            days_left = (due_on - today).days
            # The nearest reminder day at or above the days left: a run missed on the 7th day
            # before still sends the "7 days" reminder the next day, and only once.
            reached = [d for d in campaign.reminder_days if 0 < days_left <= d]
            if not reached:
                continue
            reminder_day = min(reached)
            # The units that would be flagged the day after the deadline if nothing changes.
            behind = wanted_flags(campaign, due_on + timedelta(days=1))[kind]
            if not behind:
                continue
            unit_ids = behind[0].values("w_unit")
            assignments = Assignment.objects.filter(
                unit__in=unit_ids, role__in=UNIT_ROLES, user__is_active=True
            ).exclude(user__email="")
            rows = [
                OutgoingMail(
                    kind=OutgoingMail.Kind.REMINDER,
                    dedupe_key=(
                        f"reminder:{campaign.code}:{attribute}:{reminder_day}:"
                        f"user:{a.user_id}:unit:{a.unit_id}"
                    ),
                    recipient_id=a.user_id,
                    campaign=campaign,
                    unit_id=a.unit_id,
                    params={
                        "deadline": attribute,
                        "due_on": due_on.isoformat(),
                        "set_on": set_on.isoformat(),
                    },
                )
                for a in assignments
            ]
            OutgoingMail.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            pending += list(
                OutgoingMail.objects.filter(
                    dedupe_key__startswith=f"reminder:{campaign.code}:{attribute}:{reminder_day}:",
                    state=OutgoingMail.State.QUEUED,
                ).values_list("pk", flat=True)
            )
    return pending
