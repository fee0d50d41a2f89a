"""The rule registry: what each rule plugs into the machinery, and that plugging in a rule is
enough for the engine, the status rows and the unit page to follow it."""

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from campaigns.engine.flags import day_after, pairs
from campaigns.engine.run import deadline_engine_run
from campaigns.engine.status import StatusQuery
from campaigns.models import Flag, FlagKind, UnitStatus
from campaigns.registry import (
    ChecklistItem,
    FlagRule,
    Rule,
    child_kinds,
    flag_kinds_reading,
    kind_of,
    register_rule,
    report_kind,
    report_kinds,
    rules,
    unregister_rule,
)
from tests.factories import StudySessionFactory

RULES = ["R1", "R2", "R3", "R4", "R5", "R6", "review"]


def test_the_campaign_and_breakthroughs_declare_r1_to_r6_and_the_review_time():
    assert [rule.code for rule in rules()] == RULES
    assert list(report_kinds()) == [
        "sessions",
        "plans",
        "tasks",
        "reports",
        "initiatives",
        "incidents",
        "propaganda",
    ]
    flag_kinds = sorted(flag.kind for rule in rules() for flag in rule.flags)
    assert flag_kinds == sorted(FlagKind.values), "every flag kind has exactly one rule"


def test_a_progress_report_is_filed_under_its_task():
    reports = report_kind("reports")
    assert reports.parent == "tasks" and reports.campaign_lookup == "task__campaign"
    assert child_kinds(report_kind("tasks")) == [reports]
    assert child_kinds(report_kind("sessions")) == []


def test_an_item_re_judges_only_the_flags_its_kind_decides():
    # A report save re-judges these for its unit (campaigns.reporting.services), not every kind.
    review = FlagKind.REVIEW_OVERDUE  # every kind's items wait for review
    assert flag_kinds_reading({"sessions"}) == {
        FlagKind.STUDY_OVERDUE,
        FlagKind.STUDY_LATE,
        review,
    }
    assert flag_kinds_reading({"plans"}) == {FlagKind.PLAN_MISSING, review}
    assert flag_kinds_reading({"reports"}) == {FlagKind.REPORT_OVERDUE, review}
    # Deleting a task takes its progress reports along: what reads them counts too.
    assert flag_kinds_reading({"tasks"}) == {
        FlagKind.NO_BREAKTHROUGH,
        FlagKind.REPORT_OVERDUE,
        review,
    }
    assert flag_kinds_reading({"incidents"}) == {FlagKind.STALE_INCIDENT, review}
    assert flag_kinds_reading({"propaganda"}) == {FlagKind.PROPAGANDA_SHORT, review}
    assert flag_kinds_reading({"initiatives"}) == {review}


def test_kind_of_an_item_names_its_kind(district, campaign):
    assert kind_of(StudySessionFactory(campaign=campaign, unit=district.cell)).slug == "sessions"
    with pytest.raises(LookupError):
        kind_of(campaign)


def test_a_status_column_is_filled_by_one_rule_only(campaign):
    query = StatusQuery(campaign, None, date(2024, 4, 1))
    query.column("initiatives", "0")
    with pytest.raises(ImproperlyConfigured, match="two rules"):
        query.column("initiatives", "1")
    with pytest.raises(ImproperlyConfigured, match="no rule may fill"):
        query.column("path", "'x'")  # the engine's own column
    with pytest.raises(ImproperlyConfigured, match="no rule may fill"):
        query.column("no_such_column", "0")


@pytest.fixture
def extra_rule(district):
    """A rule of a test's own: flags the ward as "plan missing" from the first day."""

    def wanted(campaign, today, units):
        return [pairs(units.filter(pk=district.ward.pk), since=day_after(campaign.starts_on))]

    def checklist(facts):
        return ChecklistItem("R9", "Extra rule", "pending", "from a test", None)

    register_rule(Rule("R9", flags=(FlagRule(FlagKind.PLAN_MISSING, wanted),), checklist=checklist))
    yield
    unregister_rule("R9")


def test_a_registered_rule_reaches_the_engine_the_status_rows_and_the_unit_page(
    client, staff, district, campaign, extra_rule
):
    deadline_engine_run(today=date(2024, 3, 1))  # before R2's own deadline
    flag = Flag.objects.get(kind=FlagKind.PLAN_MISSING, closed_at__isnull=True)
    assert flag.unit == district.ward
    assert UnitStatus.objects.get(unit=district.ward).flag_plan_missing
    client.force_login(staff)
    page = client.get(f"/en/units/{district.ward.code}/").text
    assert 'data-rule="R9"' in page and "from a test" in page


def test_taking_the_rule_out_closes_its_flags(district, campaign, extra_rule):
    deadline_engine_run(today=date(2024, 3, 1))
    unregister_rule("R9")
    deadline_engine_run(today=date(2024, 3, 2))
    assert not Flag.objects.filter(closed_at__isnull=True).exists()
    assert [rule.code for rule in rules()] == RULES
