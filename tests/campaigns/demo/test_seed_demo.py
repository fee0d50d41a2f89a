"""seed_demo builds the real Đống Đa district with a believable spread, the same way every time."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from campaigns.engine.study import study_summary
from campaigns.models import Campaign, StudySession
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
