"""seed_demo builds the real Đống Đa district with a believable spread, the same way every time."""

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone

from campaigns.demo.seed import replay_flags
from campaigns.engine.flags import flags_sync
from campaigns.engine.study import study_summary
from campaigns.models import Campaign, Flag, FlagKind, StudySession
from units.models import Assignment, Role, Unit, UnitKind, User

pytestmark = pytest.mark.django_db

WARDS_2024 = {
    "Cát Linh", "Hàng Bột", "Khâm Thiên", "Khương Thượng", "Kim Liên", "Láng Hạ", "Láng Thượng",
    "Nam Đồng", "Ngã Tư Sở", "Ô Chợ Dừa", "Phương Liên", "Phương Mai", "Quang Trung",
    "Quốc Tử Giám", "Thịnh Quang", "Thổ Quan", "Trung Liệt", "Trung Phụng", "Trung Tự",
    "Văn Chương", "Văn Miếu",
}  # fmt: skip


def seed(*args: str, replay: bool = False) -> str:
    """The district without the day-by-day replay of its flags (half a minute on its own),
    unless a test is about it."""
    out = StringIO()
    call_command("seed_demo", *args, *([] if replay else ["--no-replay"]), stdout=out)
    return out.getvalue()


def fingerprint() -> list[tuple]:
    units = list(
        Unit.objects.order_by("path").values_list("path", "code", "name_vi", "member_count")
    )
    sessions = list(
        StudySession.objects.order_by("unit__code", "held_on", "attendees").values_list(
            "unit__code", "held_on", "attendees", "members_expected", "status"
        )
    )
    return units + sessions


def test_the_real_district_has_its_21_wards_and_bodies():
    output = seed()
    root = Unit.objects.get(depth=1)
    assert root.name_vi == "Quận ủy Đống Đa"
    wards = Unit.objects.filter(kind=UnitKind.WARD_COMMITTEE)
    assert {w.name_vi.removeprefix("Đảng bộ phường ") for w in wards} == WARDS_2024
    assert all(w.depth == 2 for w in wards)
    assert Unit.objects.filter(kind=UnitKind.FATHERLAND_FRONT).count() == 1
    assert Unit.objects.filter(kind=UnitKind.SOCIO_POLITICAL).count() == 4
    assert Unit.objects.filter(kind=UnitKind.PARTY_CELL, depth=3).count() > 100
    assert not any(Unit.objects.find_problems())
    assert "vanphong" in output


def test_the_2024_campaign_carries_the_real_title_and_dates():
    seed()
    campaign = Campaign.objects.get(code="cd2024")
    assert campaign.short_title_vi == "Chuyên đề năm 2024"
    assert campaign.title_vi.startswith(
        "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh"
    )
    assert campaign.study_deadline.isoformat() == "2024-03-31"
    assert campaign.title_en


def test_every_unit_has_a_secretary_and_the_demo_logins_work():
    seed("--password", "mật-khẩu-demo")
    assert not Unit.objects.exclude(depth=1).exclude(assignments__role=Role.SECRETARY).exists()
    request = RequestFactory().post("/vi/accounts/login/")
    for username in ("vanphong", "thuongtruc", "staff-en", "bt-p-cat-linh"):
        assert authenticate(request, username=username, password="mật-khẩu-demo"), username
    assert Assignment.objects.get(user__username="thuongtruc").role == Role.STANDING_COMMITTEE
    assert User.objects.get(username="staff-en").language == "en"


def test_progress_is_a_believable_spread():
    seed()
    summary = study_summary(campaign=Campaign.objects.get(), within=Unit.objects.all())
    assert summary.total > 200
    assert summary.on_time / summary.total > 0.5
    assert summary.late > 0 and summary.in_progress > 0 and summary.not_started > 0
    assert StudySession.objects.filter(status="returned").exclude(review_comment="").exists()


def test_same_seed_same_data():
    seed("--units", "400")
    first = fingerprint()
    seed("--units", "400", "--reset")
    assert fingerprint() == first
    seed("--units", "400", "--reset", "--seed", "7")
    assert fingerprint() != first


def test_units_option_grows_an_exact_synthetic_tree():
    seed("--units", "1500")
    assert Unit.objects.count() == 1500
    assert User.objects.filter(username__startswith="bt-").count() == 1499
    assert not any(Unit.objects.find_problems())


def test_a_second_seed_refuses_to_touch_existing_data():
    seed()
    with pytest.raises(CommandError, match="--reset"):
        seed()


def test_the_demo_flags_are_replayed_day_by_day_with_the_days_the_rules_say():
    seed("--units", "60", replay=True)
    campaign = Campaign.objects.get()
    overdue = Flag.objects.filter(kind=FlagKind.STUDY_OVERDUE)
    assert overdue.exists()
    # The study deadline, Sunday 31/03/2024, falls on Monday 01/04 (the demo campaign moves
    # deadlines off days off): the flags begin the day after.
    assert campaign.deadlines_on_working_days
    assert set(overdue.values_list("opened_on", flat=True)) == {date(2024, 4, 2)}
    # The replay leaves history: flags that opened and closed during 2024.
    assert Flag.objects.filter(closed_on__year=2024).exclude(kind=FlagKind.STUDY_LATE).exists()
    # And a live run today finds nothing to change.
    assert flags_sync(campaign=campaign, today=timezone.localdate()) == (0, 0)


def test_replaying_only_the_units_that_changed_gives_the_flags_of_replaying_every_unit():
    """The demo's replay re-judges, each day, only the units with a change that day or the next
    (`replay_flags`); re-judging every unit every day must leave the very same flag table."""
    seed("--units", "40")
    campaign = Campaign.objects.get()

    def table() -> list[tuple]:
        rows = Flag.objects.values_list("unit_id", "kind", "subject", "opened_on", "closed_on")
        return sorted(rows, key=lambda row: tuple(str(value) for value in row))

    Flag.objects.all().delete()
    replay_flags(campaign, until=date(2024, 5, 20), every_unit=True)
    every_unit = table()
    Flag.objects.all().delete()
    replay_flags(campaign, until=date(2024, 5, 20))
    assert table() == every_unit
    assert any(row[4] is not None for row in every_unit)  # closed flags were compared too
