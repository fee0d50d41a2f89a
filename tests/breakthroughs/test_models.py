"""Invariants of breakthrough tasks and their progress reports that the database must hold."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from breakthroughs.models import ProgressReport
from tests.factories import BreakthroughTaskFactory, ProgressReportFactory


@pytest.fixture
def task(district, campaign):
    return BreakthroughTaskFactory(campaign=campaign, unit=district.ward)


def test_progress_report_of_100_percent_is_allowed(task):
    report = ProgressReportFactory(task=task, percent=100)
    assert ProgressReport.objects.get(pk=report.pk).percent == 100


def test_progress_report_of_0_percent_is_allowed(task):
    ProgressReportFactory(task=task, percent=0)
    assert ProgressReport.objects.filter(task=task, percent=0).exists()


def test_progress_report_above_100_percent_is_refused(task):
    with pytest.raises(IntegrityError, match="report_percent_0_100"), transaction.atomic():
        ProgressReportFactory(task=task, percent=101)
    assert not ProgressReport.objects.exists()


def test_negative_progress_report_is_refused(task):
    # Refused either by the positive-field check or by report_percent_0_100, whichever comes first.
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressReportFactory(task=task, percent=-1)
    assert not ProgressReport.objects.exists()


def test_second_report_for_the_same_task_and_period_is_refused(task):
    ProgressReportFactory(task=task, period_start=date(2024, 4, 1), percent=20)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressReportFactory(task=task, period_start=date(2024, 4, 1), percent=40)
    assert list(ProgressReport.objects.values_list("percent", flat=True)) == [20]


def test_reports_for_two_periods_of_the_same_task_are_allowed(task):
    ProgressReportFactory(task=task, period_start=date(2024, 4, 1), percent=20)
    ProgressReportFactory(task=task, period_start=date(2024, 7, 1), percent=45)
    assert ProgressReport.objects.filter(task=task).count() == 2


def test_two_tasks_may_report_on_the_same_period(task, district, campaign):
    other = BreakthroughTaskFactory(campaign=campaign, unit=district.ward, title_vi="Khác")
    ProgressReportFactory(task=task, period_start=date(2024, 4, 1))
    ProgressReportFactory(task=other, period_start=date(2024, 4, 1))
    assert ProgressReport.objects.filter(period_start=date(2024, 4, 1)).count() == 2
