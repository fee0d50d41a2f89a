"""The deadline engine and report saves take their locks in one order, so they never deadlock.

A save locks its report's row, then the campaign's rollup lock (shared), then its unit's flags
and status row; a whole-campaign run (the engine, "as of a day", an import, new member counts)
takes the rollup lock exclusively before any flag or status row. Before that order, the engine
locked every status row in its upsert and only then asked for the rollup lock: a save holding
the lock shared and waiting for its status row made a cycle, PostgreSQL broke it by failing one
of the two, and the whole engine run rolled back (or the save answered 500).

On PostgreSQL, with threads that each have their own connection."""

import threading
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, connections, transaction

from campaigns.engine.run import deadline_engine_run
from campaigns.engine.status import lock_rollups_shared
from campaigns.models import DeadlineEngineRun, ReviewStatus, StudySession
from campaigns.reporting.services import report_submit
from tests.conftest import require
from tests.factories import StudySessionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A working day of the campaign, at 10:00 in Hanoi.
DAY = datetime(2024, 4, 15, 3, 0, tzinfo=UTC)


def require_postgres() -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")


def draft_session(unit, campaign) -> StudySession:
    return StudySessionFactory(unit=unit, campaign=campaign, status=ReviewStatus.DRAFT)


def run_in_thread(errors: list, work) -> threading.Thread:
    def target():
        try:
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_a_save_holding_the_rollup_lock_and_the_engine_both_finish(
    district, campaign, cell_secretary
):
    """The interleaving that deadlocked, made certain: the save has taken the rollup lock
    (shared) when the engine starts; the engine must wait for it before locking any row, so the
    save then gets its unit's flags and status row, commits, and the engine goes on."""
    require_postgres()
    with time_machine.travel(DAY, tick=True):
        deadline_engine_run()  # every status row exists
        item = draft_session(district.cell, campaign)
        errors: list[BaseException] = []
        save_has_the_lock = threading.Event()

        def save():
            with transaction.atomic():
                lock_rollups_shared(campaign)
                save_has_the_lock.set()
                # Time for the engine to lock whatever it locks before the rollup lock.
                time.sleep(1.5)
                report_submit(item=item, user=cell_secretary, expected_version=item.version)

        saver = run_in_thread(errors, save)
        assert save_has_the_lock.wait(timeout=10)
        engine = run_in_thread(errors, deadline_engine_run)
        saver.join(timeout=60)
        engine.join(timeout=60)
    assert not saver.is_alive() and not engine.is_alive()
    assert not errors, errors
    item.refresh_from_db()
    assert item.status == ReviewStatus.SUBMITTED
    last = DeadlineEngineRun.objects.order_by("-pk").first()
    assert last.finished_at is not None and last.error == ""


def test_several_secretaries_submitting_while_the_engine_runs(district, campaign, cell_secretary):
    """Saves of different units at once, during two engine runs: every one goes through, no
    deadlock, no retry."""
    require_postgres()
    units = [district.cell, district.ward, district.sibling_cell, district.sibling_ward]
    with time_machine.travel(DAY, tick=True):
        deadline_engine_run()
        items = [draft_session(unit, campaign) for unit in units for _ in range(3)]
        errors: list[BaseException] = []
        start = threading.Barrier(len(units) + 1)

        def submit_all(unit):
            start.wait(timeout=10)
            for item in [i for i in items if i.unit_id == unit.pk]:
                with transaction.atomic():
                    report_submit(item=item, user=cell_secretary, expected_version=item.version)

        def engine_twice():
            start.wait(timeout=10)
            deadline_engine_run()
            deadline_engine_run()

        threads = [run_in_thread(errors, lambda u=u: submit_all(u)) for u in units]
        threads.append(run_in_thread(errors, engine_twice))
        for thread in threads:
            thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert set(
        StudySession.objects.filter(pk__in=[i.pk for i in items]).values_list("status", flat=True)
    ) == {ReviewStatus.SUBMITTED}
    assert not DeadlineEngineRun.objects.exclude(error="").exists()
