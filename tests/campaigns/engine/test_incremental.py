"""The incremental engine leaves what a full re-judgement leaves.

Random histories of a small district (reports written, sent, reviewed and deleted without the
services' own refresh, member counts and units changed behind the app's back, a campaign
setting changed, days and deadlines passing) are run through the daily engine, which re-judges
only the units whose inputs changed; after every step a full run must find nothing to change:
the same flags (with their days and escalations), status rows and rollups.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from breakthroughs.models import BreakthroughTask
from campaigns.engine.run import deadline_engine_run
from campaigns.models import (
    Campaign,
    CompletionRollup,
    EngineCheckpoint,
    Flag,
    ImplementationPlan,
    Incident,
    PropagandaActivity,
    ReviewStatus,
    StatusRollup,
    StudySession,
    UnitStatus,
)
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    ImplementationPlanFactory,
    IncidentFactory,
    StudySessionFactory,
    UnitFactory,
    change,
    moment,
    stamp,
)
from units.models import Unit

pytestmark = pytest.mark.django_db

START = date(2024, 3, 25)
SUBMITTED, ACCEPTED, DRAFT, RETURNED = (
    ReviewStatus.SUBMITTED,
    ReviewStatus.ACCEPTED,
    ReviewStatus.DRAFT,
    ReviewStatus.RETURNED,
)
REPORT_MODELS = (StudySession, ImplementationPlan, BreakthroughTask, Incident, PropagandaActivity)


def snapshot(campaign: Campaign) -> dict:
    """Everything the engine derives, without the moments of the runs that wrote it."""
    flags = sorted(
        Flag.objects.filter(campaign=campaign).values_list(
            "unit_id",
            "kind",
            "subject",
            "opened_on",
            "closed_on",
            "escalated_to_committee_on",
            "escalated_to_standing_on",
        )
    )
    status_fields = [
        f.attname
        for f in UnitStatus._meta.concrete_fields
        if f.attname not in ("id", "refreshed_at")
    ]
    rollup_fields = [f.attname for f in StatusRollup._meta.concrete_fields if f.attname != "id"]
    sums = [
        name for name in rollup_fields if name not in ("campaign_id", "level", "anchor", "kind")
    ]
    rollups = sorted(
        row
        for row in StatusRollup.objects.filter(campaign=campaign).values_list(*rollup_fields)
        # A row a difference brought to zero and a row never written say the same.
        if any(row[rollup_fields.index(name)] for name in sums)
    )
    days = sorted(
        CompletionRollup.objects.filter(campaign=campaign)
        .exclude(units=0)
        .values_list("anchor", "completed_on", "units")
    )
    return {
        "flags": flags,
        "status": sorted(UnitStatus.objects.filter(campaign=campaign).values_list(*status_fields)),
        "rollups": rollups,
        "days": days,
    }


unit_index = st.integers(0, 5)
step = st.one_of(
    st.tuples(st.just("days"), st.sampled_from([1, 2, 6, 13, 33])),
    st.tuples(
        st.just("session"),
        unit_index,
        st.sampled_from([0, 5, 40]),
        st.sampled_from([SUBMITTED, ACCEPTED, DRAFT]),
    ),
    st.tuples(st.just("plan"), unit_index, st.sampled_from([SUBMITTED, ACCEPTED, DRAFT])),
    st.tuples(st.just("task"), unit_index, st.sampled_from([SUBMITTED, ACCEPTED])),
    st.tuples(st.just("incident"), unit_index, st.sampled_from([0, 4, 25]), st.booleans()),
    st.tuples(st.just("propaganda"), unit_index),
    st.tuples(st.just("review"), st.integers(0, 30), st.sampled_from([ACCEPTED, RETURNED])),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("members"), unit_index, st.sampled_from([1, 20, 80])),
    st.tuples(st.just("open_or_close"), unit_index),
    st.tuples(st.just("move"), unit_index),
    st.tuples(st.just("setting"), st.sampled_from([3, 10, 30])),
)  # fmt: skip


def _items() -> list:
    return [item for model in REPORT_MODELS for item in model.objects.order_by("pk")]


def _apply(action: tuple, *, day: date, units: list[Unit], campaign: Campaign) -> None:
    """One thing that happens on `day`, written as a person or the office would, but without
    the report services' own refresh of the unit: the engine must find it by itself."""
    name, *args = action
    unit = units[args[0]] if name not in ("days", "review", "delete", "setting") else None
    if name == "session":
        attendees, status = args[1], args[2]
        StudySessionFactory(
            campaign=campaign, unit=unit, held_on=day, attendees=attendees, status=status, at=day
        )
    elif name == "plan":
        ImplementationPlanFactory(campaign=campaign, unit=unit, status=args[1], at=day)
    elif name == "task":
        BreakthroughTaskFactory(campaign=campaign, unit=unit, status=args[1], at=day)
    elif name == "incident":
        opened_on = max(campaign.starts_on, day - timedelta(days=args[1]))
        incident = IncidentFactory(
            campaign=campaign, unit=unit, opened_on=opened_on, status=SUBMITTED, at=day
        )
        if args[2]:
            change(incident, day, resolved_on=day + timedelta(days=3))
    elif name == "propaganda":
        activity = PropagandaActivity.objects.create(
            campaign=campaign,
            unit=unit,
            held_on=day,
            channel=PropagandaActivity.Channel.choices[0][0],
            audience=30,
            status=SUBMITTED,
        )
        stamp(activity, day)
    elif name == "review":
        waiting = [item for item in _items() if item.status == SUBMITTED]
        if waiting:
            change(waiting[args[0] % len(waiting)], day, status=args[1])
    elif name == "delete":
        items = _items()
        if items:
            item = items[args[0] % len(items)]
            with time_machine.travel(moment(day, 11), tick=False):
                item.delete()
    elif name == "members":
        # Behind the app's back (an UPDATE, no signal): the engine compares with the status row.
        Unit.objects.filter(pk=unit.pk).update(member_count=args[1])
    elif name == "open_or_close":
        Unit.objects.filter(pk=unit.pk).update(is_active=not Unit.objects.get(pk=unit.pk).is_active)
    elif name == "move":
        # Under the other ward (a unit moved in the tree by an import or the admin).
        unit = Unit.objects.get(pk=unit.pk)
        wards = [ward for ward in units if ward.depth == 2]
        other = next(ward for ward in wards if not unit.path.startswith(ward.path))
        if unit.depth > 2 and unit.numchild == 0:
            unit.move(other, pos="last-child")
    elif name == "setting":
        Campaign.objects.filter(pk=campaign.pk).update(incident_age_limit_days=args[0])


@pytest.fixture
def story_campaign(district):
    UnitFactory(parent=district.ward, code="p-kim-lien-cb02", member_count=15)
    UnitFactory(parent=district.sibling_ward, code="p-van-mieu-cb03", member_count=25)
    return CampaignFactory(
        code="cd-story",
        propaganda_per_quarter=1,
        review_days=2,
        incident_age_limit_days=10,
        escalate_to_committee_days=7,
        escalate_to_standing_days=20,
    )


def _run(day: date, **kwargs):
    with time_machine.travel(moment(day, 23), tick=False):
        return deadline_engine_run(today=day, **kwargs)


def test_incremental_runs_leave_what_a_full_run_leaves(district, story_campaign):
    units = list(
        Unit.objects.filter(code__startswith="p-").order_by("path")
    )  # two wards and their cells

    @settings(
        max_examples=14,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=st.lists(step, min_size=2, max_size=9))
    def check(steps):
        # Each example from the same start, undone afterwards.
        with transaction.atomic():
            campaign = Campaign.objects.get(pk=story_campaign.pk)
            day = START
            _run(day)
            for action in steps:
                if action[0] == "days":
                    day += timedelta(days=action[1])
                else:
                    _apply(action, day=day, units=units, campaign=campaign)
                run = _run(day)
                incremental = snapshot(campaign)
                again = _run(day, full=True)
                assert snapshot(campaign) == incremental, (action, day, run.units_judged)
                assert (again.opened, again.closed) == (0, 0), (action, day)
            transaction.set_rollback(True)

    check()


def test_a_run_with_nothing_changed_writes_nothing(district, story_campaign):
    StudySessionFactory(campaign=story_campaign, unit=district.cell, attendees=3)
    day = date(2024, 5, 6)
    first = _run(day)
    assert first.full and first.units_judged == Unit.objects.count()
    with CaptureQueriesContext(connection) as queries:
        second = _run(day)
    assert (second.full, second.units_judged, second.opened, second.closed) == (False, 0, 0, 0)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    # The run's own record and the checkpoint; of the flags only the escalation's two UPDATEs,
    # which find nothing to raise; nothing of the status rows or the rollups.
    assert [sql for sql in writes if "unitstatus" in sql or "rollup" in sql] == []
    assert len([sql for sql in writes if "campaigns_flag" in sql]) == 2, writes
    assert all("escalated_to" in sql for sql in writes if "campaigns_flag" in sql)


def test_a_full_run_with_nothing_changed_writes_no_row(district, story_campaign):
    day = date(2024, 5, 6)
    _run(day)
    before = snapshot(story_campaign)
    with CaptureQueriesContext(connection) as queries:
        _run(day, full=True)
    assert snapshot(story_campaign) == before
    # The upserts find every row as it is: nothing written (rowcount is what the database says).
    assert UnitStatus.objects.filter(refreshed_at__gt=moment(day, 23)).count() == 0
    assert any("ON CONFLICT" in q["sql"] for q in queries.captured_queries)


def test_a_report_written_after_the_run_is_judged_by_the_next_one(district, story_campaign):
    day = date(2024, 5, 6)
    _run(day)
    assert Flag.objects.filter(unit=district.cell, kind="plan_missing", closed_at=None).exists()
    ImplementationPlanFactory(campaign=story_campaign, unit=district.cell, at=day)
    run = _run(day)
    assert (run.full, run.units_judged) == (False, 1)
    assert not Flag.objects.filter(unit=district.cell, kind="plan_missing", closed_at=None).exists()


def test_a_deadline_passing_or_a_setting_changed_rejudges_everyone(district, story_campaign):
    _run(date(2024, 4, 29))
    assert not _run(date(2024, 4, 29)).full
    assert _run(date(2024, 5, 1)).full  # the plan and task deadlines (30/04) passed
    assert not _run(date(2024, 5, 2)).full
    Campaign.objects.filter(pk=story_campaign.pk).update(review_days=5)
    assert _run(date(2024, 5, 2)).full
    checkpoint = EngineCheckpoint.objects.get(campaign=story_campaign)
    assert (checkpoint.judged_on, checkpoint.full_on) == (date(2024, 5, 2), date(2024, 5, 2))


def test_the_flag_overdue_command_runs_a_full_run_when_asked(district, story_campaign):
    from io import StringIO

    from django.core.management import call_command

    _run(date(2024, 5, 6))
    out = StringIO()
    with time_machine.travel(moment(date(2024, 5, 6), 23), tick=False):
        call_command("flag_overdue", "--today", "2024-05-06", "--full", stdout=out)
    assert "every unit" in out.getvalue()
