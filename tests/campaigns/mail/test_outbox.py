"""The outbox (PRODUCT.md: "a week's digest goes out once per recipient, whatever fails and
retries"): rows are written before anything is sent, claimed by one sender at a time, and handed
out again by the sweeper when a sender died. Runs on SQLite and on PostgreSQL."""

import smtplib
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection

from campaigns.mail.digests import IsoWeek, digests_queue_week
from campaigns.mail.outbox import (
    CLAIM_TIMEOUT,
    NEVER_PICKED_UP,
    TemporaryMailError,
    outgoing_mail_claim,
    outgoing_mail_send,
    outgoing_mail_sweep,
)
from campaigns.models import OutgoingMail
from campaigns.tasks import send_outgoing_mail, sweep_outgoing_mail
from tests.conftest import require
from tests.factories import CampaignFactory, UserFactory, assign
from units.models import Role

WEEK = IsoWeek(2024, 15)
MONDAY = date(2024, 4, 8)
# Monday 08/04/2024 07:00 in Hanoi, when the beat queues the week's digests.
QUEUED_AT = datetime(2024, 4, 8, 0, 0, tzinfo=UTC)
State = OutgoingMail.State


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """A cache of this test's own. The district digest is cached by campaign pk and week, and
    pks repeat between tests (and between test databases sharing one Redis), so a shared cache
    would hand one test the digest another test rendered."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@dongda.test"
        user.save(update_fields=["email"])
    return users


@pytest.fixture
def recipients(district, campaign, staff, staff_en, standing, ward_secretary, cell_secretary):
    """Three district readers and two secretaries, all with an address."""
    return with_email(staff, staff_en, standing, ward_secretary, cell_secretary)


def queue(week: IsoWeek = WEEK) -> list[int]:
    with time_machine.travel(QUEUED_AT, tick=False):
        return digests_queue_week(week=week, today=MONDAY)


def rows() -> list[dict]:
    return list(OutgoingMail.objects.order_by("pk").values())


def delivered_to() -> Counter:
    return Counter(address for message in mail.outbox for address in message.to)


# Which rows a week gets


def test_queueing_a_week_writes_one_row_per_recipient_before_sending_anything(
    recipients, district, campaign
):
    pending = queue()
    by_user = {
        row.recipient.username: row
        for row in OutgoingMail.objects.filter(pk__in=pending).select_related("recipient")
    }
    assert set(by_user) == {u.username for u in recipients}
    for name in ("vanphong", "staff-en", "thuongtruc"):
        assert by_user[name].kind == OutgoingMail.Kind.DISTRICT_DIGEST
        assert by_user[name].unit is None
    assert by_user["bt-p-kim-lien"].kind == OutgoingMail.Kind.UNIT_DIGEST
    assert by_user["bt-p-kim-lien"].unit == district.ward
    assert by_user["bt-p-kim-lien-cb01"].unit == district.cell
    assert {(row.state, row.attempts, row.params["week"]) for row in by_user.values()} == {
        (State.QUEUED, 0, "2024-W15")
    }
    assert by_user["vanphong"].dedupe_key == f"digest:2024-W15:user:{recipients[0].pk}"
    assert mail.outbox == []


def test_person_with_a_district_role_and_a_unit_gets_only_the_district_digest(
    recipients, district, staff
):
    assign(staff, district.cell, Role.SECRETARY)
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    assert (row.kind, row.unit) == (OutgoingMail.Kind.DISTRICT_DIGEST, None)


def test_secretary_of_a_ward_and_one_of_its_cells_gets_the_ward_digest(
    recipients, district, cell_secretary
):
    assign(cell_secretary, district.ward, Role.CLERK)
    queue()
    assert OutgoingMail.objects.get(recipient=cell_secretary).unit == district.ward


def test_nobody_is_queued_who_opted_out_has_no_address_or_is_inactive(
    recipients, district, campaign, ward_secretary, cell_secretary, standing
):
    ward_secretary.receives_digests = False
    ward_secretary.save()
    cell_secretary.is_active = False
    cell_secretary.save()
    standing.email = ""
    standing.save()
    assign(UserFactory(username="no-role", email="no-role@dongda.test"), district.root, Role.CLERK)
    queue()
    assert set(OutgoingMail.objects.values_list("recipient__username", flat=True)) == {
        "vanphong",
        "staff-en",
        "no-role",
    }


def test_inactive_or_not_yet_started_campaign_gets_no_digests(recipients, campaign):
    campaign.is_active = False
    campaign.save()
    CampaignFactory(
        code="cd2025",
        year=2025,
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        study_deadline=date(2025, 3, 31),
    )
    assert queue() == []
    assert not OutgoingMail.objects.exists()


def test_queueing_the_same_week_twice_writes_no_duplicates(recipients):
    first = queue()
    before = rows()
    second = queue()
    assert sorted(second) == sorted(first)
    assert rows() == before
    assert OutgoingMail.objects.count() == len(recipients)


def test_queueing_again_after_sending_hands_out_only_what_is_still_unsent(recipients, staff):
    first = queue()
    sent = OutgoingMail.objects.get(recipient=staff)
    assert outgoing_mail_send(mail_id=sent.pk) == State.SENT
    again = queue()
    assert sorted(again) == sorted(set(first) - {sent.pk})
    assert OutgoingMail.objects.count() == len(recipients)
    assert delivered_to() == {"vanphong@dongda.test": 1}


def test_next_week_gets_rows_of_its_own(recipients):
    queue(WEEK)
    queue(IsoWeek(2024, 16))
    weeks = Counter(OutgoingMail.objects.values_list("params__week", flat=True))
    assert weeks == {"2024-W15": len(recipients), "2024-W16": len(recipients)}


# Claiming a row


def test_claim_takes_a_queued_row_for_sending(recipients, staff):
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    with time_machine.travel(QUEUED_AT + timedelta(minutes=1), tick=False):
        claimed = outgoing_mail_claim(mail_id=row.pk)
    assert claimed.pk == row.pk
    assert claimed.state == State.SENDING
    assert claimed.attempts == 1
    assert claimed.claimed_at == QUEUED_AT + timedelta(minutes=1)


def test_second_claim_of_the_same_row_gets_nothing(recipients, staff):
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    assert outgoing_mail_claim(mail_id=row.pk) is not None
    assert outgoing_mail_claim(mail_id=row.pk) is None
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENDING, 1)


@pytest.mark.parametrize("state", [State.SENT, State.FAILED, State.SKIPPED])
def test_finished_row_cannot_be_claimed(recipients, staff, state):
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    OutgoingMail.objects.filter(pk=row.pk).update(state=state)
    assert outgoing_mail_claim(mail_id=row.pk) is None
    assert outgoing_mail_send(mail_id=row.pk) == ""
    assert mail.outbox == []


def test_row_claimed_longer_than_the_timeout_can_be_claimed_again(recipients, staff):
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    claimed_at = QUEUED_AT + timedelta(minutes=1)
    with time_machine.travel(claimed_at, tick=False):
        assert outgoing_mail_claim(mail_id=row.pk) is not None
    # The sender died; until the timeout has passed the row is still its.
    with time_machine.travel(claimed_at + CLAIM_TIMEOUT - timedelta(seconds=1), tick=False):
        assert outgoing_mail_claim(mail_id=row.pk) is None
    with time_machine.travel(claimed_at + CLAIM_TIMEOUT + timedelta(seconds=1), tick=False):
        again = outgoing_mail_claim(mail_id=row.pk)
    assert again is not None
    assert again.attempts == 2
    assert again.claimed_at == claimed_at + CLAIM_TIMEOUT + timedelta(seconds=1)


class StalledBackend(locmem.EmailBackend):
    """The first delivery stalls past the claim timeout; meanwhile another sender takes the row
    over and delivers it; then the stalled one gets a '451 try later' back."""

    stalled = False

    def send_messages(self, messages):
        if StalledBackend.stalled:
            return super().send_messages(messages)
        StalledBackend.stalled = True
        mail_id = OutgoingMail.objects.get(state=State.SENDING).pk
        with time_machine.travel(QUEUED_AT + CLAIM_TIMEOUT + timedelta(minutes=1), tick=False):
            assert outgoing_mail_send(mail_id=mail_id) == State.SENT
        raise smtplib.SMTPDataError(451, b"4.3.0 try later")


def test_sender_whose_claim_was_taken_over_does_not_overwrite_the_row(recipients, staff, settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.StalledBackend"}}
    StalledBackend.stalled = False
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    with (
        time_machine.travel(QUEUED_AT, tick=False),
        pytest.raises(TemporaryMailError, match="451"),
    ):
        outgoing_mail_send(mail_id=row.pk)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (State.SENT, 2, "")
    assert delivered_to() == {staff.email: 1}


# The sweeper


def test_sweep_returns_unsent_rows_that_waited_too_long_and_nothing_else(district, campaign):
    people = [UserFactory(username=f"p{n}", email=f"p{n}@dongda.test") for n in range(8)]

    def row(n: int, created: datetime, **fields) -> int:
        with time_machine.travel(created, tick=False):
            made = OutgoingMail.objects.create(
                kind=OutgoingMail.Kind.DISTRICT_DIGEST,
                dedupe_key=f"digest:cd2024:2024-W15:user:{people[n].pk}",
                recipient=people[n],
                campaign=campaign,
                params={"week": "2024-W15"},
            )
        OutgoingMail.objects.filter(pk=made.pk).update(**fields)
        return made.pk

    now = QUEUED_AT + timedelta(hours=1)
    old = now - timedelta(minutes=30)
    never_picked_up = row(0, now - NEVER_PICKED_UP - timedelta(seconds=1))
    just_queued = row(1, now - NEVER_PICKED_UP + timedelta(seconds=30))
    stale_claim = row(
        2, old, state=State.SENDING, claimed_at=now - CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    fresh_claim = row(3, old, state=State.SENDING, claimed_at=now - timedelta(minutes=2))
    # Failed once and waiting for the task's own retry: the sweeper leaves it to the retry...
    retry_pending = row(4, old, claimed_at=now - timedelta(minutes=2), attempts=1)
    # ...unless that retry never came.
    retry_lost = row(5, old, claimed_at=now - CLAIM_TIMEOUT - timedelta(seconds=1), attempts=1)
    sent = row(6, old, state=State.SENT, claimed_at=old, sent_at=old)
    failed = row(7, old, state=State.FAILED, claimed_at=old, attempts=12)

    with time_machine.travel(now, tick=False):
        stuck = outgoing_mail_sweep()
    assert sorted(stuck) == sorted([never_picked_up, stale_claim, retry_lost])
    assert not {just_queued, fresh_claim, retry_pending, sent, failed} & set(stuck)


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks run in this process, and a task that enqueues another runs that one too."""
    app = sweep_outgoing_mail.app
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    return app


def test_sweeper_task_resends_a_row_whose_sender_died_exactly_once(recipients, staff, eager_celery):
    queue()
    for pk in OutgoingMail.objects.exclude(recipient=staff).values_list("pk", flat=True):
        outgoing_mail_send(mail_id=pk)
    stuck = OutgoingMail.objects.get(recipient=staff)
    with time_machine.travel(QUEUED_AT + timedelta(minutes=1), tick=False):
        assert outgoing_mail_claim(mail_id=stuck.pk) is not None  # and then the worker died

    later = QUEUED_AT + timedelta(minutes=1) + CLAIM_TIMEOUT + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert sweep_outgoing_mail.apply().get() == 1
    with time_machine.travel(later + timedelta(minutes=10), tick=False):
        assert sweep_outgoing_mail.apply().get() == 0

    stuck.refresh_from_db()
    assert (stuck.state, stuck.attempts) == (State.SENT, 2)
    assert delivered_to() == {u.email: 1 for u in recipients}


def test_send_task_on_a_row_already_sent_sends_nothing(recipients, staff, eager_celery):
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    assert send_outgoing_mail.apply(args=[row.pk]).get() == State.SENT
    # A redelivered task message (late acknowledgement after a crash) finds the row done.
    assert send_outgoing_mail.apply(args=[row.pk]).get() == ""
    assert delivered_to() == {staff.email: 1}


# Two senders at once


class SlowLocmemBackend(locmem.EmailBackend):
    """Takes a while to deliver, so that a second sender certainly runs while the first sends."""

    delay = 0.2

    def send_messages(self, messages):
        time.sleep(self.delay)
        return super().send_messages(messages)


@pytest.fixture
def slow_mail(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.SlowLocmemBackend"}}


def needs_concurrent_database() -> None:
    """SQLite's in-memory test database shares one cache between connections, and there a second
    writer fails at once with "database table is locked" (the busy timeout does not apply), so
    racing threads prove something only on PostgreSQL, the production database."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")


def run_at_once(*jobs) -> list:
    """Start every job at the same instant in its own thread (each with its own database
    connection, as two workers have) and return what each returned."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


@pytest.mark.django_db(transaction=True)
def test_two_senders_on_the_same_row_deliver_it_exactly_once(recipients, staff, slow_mail):
    needs_concurrent_database()
    queue()
    row = OutgoingMail.objects.get(recipient=staff)
    results = run_at_once(
        lambda: outgoing_mail_send(mail_id=row.pk), lambda: outgoing_mail_send(mail_id=row.pk)
    )
    assert sorted(results) == ["", State.SENT]
    assert delivered_to() == {staff.email: 1}
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_batch_deliver_each_digest_exactly_once(recipients, slow_mail):
    needs_concurrent_database()
    SlowLocmemBackend.delay = 0.05
    pending = queue()

    def send_all(order):
        return [outgoing_mail_send(mail_id=pk) for pk in order]

    results = run_at_once(lambda: send_all(pending), lambda: send_all(list(reversed(pending))))
    assert Counter(state for result in results for state in result) == {
        State.SENT: len(recipients),
        "": len(recipients),
    }
    assert delivered_to() == {u.email: 1 for u in recipients}
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {State.SENT}


@pytest.mark.django_db(transaction=True)
def test_two_beat_ticks_at_once_queue_each_digest_once(recipients):
    needs_concurrent_database()
    first, second = run_at_once(queue, queue)
    assert sorted(first) == sorted(second)
    assert OutgoingMail.objects.count() == len(recipients)
    assert len(set(OutgoingMail.objects.values_list("recipient_id", flat=True))) == len(recipients)


def test_a_large_batch_of_invitations_is_handed_over_in_one_message_and_all_are_sent(
    db, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    """An import creating thousands of accounts must not publish thousands of messages from the
    web request: past FAN_OUT_FROM rows the request publishes one, and the worker fans out."""
    from campaigns.mail import outbox

    people = []
    for number in range(outbox.FAN_OUT_FROM + 5):
        person = UserFactory(email=f"moi{number:03d}@example.vn")
        person.set_unusable_password()
        person.save()
        people.append(person.pk)
    published = []
    fan_out = eager_celery.tasks[outbox.FAN_OUT_TASK]
    original = fan_out.delay
    monkeypatch.setattr(fan_out, "delay", lambda *a, **k: published.append(a) or original(*a, **k))
    with django_capture_on_commit_callbacks(execute=True):
        queued = outbox.invitations_queue(user_ids=people)
    assert len(published) == 1 and sorted(published[0][0]) == sorted(queued)
    assert OutgoingMail.objects.filter(state=State.SENT).count() == len(people)
    assert len(mail.outbox) == len(people)
    # Queued once per account: asking again without `again` queues nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.invitations_queue(user_ids=people) == []
