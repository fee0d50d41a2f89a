"""The outbox: every e-mail (digests, reminders, returned-report notices) is written as an
OutgoingMail row first, then sent by a Celery task.

Exactly once per recipient and week: the row's unique `dedupe_key` stops a second beat tick or a
second worker from queueing it again, and `outgoing_mail_claim` lets only one sender at a time
work on a row. A sender that dies mid-send leaves the row in "sending"; after CLAIM_TIMEOUT the
sweeper hands it out again. (If a sender dies after the SMTP server accepted the message but
before the row was marked, that one message can go out twice; the window is the time of one
UPDATE, and the stable Message-ID lets mail servers drop the copy.)
"""

import logging
import smtplib
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Model, Q
from django.utils import timezone

from dongda.celery import app
from units.models import UNIT_ROLES, Assignment

from ..models import OutgoingMail
from .messages import build_message

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=15)
NEVER_PICKED_UP = timedelta(minutes=5)
MAX_ATTEMPTS = 12
State = OutgoingMail.State
# The task that sends one row (campaigns/tasks.py). Named, not imported: the tasks module wraps
# this one, and CampaignsConfig.ready() registers it in every process.
SEND_TASK = "campaigns.tasks.send_outgoing_mail"
FAN_OUT_TASK = "campaigns.tasks.enqueue_outgoing_mail"
# Above this many rows a request publishes one fan-out message rather than one per row.
FAN_OUT_FROM = 50


class TemporaryMailError(Exception):
    """The mail server could not take the message now; the row is queued again for a retry."""


def outgoing_mail_enqueue(*, mail_ids: list[int], broker_may_fail: bool = False) -> None:
    """Hands the rows to the send task once the transaction that wrote them commits (a worker
    must find them). With `broker_may_fail`, a broker that is down is logged rather than raised:
    the rows stay queued and the sweeper sends them later (a person's request must not fail for
    it; a Celery task would rather fail and be retried)."""

    def enqueue() -> None:
        try:
            if broker_may_fail and len(mail_ids) >= FAN_OUT_FROM:
                app.tasks[FAN_OUT_TASK].delay(list(mail_ids))
                return
            task = app.tasks[SEND_TASK]
            for pk in mail_ids:
                task.delay(pk)
        except Exception:
            if not broker_may_fail:
                raise
            logger.warning("could not queue e-mails %s; the sweeper will", mail_ids, exc_info=True)

    if mail_ids:
        transaction.on_commit(enqueue)


def returned_notice_queue(*, item: Model, campaign_id: int) -> list[int]:
    """Tells the unit's secretaries and clerks that the district returned `item`, in each one's
    language (rendered when sent; skipped if the item has moved on by then)."""
    label = item._meta.label_lower
    recipients = (
        Assignment.objects.filter(unit_id=item.unit_id, role__in=UNIT_ROLES, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", flat=True)
        .distinct()
    )
    rows = [
        OutgoingMail(
            kind=OutgoingMail.Kind.RETURNED,
            dedupe_key=f"returned:{label}:{item.pk}:v{item.version}:user:{user_id}",
            recipient_id=user_id,
            campaign_id=campaign_id,
            unit_id=item.unit_id,
            params={"model": label, "pk": item.pk, "version": item.version},
        )
        for user_id in recipients
    ]
    return _write_and_enqueue(rows)


def _write_and_enqueue(rows: list[OutgoingMail]) -> list[int]:
    """Writes the rows a request owes (those whose key exists already are left alone) and hands
    the ones still queued to the senders once the request's transaction commits. The broker
    being down must not fail the request: the sweeper sends them later."""
    OutgoingMail.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    keys = [row.dedupe_key for row in rows]
    pending: list[int] = []
    for start in range(0, len(keys), 500):  # SQLite caps the parameters of one statement
        pending += OutgoingMail.objects.filter(
            dedupe_key__in=keys[start : start + 500], state=State.QUEUED
        ).values_list("pk", flat=True)
    outgoing_mail_enqueue(mail_ids=pending, broker_may_fail=True)
    return pending


def invitations_queue(*, user_ids: list[int], again: bool = False) -> list[int]:
    """An e-mail to each new person with a one-time link to choose their password (Django's
    password-reset token, made when the e-mail is rendered, so it is valid from the sending).
    Queued once per account; `again` (a staff member asking to resend) queues a fresh one."""
    stamp = f":{timezone.now():%Y%m%d%H%M%S%f}" if again else ""
    rows = [
        OutgoingMail(
            kind=OutgoingMail.Kind.INVITATION,
            dedupe_key=f"invitation:user:{user_id}{stamp}",
            recipient_id=user_id,
        )
        for user_id in user_ids
    ]
    return _write_and_enqueue(rows)


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


def failed_mail(*, limit: int) -> list[OutgoingMail]:
    """E-mails the app gave up on, newest first, for the staff to follow up by phone."""
    return list(
        OutgoingMail.objects.filter(state=State.FAILED)
        .select_related("recipient", "unit")
        .order_by("-created_at")[:limit]
    )
