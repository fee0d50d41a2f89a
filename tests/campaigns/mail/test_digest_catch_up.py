"""A lost Monday caught up: if beat could not publish Monday's digest job (or no worker ran it),
the outbox sweeper queues the digests of the week that ended, once, from Monday
DIGEST_CATCH_UP_HOUR (Hanoi) on, and never races the Monday job: both decide under one lock in
`digests_queue_week`, and the dedupe keys hold whatever happens.

The last two tests run on PostgreSQL: two threads deciding at the same instant, and two real
Celery workers running the sweeper at once, each person receiving one digest."""

import threading
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from campaigns.mail.digests import IsoWeek, digests_catch_up, digests_queue_week
from campaigns.models import Flag, FlagKind, OutgoingMail
from campaigns.tasks import sweep_outgoing_mail
from tests.conftest import require
from tests.factories import CampaignFactory, UnitFactory, UserFactory, assign
from tests.smtp import isolated_mail_settings, smtp_server_fixture  # noqa: F401 - fixtures
from units.models import Role

from .test_mail_faults import all_finished, wait_for, workers  # noqa: F401 - a fixture

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = IsoWeek(2024, 15)  # 08/04 to 14/04/2024; its digests go out on Monday 15/04


def hanoi(*args) -> datetime:
    return datetime(*args, tzinfo=HANOI)


@pytest.fixture
def readers(district, campaign, staff, standing, ward_secretary, cell_secretary):
    Flag.objects.create(
        campaign=campaign,
        unit=district.cell,
        kind=FlagKind.PLAN_MISSING,
        opened_on=date(2024, 4, 1),
    )
    people = (staff, standing, ward_secretary, cell_secretary)
    for person in people:
        person.email = f"{person.username}@dongda.test"
        person.save(update_fields=["email"])
    return people


def weeks_queued() -> Counter:
    return Counter(OutgoingMail.objects.values_list("params__week", flat=True))


def catch_up_at(when: datetime) -> list[int]:
    with time_machine.travel(when, tick=False):
        return digests_catch_up()


def test_nothing_is_caught_up_before_the_hour(readers):
    assert catch_up_at(hanoi(2024, 4, 15, 8, 59)) == []
    assert not OutgoingMail.objects.exists()


def test_from_the_hour_on_the_week_that_ended_is_queued_once(readers, settings):
    assert settings.DIGEST_CATCH_UP_HOUR == 9
    queued = catch_up_at(hanoi(2024, 4, 15, 9, 0))
    assert len(queued) == len(readers)
    assert weeks_queued() == {str(WEEK): len(readers)}
    assert catch_up_at(hanoi(2024, 4, 15, 9, 10)) == []
    assert catch_up_at(hanoi(2024, 4, 17, 14, 0)) == []
    assert OutgoingMail.objects.count() == len(readers)


def test_a_monday_job_that_ran_leaves_nothing_to_catch_up(readers):
    with time_machine.travel(hanoi(2024, 4, 15, 7, 0), tick=False):
        assert len(digests_queue_week(week=IsoWeek.last_complete())) == len(readers)
    assert catch_up_at(hanoi(2024, 4, 15, 9, 0)) == []
    assert weeks_queued() == {str(WEEK): len(readers)}


def test_a_whole_lost_monday_is_caught_up_on_tuesday(readers):
    assert len(catch_up_at(hanoi(2024, 4, 16, 0, 10))) == len(readers)
    assert weeks_queued() == {str(WEEK): len(readers)}


def test_the_hour_is_a_setting(readers, settings):
    settings.DIGEST_CATCH_UP_HOUR = 12
    assert catch_up_at(hanoi(2024, 4, 15, 11, 50)) == []
    assert len(catch_up_at(hanoi(2024, 4, 15, 12, 0))) == len(readers)


def test_no_catch_up_between_two_campaigns(readers):
    """After the 2024 campaign ended, the Monday job still sends its final state; a lost one is
    not caught up (nothing in it is news)."""
    assert catch_up_at(hanoi(2025, 1, 13, 10, 0)) == []
    assert not OutgoingMail.objects.exists()


def test_the_sweeper_task_sends_last_weeks_digests_once(
    readers, monkeypatch, django_capture_on_commit_callbacks
):
    app = sweep_outgoing_mail.app
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    for minute in (0, 10, 20):
        with (
            time_machine.travel(hanoi(2024, 4, 15, 9, minute), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            sweep_outgoing_mail.apply().get()
    assert Counter(message.to[0] for message in mail.outbox) == {p.email: 1 for p in readers}
    subjects = {message.subject for message in mail.outbox}
    assert "[Chuyên đề năm 2024] tuần 15, 08/04–14/04/2024: 1 cảnh báo đang mở" in subjects
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {"sent"}


# On PostgreSQL: deciding at the same instant


def require_postgres() -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_and_the_monday_job_at_once_queue_one_digest_per_person(readers):
    """Three threads, each with its own database connection, start together on Monday 09:00:
    two sweepers catching up and a late Monday job. The first to lock the campaign writes the
    rows; the others then see them. Exactly one sweeper decides to queue (or none, if the Monday
    job came first), and each person has one row."""
    require_postgres()
    start = threading.Barrier(3)
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def run(name: str, work) -> None:
        try:
            start.wait(timeout=10)
            results[name] = work()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("sweeper-a", digests_catch_up)),
        threading.Thread(target=run, args=("sweeper-b", digests_catch_up)),
        threading.Thread(
            target=run, args=("monday", lambda: digests_queue_week(week=IsoWeek.last_complete()))
        ),
    ]
    # The clock is the process's: travelling here moves it for the three threads alike.
    with time_machine.travel(hanoi(2024, 4, 15, 9, 0), tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors
    assert Counter(OutgoingMail.objects.values_list("recipient_id", flat=True)) == {
        p.pk: 1 for p in readers
    }
    deciders = [name for name in ("sweeper-a", "sweeper-b") if results[name]]
    assert len(deciders) <= 1
    assert deciders or results["monday"]


@pytest.fixture
def catch_up_from_midnight(monkeypatch):
    """The workers catch up from Monday 00:00, so that the test holds whatever the hour is."""
    monkeypatch.setenv("DIGEST_CATCH_UP_HOUR", "0")


@pytest.fixture
def this_weeks_readers(db):
    """A campaign under way today (real time: the workers are other processes, out of
    time-machine's reach), ten cells behind, each with a secretary; nothing queued yet."""
    today = timezone.localdate()
    campaign = CampaignFactory(
        code=f"cd-{uuid.uuid4().hex[:6]}",
        year=today.year,
        starts_on=today - timedelta(days=120),
        ends_on=today + timedelta(days=120),
        study_deadline=today - timedelta(days=60),
        plan_deadline=today - timedelta(days=50),
        breakthrough_deadline=today - timedelta(days=50),
    )
    root = UnitFactory(code="dongda", kind="district", member_count=0)
    ward = UnitFactory(parent=root, code="p-kim-lien", kind="ward_committee")
    people = []
    for n in range(10):
        cell = UnitFactory(parent=ward, code=f"p-kim-lien-t{n:02d}")
        # Opened by the cell's own re-judging on its creation, or here.
        Flag.objects.get_or_create(
            campaign=campaign,
            unit=cell,
            kind=FlagKind.PLAN_MISSING,
            closed_at__isnull=True,
            defaults={"opened_on": today - timedelta(days=40)},
        )
        person = UserFactory(
            username=f"bt-t{n:02d}", email=f"bt-t{n:02d}@dongda.test", language="vi"
        )
        people.append(assign(person, cell, Role.SECRETARY))
    return people


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_send_last_weeks_digest_once_to_each_person(
    catch_up_from_midnight,
    this_weeks_readers,
    workers,  # noqa: F811 - the fixture imported above
    smtp_server,
):
    smtp_server.slow_down(0.05)
    workers.start("a", "b")
    sweeps = [sweep_outgoing_mail.apply_async(queue=workers.queue) for _ in range(2)]
    counts = sorted(sweep.get(timeout=60) for sweep in sweeps)
    # One sweep decided and handed out every row; the other found the week queued.
    assert counts == [0, len(this_weeks_readers)]
    wait_for(all_finished(len(this_weeks_readers)), timeout=60, what="every digest to be sent")
    time.sleep(0.5)  # a duplicate, if any, would be on its way now
    assert smtp_server.per_recipient() == {p.email: 1 for p in this_weeks_readers}
    week = IsoWeek.last_complete()
    assert set(OutgoingMail.objects.values_list("params__week", flat=True)) == {str(week)}
    # A third sweep, later: nothing more.
    assert sweep_outgoing_mail.apply_async(queue=workers.queue).get(timeout=60) == 0
    assert OutgoingMail.objects.count() == len(this_weeks_readers)
