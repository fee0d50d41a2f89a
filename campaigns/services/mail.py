"""The outbox: digests and reminders are written as OutgoingMail rows first, then sent.

Exactly once per recipient and week: the row's unique `dedupe_key` stops a second beat tick or a
second worker from queueing it again, and `outgoing_mail_claim` lets only one sender at a time
work on a row. A sender that dies mid-send leaves the row in "sending"; after CLAIM_TIMEOUT the
sweeper hands it out again. (If a sender dies after the SMTP server accepted the message but
before the row was marked, that one message can go out twice; the window is the time of one
UPDATE, and the stable Message-ID lets mail servers drop the copy.)
"""

import smtplib
from datetime import date, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from units.models import DISTRICT_ROLES, UNIT_ROLES, Assignment

from ..digests import IsoWeek
from ..emails import build_message
from ..models import Campaign, FlagKind, OutgoingMail
from .engine import wanted_flags

CLAIM_TIMEOUT = timedelta(minutes=15)
NEVER_PICKED_UP = timedelta(minutes=5)
MAX_ATTEMPTS = 12
State = OutgoingMail.State


class TemporaryMailError(Exception):
    """The mail server could not take the message now; the row is queued again for a retry."""


def _active_campaigns(today: date):
    return Campaign.objects.filter(is_active=True, starts_on__lte=today).order_by("pk")


def digest_key(campaign: Campaign, week: IsoWeek, user_id: int) -> str:
    return f"digest:{campaign.code}:{week}:user:{user_id}"


@transaction.atomic
def digests_queue_week(*, week: IsoWeek, today: date | None = None) -> list[int]:
    """Write this week's digest rows (one per recipient and campaign; rows that exist are left
    alone) and return the ids still waiting to be sent."""
    today = today or timezone.localdate()
    assignments = (
        Assignment.objects.filter(user__is_active=True, user__receives_digests=True)
        .exclude(user__email="")
        .select_related("unit")
        .order_by("user_id", "unit__depth", "unit__path")
    )
    # One digest per person: the district digest if they hold any district role, otherwise the
    # digest of the highest unit they are assigned to.
    chosen: dict[int, Assignment] = {}
    for assignment in assignments:
        current = chosen.get(assignment.user_id)
        if current is None or (
            assignment.role in DISTRICT_ROLES and current.role not in DISTRICT_ROLES
        ):
            chosen[assignment.user_id] = assignment
    pending: list[int] = []
    for campaign in _active_campaigns(today):
        rows = [
            OutgoingMail(
                kind=(
                    OutgoingMail.Kind.DISTRICT_DIGEST
                    if a.role in DISTRICT_ROLES
                    else OutgoingMail.Kind.UNIT_DIGEST
                ),
                dedupe_key=digest_key(campaign, week, user_id),
                recipient_id=user_id,
                campaign=campaign,
                unit=None if a.role in DISTRICT_ROLES else a.unit,
                params={"week": str(week)},
            )
            for user_id, a in chosen.items()
        ]
        OutgoingMail.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        pending += list(
            OutgoingMail.objects.filter(
                dedupe_key__startswith=f"digest:{campaign.code}:{week}:", state=State.QUEUED
            ).values_list("pk", flat=True)
        )
    return pending


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
    for campaign in _active_campaigns(today):
        for kind, attribute in REMINDER_DEADLINES.items():
            due_on: date = getattr(campaign, attribute)
            days_left = (due_on - today).days
            # The nearest reminder day at or above the days left: a run missed on the 7th day
            # before still sends the "7 days" reminder the next day, and only once.
            reached = [d for d in campaign.reminder_days if 0 < days_left <= d]
            if not reached:
                continue
            reminder_day = min(reached)
            # The units that would be flagged the day after the deadline if nothing changes.
            behind = wanted_flags(campaign, due_on + timedelta(days=1))[kind]
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
                    params={"deadline": attribute, "due_on": due_on.isoformat()},
                )
                for a in assignments
            ]
            OutgoingMail.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            pending += list(
                OutgoingMail.objects.filter(
                    dedupe_key__startswith=f"reminder:{campaign.code}:{attribute}:{reminder_day}:",
                    state=State.QUEUED,
                ).values_list("pk", flat=True)
            )
    return pending


def outgoing_mail_claim(*, mail_id: int) -> OutgoingMail | None:
    """Take the row for sending, or None when another sender has it or it is done. The update is
    conditional, so of two workers at most one changes the row."""
    now = timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state=State.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    won = OutgoingMail.objects.filter(claimable, pk=mail_id).update(
        state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not won:
        return None
    return OutgoingMail.objects.select_related("recipient", "campaign", "unit").get(pk=mail_id)


def _is_permanent(exc: Exception) -> bool:
    """Only an answer about this recipient or this message is final. A 5xx at login, for the
    sender or at connection is the server's configuration: every message would fail the same
    way, and a fixed password must let them through (MAX_ATTEMPTS still bounds the retries)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in exc.recipients.values()]
        return bool(codes) and all(500 <= c < 600 for c in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


def _finish(mail: OutgoingMail, **fields) -> None:
    # Only the sender that holds the claim may finish the row.
    OutgoingMail.objects.filter(pk=mail.pk, state=State.SENDING, claimed_at=mail.claimed_at).update(
        **fields
    )


def outgoing_mail_send(*, mail_id: int) -> str:
    """Send one row. Returns the row's new state, or "" when it was not ours to send. Raises
    TemporaryMailError when the server should be tried again later."""
    mail = outgoing_mail_claim(mail_id=mail_id)
    if mail is None:
        return ""
    try:
        message = build_message(mail)
    except Exception as exc:  # a rendering bug must not leave the row claimed for 15 minutes
        gave_up = mail.attempts >= MAX_ATTEMPTS
        _finish(
            mail,
            state=State.FAILED if gave_up else State.QUEUED,
            last_error=f"render: {exc!r}"[:2000],
        )
        raise
    if message is None:
        _finish(mail, state=State.SKIPPED, sent_at=timezone.now())
        return State.SKIPPED
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        if _is_permanent(exc) or mail.attempts >= MAX_ATTEMPTS:
            _finish(mail, state=State.FAILED, last_error=error, subject=message.subject[:255])
            return State.FAILED
        _finish(mail, state=State.QUEUED, last_error=error)
        raise TemporaryMailError(error) from exc
    _finish(
        mail, state=State.SENT, sent_at=timezone.now(), subject=message.subject[:255], last_error=""
    )
    return State.SENT


def outgoing_mail_sweep() -> list[int]:
    """Rows that should have been sent by now: queued but never picked up (a lost message or a
    worker that died before taking it), or claimed by a sender that died."""
    now = timezone.now()
    stuck = OutgoingMail.objects.filter(
        Q(state=State.QUEUED, claimed_at__isnull=True, created_at__lt=now - NEVER_PICKED_UP)
        | Q(state=State.QUEUED, claimed_at__lt=now - CLAIM_TIMEOUT)
        | Q(state=State.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    )
    return list(stuck.values_list("pk", flat=True)[:5000])
