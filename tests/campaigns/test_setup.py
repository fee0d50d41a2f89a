"""Setting up a new year's campaign (campaigns.setup): a copy takes every setting and rule of its
source, moves its dates by whole years unless typed, copies nothing of the reports and takes its
own member counts; bad input is refused in the person's language and writes nothing."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db.models import DateField, DateTimeField
from django.utils import translation

from breakthroughs.models import BreakthroughTask, ProgressReport
from campaigns.models import (
    Campaign,
    CampaignMembers,
    Flag,
    FlagKind,
    ImplementationPlan,
    StudySession,
    UnitStatus,
)
from campaigns.registry import report_kinds
from campaigns.setup import (
    campaign_copy,
    campaign_members_refresh,
    move_by_years,
    moved_dates,
    take_member_counts,
)
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    ImplementationPlanFactory,
    ProgressReportFactory,
    StudySessionFactory,
)
from units.models import Unit

# What a copy is told rather than taken from its source.
NAMED = {"id", "code", "year", "is_active", "members_taken_at", "members_taken_by"}


@pytest.fixture
def source(db):
    """The 2024 campaign with every setting away from its default."""
    return CampaignFactory(
        code="cd2024",
        year=2024,
        starts_on=date(2024, 2, 29),
        ends_on=date(2024, 12, 31),
        study_deadline=date(2024, 3, 31),
        plan_deadline=date(2024, 4, 30),
        breakthrough_deadline=date(2024, 5, 15),
        required_study_share=90,
        report_frequency=Campaign.ReportFrequency.MONTHLY,
        report_grace_days=7,
        incident_age_limit_days=21,
        review_days=3,
        propaganda_per_quarter=2,
        reminder_days=[10, 3, 1],
        linked_programme_vi="Chương trình số 01-CTr/QU",
        linked_programme_en="Programme No. 01-CTr/QU",
    )


def copy_2025(source, **overrides):
    kwargs = {
        "source": source,
        "code": "cd2025",
        "year": 2025,
        "title_vi": "Chuyên đề năm 2025: Học tập và làm theo",
        "title_en": "The 2025 thematic study",
        "short_title_vi": "Chuyên đề năm 2025",
        "short_title_en": "2025 thematic study",
        "by": None,
    } | overrides
    return campaign_copy(**kwargs)


def is_title(name: str) -> bool:
    return name.split("_")[0] == "title" or name.startswith("short_title")


def test_a_copy_takes_every_setting_and_rule_and_is_named_as_typed(source):
    copied = copy_2025(source)
    copied.refresh_from_db()
    compared = 0
    for field in Campaign._meta.concrete_fields:
        is_date = isinstance(field, DateField) and not isinstance(field, DateTimeField)
        if field.name in NAMED or is_title(field.name) or is_date:
            continue
        assert getattr(copied, field.attname) == getattr(source, field.attname), field.name
        compared += 1
    # The settings above, the linked programme in both languages and the column behind it.
    assert compared >= 11
    assert copied.linked_programme_en == "Programme No. 01-CTr/QU"
    assert (copied.code, copied.year, copied.is_active) == ("cd2025", 2025, True)
    assert (copied.title_vi, copied.short_title_en) == (
        "Chuyên đề năm 2025: Học tập và làm theo",
        "2025 thematic study",
    )
    with translation.override("vi"):
        assert str(copied) == "Chuyên đề năm 2025"
    # The source is untouched.
    source.refresh_from_db()
    assert (source.code, source.short_title_vi) == ("cd2024", "Chuyên đề năm 2024")


def test_a_copy_moves_every_date_by_a_year_and_29_february_to_28(source):
    copied = copy_2025(source)
    assert (copied.starts_on, copied.ends_on) == (date(2025, 2, 28), date(2025, 12, 31))
    assert copied.study_deadline == date(2025, 3, 31)
    assert copied.plan_deadline == date(2025, 4, 30)
    assert copied.breakthrough_deadline == date(2025, 5, 15)


def test_a_copy_moves_by_whole_years_so_a_leap_day_comes_back_in_a_leap_year(source):
    assert move_by_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert move_by_years(date(2024, 2, 29), 2) == date(2026, 2, 28)
    assert moved_dates(source, 2028)["starts_on"] == date(2028, 2, 29)
    copied = copy_2025(source, code="cd2028", year=2028)
    assert copied.starts_on == date(2028, 2, 29)


def test_typed_dates_are_kept_and_the_others_moved(source):
    copied = copy_2025(
        source,
        dates={"starts_on": date(2025, 3, 3), "study_deadline": date(2025, 4, 15), "ends_on": None},
    )
    assert (copied.starts_on, copied.study_deadline) == (date(2025, 3, 3), date(2025, 4, 15))
    assert copied.ends_on == date(2025, 12, 31)  # None: moved
    assert copied.plan_deadline == date(2025, 4, 30)


def test_a_copy_takes_none_of_the_reports(source, district, staff):
    StudySessionFactory(campaign=source, unit=district.cell)
    ImplementationPlanFactory(campaign=source, unit=district.cell)
    task = BreakthroughTaskFactory(campaign=source, unit=district.cell)
    ProgressReportFactory(task=task)
    Flag.objects.create(
        campaign=source, unit=district.ward, kind=FlagKind.PLAN_MISSING, opened_on=date(2024, 5, 1)
    )
    copied = copy_2025(source, by=staff)
    for kind in report_kinds().values():
        assert not kind.of_campaign(copied).exists(), kind.slug
    assert not Flag.objects.filter(campaign=copied).exists()
    assert not UnitStatus.objects.filter(campaign=copied).exists()
    assert StudySession.objects.count() == ImplementationPlan.objects.count() == 1
    assert BreakthroughTask.objects.count() == ProgressReport.objects.count() == 1


def test_a_copy_takes_its_own_member_counts_now(source, district, staff):
    take_member_counts(source, by=None)
    Unit.objects.filter(pk=district.cell.pk).update(member_count=55)
    copied = copy_2025(source, by=staff)
    counts = dict(
        CampaignMembers.objects.filter(campaign=copied).values_list("unit__code", "member_count")
    )
    assert counts == dict(Unit.objects.values_list("code", "member_count"))
    assert counts["p-kim-lien-cb01"] == 55
    assert CampaignMembers.objects.get(campaign=source, unit=district.cell).member_count == 40
    copied.refresh_from_db()
    assert copied.members_taken_by == staff
    assert copied.members_taken_at is not None


# Bad input: refused, in the person's language, and nothing written


def refused(source, language: str, **overrides) -> dict[str, list[str]]:
    before = (Campaign.objects.count(), CampaignMembers.objects.count())
    with translation.override(language), pytest.raises(ValidationError) as caught:
        copy_2025(source, **overrides)
    assert (Campaign.objects.count(), CampaignMembers.objects.count()) == before
    return caught.value.message_dict


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", "Mã “cd2024” đã được dùng cho một chuyên đề khác."),
        ("en", "The code “cd2024” is already used by another campaign."),
    ],
)
def test_a_code_already_used_is_refused_naming_it(source, district, language, expected):
    take_member_counts(source, by=None)
    errors = refused(source, language, code="cd2024")
    assert errors["code"] == [expected]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", "Chuyên đề không thể kết thúc trước ngày bắt đầu (01/06/2025)."),
        ("en", "The campaign cannot end before it starts (01/06/2025)."),
    ],
)
def test_dates_out_of_order_are_refused(source, district, language, expected):
    errors = refused(
        source, language, dates={"starts_on": date(2025, 6, 1), "ends_on": date(2025, 5, 31)}
    )
    assert errors["ends_on"] == [expected]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", "Hạn phải nằm trong thời gian của chuyên đề, từ 28/02/2025 đến 31/12/2025."),
        ("en", "The deadline must fall within the campaign, from 28/02/2025 to 31/12/2025."),
    ],
)
def test_a_deadline_outside_the_campaign_is_refused(source, district, language, expected):
    errors = refused(
        source,
        language,
        dates={"plan_deadline": date(2026, 1, 15), "breakthrough_deadline": date(2025, 2, 1)},
    )
    assert errors["plan_deadline"] == [expected]
    assert errors["breakthrough_deadline"] == [expected]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("vi", "Ngày bắt đầu phải thuộc năm 2025, năm của chuyên đề."),
        ("en", "The campaign must start in its own year, 2025."),
    ],
)
def test_a_start_outside_the_campaigns_year_is_refused(source, district, language, expected):
    errors = refused(source, language, dates={"starts_on": date(2024, 12, 1)})
    assert errors["starts_on"] == [expected]


def test_a_copy_over_the_days_of_another_active_campaign_is_refused(source, district):
    errors = refused(source, "vi", year=2024, code="cd2024b")
    assert errors["starts_on"] == [
        "Thời gian này trùng với “Chuyên đề năm 2024” (29/02/2024 đến 31/12/2024), cũng đang "
        "hoạt động; mỗi lúc chỉ một chuyên đề được hoạt động. Hãy đổi ngày hoặc cho một trong "
        "hai chuyên đề ngừng hoạt động."
    ]
    # An inactive campaign on those days is no obstacle.
    Campaign.objects.filter(pk=source.pk).update(is_active=False)
    assert copy_2025(source, year=2024, code="cd2024b").starts_on == date(2024, 2, 29)


def test_every_problem_is_named_at_once(source, district):
    errors = refused(
        source,
        "en",
        code="cd2024",
        title_vi="  ",
        dates={"study_deadline": date(2026, 1, 1)},
    )
    assert set(errors) >= {"code", "title_vi", "study_deadline"}


# The member counts a campaign is judged on


def test_taking_member_counts_copies_every_units_count_and_says_who_and_when(
    source, district, staff
):
    assert take_member_counts(source, by=staff) == Unit.objects.count() == 5
    assert dict(
        CampaignMembers.objects.filter(campaign=source).values_list("unit_id", "member_count")
    ) == dict(Unit.objects.values_list("pk", "member_count"))
    source.refresh_from_db()
    assert source.members_taken_by == staff


def test_taking_them_again_replaces_them_and_leaves_other_campaigns_alone(
    source, district, staff, django_assert_max_num_queries
):
    other = copy_2025(source)
    take_member_counts(source, by=None)
    Unit.objects.filter(pk=district.ward.pk).update(member_count=99)
    # The counts, and the figures that follow from them (flags, status rows): a fixed number of
    # statements however many units.
    with django_assert_max_num_queries(40):
        assert campaign_members_refresh(campaign=source, by=staff) == 5
    assert CampaignMembers.objects.filter(campaign=source).count() == 5
    assert CampaignMembers.objects.get(campaign=source, unit=district.ward).member_count == 99
    assert CampaignMembers.objects.get(campaign=other, unit=district.ward).member_count == 12
    # The campaign's status rows follow at once (the signal), with the new count.
    assert UnitStatus.objects.get(campaign=source, unit=district.ward).members == 99
    assert not UnitStatus.objects.filter(campaign=other).exists()
