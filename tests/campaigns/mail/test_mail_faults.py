"""Digests through a real SMTP server (aiosmtpd on 127.0.0.1), parsed with the email package as a
mail client would, under the faults a real server produces: down then up, 451 then accepted, 550,
and a server that never recovers. After each, every recipient holds exactly one digest for the
week (or, for a permanent failure, none, and the staff can see why).

The second half runs a real Celery worker process on Redis and PostgreSQL: the whole weekly run
end to end, the task run twice at once, a worker killed with SIGKILL in the middle of a batch, and
the deadline engine run twice at once. Those skip without Redis and PostgreSQL, and fail in CI.
"""

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unicodedata
import uuid
from collections import Counter
from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone

from campaigns.engine.run import deadline_engine_run
from campaigns.mail.digests import IsoWeek, digests_queue_week
from campaigns.mail.outbox import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    TemporaryMailError,
    outgoing_mail_send,
    outgoing_mail_sweep,
)
from campaigns.models import (
    DeadlineEngineRun,
    Flag,
    FlagKind,
    ImplementationPlan,
    OutgoingMail,
    ReviewStatus,
)
from campaigns.tasks import queue_weekly_digests, run_deadline_engine, sweep_outgoing_mail
from tests.conftest import redis_answers, require
from tests.factories import (
    BreakthroughTaskFactory,
    IncidentFactory,
    StudySessionFactory,
    UnitFactory,
    UserFactory,
    assign,
)
from tests.smtp import (  # noqa: F401 - fixtures
    isolated_mail_settings,
    mail_via_smtp_fixture,
    smtp_server_fixture,
)
from units.models import Role

WEEK = "2024-W28"
State = OutgoingMail.State


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@dongda.test"
        user.save(update_fields=["email"])
    return users


def open_flag(campaign, unit, kind, subject=""):
    """Opens the flag unless the unit's own re-judging (on its creation) already did."""
    Flag.objects.get_or_create(
        campaign=campaign,
        unit=unit,
        kind=kind,
        subject=subject,
        closed_at__isnull=True,
        defaults={"opened_on": date(2024, 5, 1)},
    )


@pytest.fixture
def readers(district, campaign, staff, staff_en, ward_secretary, cell_secretary, sibling_secretary):
    """Five recipients in both languages, and open flags in both wards."""
    sibling_secretary.language = "en"
    sibling_secretary.save()
    open_flag(campaign, district.cell, FlagKind.PLAN_MISSING)
    open_flag(campaign, district.sibling_cell, FlagKind.STUDY_OVERDUE)
    open_flag(campaign, district.sibling_ward, FlagKind.STALE_INCIDENT, "incident:1")
    return with_email(staff, staff_en, ward_secretary, cell_secretary, sibling_secretary)


def everyone_once(users) -> Counter:
    return Counter({user.email: 1 for user in users})


def send_digests() -> str:
    out = StringIO()
    call_command("send_digests", "--week", WEEK, stdout=out)
    return out.getvalue().strip()


def row_of(user) -> OutgoingMail:
    return OutgoingMail.objects.get(recipient=user, params__week=WEEK)


# What arrives


def received_by(server, user):
    (received,) = [r for r in server.received if r.rcpt_tos == (user.email,)]
    return received


def test_vietnamese_digest_arrives_once_per_reader_with_parts_that_decode_intact(
    readers, staff, mail_via_smtp
):
    assert send_digests() == f"digests for {WEEK}: 5 sent"
    assert mail_via_smtp.per_recipient() == everyone_once(readers)

    received = received_by(mail_via_smtp, staff)
    # On the wire the message is plain ASCII: headers in RFC 2047 words, bodies transfer-encoded.
    assert received.content.isascii()
    message = received.message
    assert message["To"] == staff.email
    assert message["From"].addresses[0].display_name == "Quận ủy Đống Đa"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Thư tổng hợp toàn quận, tuần 28, 08/07–14/07/2024" in part
        assert "Cảnh báo đang mở, nghiêm trọng nhất trước:" in part
        assert "Chi bộ Tổ dân phố số 1" in part
        assert "Đảng bộ phường Văn Miếu" in part
        assert unicodedata.is_normalized("NFC", part)
    assert "Chưa có kế hoạch triển khai: 1" in text
    assert '<html lang="vi">' in html


@pytest.mark.parametrize(
    ("reader", "subject"),
    [
        ("staff", "[Chuyên đề năm 2024] tuần 28, 08/07–14/07/2024: 3 cảnh báo đang mở"),
        (
            "ward_secretary",
            "[Chuyên đề năm 2024] Đảng bộ phường Kim Liên · tuần 28, "
            "08/07–14/07/2024: 1 cảnh báo đang mở",
        ),
    ],
    ids=["district", "ward"],
)
def test_vietnamese_subject_decodes_to_the_exact_text(
    readers, mail_via_smtp, request, reader, subject
):
    send_digests()
    received = received_by(mail_via_smtp, request.getfixturevalue(reader))
    raw_subject = re.search(rb"^Subject: (.*?)\r?\n(?![ \t])", received.content, re.M | re.S)
    assert b"=?utf-8?" in raw_subject.group(1).lower()  # RFC 2047 encoded words
    assert received.message["Subject"] == subject


def test_english_digest_arrives_in_english(readers, sibling_secretary, mail_via_smtp):
    send_digests()
    (message,) = mail_via_smtp.messages_to(sibling_secretary.email)
    assert message["Subject"] == (
        "[2024 thematic study] Van Mieu Ward Party Committee · week 28, 8–14 Jul 2024: 2 open flags"
    )
    text = message.get_body(("plain",)).get_content()
    assert "Weekly digest of Van Mieu Ward Party Committee and the units below it" in text
    assert "Stale incident: 1" in text


def test_list_unsubscribe_arrives_as_a_plain_url_a_mail_client_can_post_to(
    readers, staff, mail_via_smtp
):
    """RFC 2369/8058: the header holds <URL>. A mail client reads the raw header; it does not
    decode RFC 2047 words there (they are allowed only in text, not in a URL list)."""
    send_digests()
    received = received_by(mail_via_smtp, staff)
    raw = email.message_from_bytes(received.content, policy=email.policy.compat32)
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw["List-Unsubscribe"])
    url = re.fullmatch(
        r"<(http://127\.0\.0\.1:8000(/vi/accounts/unsubscribe/[^\s<>]+/))>", unfolded
    )
    assert url, f"List-Unsubscribe on the wire: {raw['List-Unsubscribe']!r}"
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Client(enforce_csrf_checks=True).post(url.group(2)).status_code == 200
    staff.refresh_from_db()
    assert staff.receives_digests is False


# Faults


def test_server_down_queues_every_digest_again_and_the_next_run_sends_each_once(
    readers, staff, mail_via_smtp
):
    mail_via_smtp.stop()
    with pytest.raises(TemporaryMailError, match="Connection refused"):
        outgoing_mail_send(mail_id=digests_queue_week(week=IsoWeek.parse(WEEK))[0])
    assert send_digests() == f"digests for {WEEK}: 5 queued for a retry"
    row = row_of(staff)
    assert row.state == State.QUEUED
    assert "Connection refused" in row.last_error
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {State.QUEUED}

    mail_via_smtp.start()
    assert send_digests() == f"digests for {WEEK}: 5 sent"
    assert send_digests() == f"digests for {WEEK}: nothing to send"
    assert mail_via_smtp.per_recipient() == everyone_once(readers)
    row.refresh_from_db()
    assert (row.state, row.last_error) == (State.SENT, "")
    assert row.sent_at is not None


def test_451_then_accepted_sends_each_digest_once(readers, mail_via_smtp):
    mail_via_smtp.fail_next(2)
    assert send_digests() == f"digests for {WEEK}: 2 queued for a retry, 3 sent"
    retried = OutgoingMail.objects.filter(state=State.QUEUED)
    assert retried.count() == 2
    assert all("451" in row.last_error and row.attempts == 1 for row in retried)

    assert send_digests() == f"digests for {WEEK}: 2 sent"
    assert mail_via_smtp.per_recipient() == everyone_once(readers)
    assert set(OutgoingMail.objects.values_list("attempts", flat=True)) == {1, 2}


def test_single_send_raises_a_temporary_error_on_451_and_delivers_on_the_next_try(
    readers, staff, mail_via_smtp
):
    digests_queue_week(week=IsoWeek.parse(WEEK))
    row = row_of(staff)
    mail_via_smtp.fail_next(1)
    with pytest.raises(TemporaryMailError, match="451"):
        outgoing_mail_send(mail_id=row.pk)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.QUEUED, 1)
    assert "451" in row.last_error
    assert outgoing_mail_send(mail_id=row.pk) == State.SENT
    assert mail_via_smtp.per_recipient() == {staff.email: 1}


def test_550_fails_the_digest_for_good_and_shows_it_to_the_staff(
    readers, staff, ward_secretary, mail_via_smtp, client
):
    mail_via_smtp.refuse(ward_secretary.email)
    assert send_digests() == f"digests for {WEEK}: 1 failed, 4 sent"
    row = row_of(ward_secretary)
    assert (row.state, row.attempts) == (State.FAILED, 1)
    assert "550" in row.last_error and "no such user" in row.last_error
    assert row.subject.startswith("[Chuyên đề năm 2024] Đảng bộ phường Kim Liên")

    # Not retried: not by the next run, not by a send, not by the sweeper.
    assert send_digests() == f"digests for {WEEK}: nothing to send"
    assert outgoing_mail_send(mail_id=row.pk) == ""
    with time_machine.travel(timezone.now() + CLAIM_TIMEOUT * 4):
        assert row.pk not in outgoing_mail_sweep()
    expected = everyone_once(readers)
    del expected[ward_secretary.email]
    assert mail_via_smtp.per_recipient() == expected

    client.force_login(staff)
    page = client.get("/vi/dashboard/digest/", {"week": WEEK}).text
    failures = page[page.index('id="failed-heading"') :]
    assert "bt-p-kim-lien@dongda.test" in failures
    assert "550" in failures and "no such user" in failures
    assert "vanphong@dongda.test" not in failures


def test_digest_fails_after_max_attempts_of_temporary_errors(readers, staff, mail_via_smtp):
    digests_queue_week(week=IsoWeek.parse(WEEK))
    row = row_of(staff)
    mail_via_smtp.fail_next(MAX_ATTEMPTS + 5)
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(TemporaryMailError):
            outgoing_mail_send(mail_id=row.pk)
    assert outgoing_mail_send(mail_id=row.pk) == State.FAILED
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.FAILED, MAX_ATTEMPTS)
    assert "451" in row.last_error

    mail_via_smtp.fail_next(0)
    assert outgoing_mail_send(mail_id=row.pk) == ""
    with time_machine.travel(timezone.now() + CLAIM_TIMEOUT * 4):
        assert row.pk not in outgoing_mail_sweep()
    assert send_digests() == f"digests for {WEEK}: 4 sent"
    expected = everyone_once(readers)
    del expected[staff.email]
    assert mail_via_smtp.per_recipient() == expected


# A real worker on Redis and PostgreSQL


# The worker's own default queue: the tasks it enqueues itself (a digest run enqueues one send
# per row) must come back to it, not to the shared "celery" queue. Its own cache prefix, too: the
# Redis it shares with other test runs may hold a district digest cached under the same campaign
# pk by another test database.
WORKER_BOOT = """
import sys
from django.conf import settings
from dongda.celery import app
queue, name = sys.argv[1:3]
app.conf.task_default_queue = queue
settings.CACHES["default"]["KEY_PREFIX"] = queue
app.worker_main(["worker", "--pool=solo", "--queues", queue, "--hostname", name,
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"])
"""


class Worker:
    """One `celery worker` process (solo pool: one task at a time), its output kept for the
    test's report."""

    def __init__(self, *, queue: str, name: str, env: dict) -> None:
        self.name = name
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER_BOOT, queue, f"{name}@%h"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 60) -> "Worker":
        if not self.ready.wait(timeout):
            pytest.fail(f"worker {self.name} did not start:\n{''.join(self.lines[-60:])}")
        return self

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        print(f"--- worker {self.name}\n{''.join(self.lines[-80:])}")


@pytest.fixture
def workers(smtp_server, monkeypatch):
    """Starts Celery workers on a queue of this test's own, sending mail to the test's SMTP server
    and reading this test's PostgreSQL database."""
    require(redis_answers(django_settings.REDIS_URL), "Redis (REDIS_URL)")
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}:{port}/{db['NAME']}"
    queue = f"test-mail-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(queue_weekly_digests.app.conf, "task_default_queue", queue)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EMAIL_URL": smtp_server.url,
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    started: list[Worker] = []

    class Pool:
        def __init__(self):
            self.queue = queue

        def start(self, *names: str) -> list[Worker]:
            new = [Worker(queue=queue, name=f"{queue}-{n}", env=env) for n in names]
            started.extend(new)
            return [worker.wait_ready() for worker in new]

    try:
        yield Pool()
    finally:
        for worker in started:
            worker.stop()
        with queue_weekly_digests.app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def all_finished(expected: int):
    def check() -> bool:
        states = list(OutgoingMail.objects.values_list("state", flat=True))
        return len(states) == expected and set(states) <= {State.SENT, State.SKIPPED, State.FAILED}

    return check


@pytest.fixture
def ten_secretaries(district, campaign):
    """Ten cells under Kim Liên ward, each behind on its plan, each with a secretary (half of them
    reading English)."""
    people = []
    for n in range(10):
        cell = UnitFactory(parent=district.ward, code=f"p-kim-lien-t{n:02d}")
        open_flag(campaign, cell, FlagKind.PLAN_MISSING)
        person = UserFactory(
            username=f"bt-t{n:02d}",
            email=f"bt-t{n:02d}@dongda.test",
            language="vi" if n % 2 else "en",
        )
        people.append(assign(person, cell, Role.SECRETARY))
    return people


slow = pytest.mark.slow


@slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_sends_the_weekly_digests_end_to_end(
    readers,
    staff,
    staff_en,
    workers,
    smtp_server,
):
    workers.start("a")
    queued = queue_weekly_digests.apply_async(args=[WEEK], queue=workers.queue).get(timeout=60)
    assert queued == len(readers)
    wait_for(all_finished(len(readers)), timeout=60, what="every digest to be sent")
    smtp_server.wait_until(lambda s: len(s.received) >= len(readers), timeout=10)
    assert smtp_server.per_recipient() == everyone_once(readers)
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {State.SENT}
    (message,) = smtp_server.messages_to(staff_en.email)
    assert message["Subject"] == "[2024 thematic study] week 28, 8–14 Jul 2024: 3 open flags"
    (message,) = smtp_server.messages_to(staff.email)
    assert (
        "Thư tổng hợp toàn quận, tuần 28, 08/07–14/07/2024"
        in message.get_body(("plain",)).get_content()
    )


@slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_digest_task_run_twice_at_once_sends_each_digest_once(
    ten_secretaries,
    workers,
    smtp_server,
):
    smtp_server.slow_down(0.05)
    workers.start("a", "b")
    runs = [queue_weekly_digests.apply_async(args=[WEEK], queue=workers.queue) for _ in range(2)]
    # The run that commits first hands out every row; the other finds them taken or sent.
    assert max(run.get(timeout=60) for run in runs) == len(ten_secretaries)
    wait_for(all_finished(len(ten_secretaries)), timeout=60, what="every digest to be sent")
    time.sleep(0.5)  # a duplicate, if any, would be on its way now
    assert smtp_server.per_recipient() == everyone_once(ten_secretaries)
    assert OutgoingMail.objects.count() == len(ten_secretaries)


@slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_then_restarted_and_swept_sends_each_digest_once(
    ten_secretaries,
    workers,
    smtp_server,
):
    """The server takes 0.5 s per message. The worker is killed while the server holds the third
    message unanswered: two rows are sent, one is 'sending' with nothing delivered, seven wait in
    the queue. A new worker sends the seven; the sending row's claim is aged past CLAIM_TIMEOUT
    in the database (time-machine cannot reach another process) and the sweeper hands it out.

    The outbox allows one duplicate: a message the server accepted at the instant of the kill,
    before the row was marked. Killing while the server has not answered keeps out of that
    window, so here no recipient may get two."""
    smtp_server.slow_down(0.5)
    (first,) = workers.start("first")
    queue_weekly_digests.apply_async(args=[WEEK], queue=workers.queue)
    smtp_server.wait_until(lambda s: len(s.received) == 2 and s.in_flight == 1, timeout=30)
    first.kill()

    states = Counter(OutgoingMail.objects.values_list("state", flat=True))
    assert states == {State.SENT: 2, State.SENDING: 1, State.QUEUED: 7}
    # Fifteen minutes and more pass.
    OutgoingMail.objects.update(created_at=F("created_at") - timedelta(minutes=30))
    OutgoingMail.objects.filter(state=State.SENDING).update(
        claimed_at=F("claimed_at") - CLAIM_TIMEOUT - timedelta(minutes=1)
    )

    smtp_server.slow_down(0.05)
    workers.start("second")
    swept = sweep_outgoing_mail.apply_async(queue=workers.queue).get(timeout=60)
    assert swept >= 1
    wait_for(all_finished(len(ten_secretaries)), timeout=60, what="every digest to be sent")
    time.sleep(0.5)
    assert smtp_server.per_recipient() == everyone_once(ten_secretaries)
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {State.SENT}


@pytest.fixture
def engine_data(district, campaign):
    """Something for most flag kinds, as of any day after the 2024 deadlines."""
    StudySessionFactory(campaign=campaign, unit=district.ward, attendees=12)
    StudySessionFactory(campaign=campaign, unit=district.cell, attendees=30)
    StudySessionFactory(
        campaign=campaign,
        unit=district.cell,
        attendees=10,
        members_expected=10,
        held_on=date(2024, 4, 5),
    )
    ImplementationPlan.objects.create(
        campaign=campaign,
        unit=district.ward,
        number="01-KH/ĐU",
        issued_on=date(2024, 3, 20),
        programme="Chương trình số 01",
        status=ReviewStatus.ACCEPTED,
    )
    BreakthroughTaskFactory(campaign=campaign, unit=district.ward)
    IncidentFactory(campaign=campaign, unit=district.sibling_ward, opened_on=date(2024, 4, 1))
    for n in range(20):
        UnitFactory(parent=district.sibling_ward, code=f"p-van-mieu-t{n:02d}")
    return district


def flag_rows() -> list[tuple]:
    return sorted(
        Flag.objects.values_list("unit__code", "kind", "subject", "opened_on", "closed_on")
    )


@slow
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deadline_engine_run_twice_at_once_by_two_workers_equals_one_run(engine_data, workers):
    # Each unit's flags were judged as it was created (committed, in this test): start bare.
    Flag.objects.all().delete()
    single = deadline_engine_run()
    expected = flag_rows()
    assert single.opened == len(expected) > 40
    Flag.objects.all().delete()
    DeadlineEngineRun.objects.all().delete()

    workers.start("a", "b")
    runs = [run_deadline_engine.apply_async(queue=workers.queue) for _ in range(2)]
    results = [run.get(timeout=90) for run in runs]

    assert flag_rows() == expected
    keys = list(Flag.objects.values_list("unit_id", "kind", "subject"))
    assert len(keys) == len(set(keys))
    assert sum(r["opened"] for r in results) == len(expected)
    assert [r["closed"] for r in results] == [0, 0]
    assert not DeadlineEngineRun.objects.exclude(error="").exists()
    again = deadline_engine_run()
    assert (again.opened, again.closed) == (0, 0)
    assert Flag.objects.filter(kind=FlagKind.STUDY_LATE).count() == 1
