from datetime import date, datetime, time, timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from breakthroughs.models import BreakthroughTask, Field, ProgressReport
from campaigns.models import Campaign, ImplementationPlan, Incident, ReviewStatus, StudySession
from campaigns.periods import review_overdue_from
from units.models import Assignment, Role, Unit, UnitKind, User

TEST_PASSWORD = "mật-khẩu-thử-2024"
# Hash once: PBKDF2 per user would dominate the test run.
_PASSWORD_HASH = make_password(TEST_PASSWORD)


class UnitFactory(factory.django.DjangoModelFactory):
    """Builds a unit in the tree: pass `parent=` for a child, nothing for a root."""

    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"u{n:05d}")
    name_vi = factory.Sequence(lambda n: f"Chi bộ số {n}")
    name_en = factory.Sequence(lambda n: f"Party Cell No. {n}")
    kind = UnitKind.PARTY_CELL
    member_count = 40

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        kwargs.setdefault("name", kwargs.get("name_vi"))
        if parent is None:
            return model_class.objects.add_root(instance=model_class(**kwargs))
        parent.refresh_from_db()
        return model_class.objects.add_child(parent, instance=model_class(**kwargs))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = _PASSWORD_HASH
    language = "vi"


def assign(user: User, unit: Unit, role: str = Role.SECRETARY) -> User:
    Assignment.objects.create(user=user, unit=unit, role=role)
    return user


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    code = factory.Sequence(lambda n: f"cd{2024 + n}")
    year = 2024
    title_vi = "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh"
    title_en = "Studying and following Ho Chi Minh's thought, morality and style"
    short_title_vi = "Chuyên đề năm 2024"
    short_title_en = "2024 thematic study"
    starts_on = date(2024, 2, 29)
    ends_on = date(2024, 12, 31)
    study_deadline = date(2024, 3, 31)
    required_study_share = 95
    plan_deadline = date(2024, 4, 30)
    breakthrough_deadline = date(2024, 4, 30)
    # R6 is optional here, so that each rule's tests see only their own flags; the tests of R6
    # set how many activities a quarter they expect.
    propaganda_per_quarter = 0
    # Deadlines stay on the days set (31/03/2024 is a Sunday, 30/04 a holiday), so that the
    # rules' tests keep their plain calendar edges; test_working_days.py turns it on.
    deadlines_on_working_days = False


def moment(day: date | datetime, hour: int = 9) -> datetime:
    """A day as an aware moment in the deployment's time zone (9:00 unless told)."""
    if isinstance(day, datetime):
        return day
    return timezone.make_aware(datetime.combine(day, time(hour)))


def stamp(item, at: date | datetime, *, reviewed: date | datetime | None = None):
    """Makes `item` look written when the story says: created (and, unless it is a draft,
    submitted) at `at`, reviewed at `reviewed` (an hour later by default) if accepted or
    returned, and its history row dated so. Every figure "as of a day" reads the history
    (`campaigns.engine.asof`): an item created by a test "now" (in 2026) would not exist as of
    a day in 2024."""
    at = moment(at)
    model = type(item)
    fields = {"created_at": at}
    if item.status != ReviewStatus.DRAFT:
        fields["submitted_at"] = item.submitted_at or at
        campaign = getattr(item, "campaign", None) or item.task.campaign
        fields["review_overdue_from"] = review_overdue_from(
            fields["submitted_at"], campaign.review_days
        )
    if item.status in (ReviewStatus.ACCEPTED, ReviewStatus.RETURNED):
        fields["reviewed_at"] = item.reviewed_at or (
            moment(reviewed) if reviewed else at + timedelta(hours=1)
        )
    model.objects.filter(pk=item.pk).update(**fields)
    # The item's one history row, written by save(), carries the same fields and moment.
    model.history.filter(id=item.pk).update(history_date=fields.get("reviewed_at", at), **fields)
    item.refresh_from_db()
    return item


class ReportFactory(factory.django.DjangoModelFactory):
    """A report written, submitted and reviewed on its own day (`at`, default: the day the
    report is about), so that it counts as of that day and after."""

    class Meta:
        abstract = True

    at = None
    reviewed = None

    @classmethod
    def _create(cls, model_class, *args, at=None, reviewed=None, **kwargs):
        item = super()._create(model_class, *args, **kwargs)
        return stamp(item, at or cls.natural_day(item), reviewed=reviewed)

    @staticmethod
    def natural_day(item) -> date:
        raise NotImplementedError


class StudySessionFactory(ReportFactory):
    class Meta:
        model = StudySession

    @staticmethod
    def natural_day(item) -> date:
        return item.held_on

    held_on = date(2024, 3, 15)
    presenter = "Đồng chí Nguyễn Văn An"
    members_expected = factory.LazyAttribute(lambda o: o.unit.member_count or 1)
    attendees = factory.LazyAttribute(lambda o: o.members_expected)
    status = ReviewStatus.ACCEPTED


class ImplementationPlanFactory(ReportFactory):
    class Meta:
        model = ImplementationPlan

    number = "01-KH/ĐU"
    issued_on = date(2024, 3, 20)
    programme = "Chương trình số 01"
    status = ReviewStatus.ACCEPTED

    @staticmethod
    def natural_day(item) -> date:
        return item.issued_on


class BreakthroughTaskFactory(ReportFactory):
    class Meta:
        model = BreakthroughTask

    @staticmethod
    def natural_day(item) -> date:
        """Chosen in the first week of April, before the selection deadline."""
        return date(item.campaign.year, 4, 1)

    field = Field.ECONOMY
    title_vi = "Chỉnh trang vỉa hè tuyến phố"
    due_on = date(2024, 12, 31)
    status = ReviewStatus.ACCEPTED


class ProgressReportFactory(ReportFactory):
    class Meta:
        model = ProgressReport

    @staticmethod
    def natural_day(item) -> date:
        """Sent in the last days of its period's first month: on time for any period."""
        return item.period_start + timedelta(days=27)

    period_start = date(2024, 4, 1)
    percent = 30
    narrative_vi = "Đã hoàn thành khảo sát"
    unit = factory.LazyAttribute(lambda o: o.task.unit)


class IncidentFactory(ReportFactory):
    class Meta:
        model = Incident

    @staticmethod
    def natural_day(item) -> date:
        return item.opened_on

    title_vi = "Lấn chiếm vỉa hè"
    opened_on = date(2024, 5, 1)
    owner = "Tổ dân phố số 3"


def change(item, on: date | datetime, **fields):
    """Changes a report as a person would on day `on` (10:00 unless a moment is given): the
    save leaves its history row dated then, so a replay as of an earlier day does not see it.
    Accepting or returning stamps the review; submitting stamps the submission."""
    import time_machine

    when = moment(on, 10)
    for name, value in fields.items():
        setattr(item, name, value)
    status = fields.get("status")
    if status == ReviewStatus.SUBMITTED:
        item.submitted_at = when
        campaign = getattr(item, "campaign", None) or item.task.campaign
        item.review_overdue_from = review_overdue_from(when, campaign.review_days)
    elif status in (ReviewStatus.ACCEPTED, ReviewStatus.RETURNED):
        item.reviewed_at = when
    with time_machine.travel(when, tick=False):
        item.save()
    return item
