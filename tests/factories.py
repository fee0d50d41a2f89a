from datetime import date

import factory
from django.contrib.auth.hashers import make_password

from breakthroughs.models import BreakthroughTask, Field, ProgressReport
from campaigns.models import Campaign, Incident, ReviewStatus, StudySession
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


class StudySessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudySession

    held_on = date(2024, 3, 15)
    presenter = "Đồng chí Nguyễn Văn An"
    members_expected = factory.LazyAttribute(lambda o: o.unit.member_count or 1)
    attendees = factory.LazyAttribute(lambda o: o.members_expected)
    status = ReviewStatus.ACCEPTED


class BreakthroughTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BreakthroughTask

    field = Field.ECONOMY
    title_vi = "Chỉnh trang vỉa hè tuyến phố"
    due_on = date(2024, 12, 31)
    status = ReviewStatus.ACCEPTED


class ProgressReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressReport

    period_start = date(2024, 4, 1)
    percent = 30
    narrative_vi = "Đã hoàn thành khảo sát"
    unit = factory.LazyAttribute(lambda o: o.task.unit)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    title_vi = "Lấn chiếm vỉa hè"
    opened_on = date(2024, 5, 1)
    owner = "Tổ dân phố số 3"
