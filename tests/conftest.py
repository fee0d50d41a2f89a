"""Shared fixtures: a small district and the fixed cast of STYLE.md."""

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from units.models import Role, Unit, UnitKind, User

from .factories import CampaignFactory, UnitFactory, UserFactory, assign
from .processes import runner

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, what: str) -> None:
    """Skip a test whose outside part is missing, except in CI, where a skip would hide a gap."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not available here")


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues(django_db_blocker):
    from dongda.i18n import compile_catalogues

    # Parallel workers (pytest-xdist) share the checkout: one compiles, the others then find the
    # catalogues up to date instead of rewriting a file another worker may be reading.
    lock_path = Path(tempfile.gettempdir()) / f"dongda-catalogues-{os.getuid()}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        compile_catalogues()


@pytest.fixture(autouse=True)
def private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "evidence"},
        },
    }


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language. A request to /en/… leaves English active in
    the test's thread, and reverse() in the next test would then build English URLs."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_axes_lockouts_between_tests(settings):
    settings.AXES_ENABLED = True


@dataclass
class District:
    root: Unit
    ward: Unit
    cell: Unit
    sibling_ward: Unit
    sibling_cell: Unit


@pytest.fixture
def district(db) -> District:
    root = UnitFactory(
        code="dongda",
        name_vi="Quận ủy Đống Đa",
        name_en="Dong Da District Party Committee",
        kind=UnitKind.DISTRICT,
        member_count=0,
    )
    ward = UnitFactory(
        parent=root,
        code="p-kim-lien",
        name_vi="Đảng bộ phường Kim Liên",
        name_en="Kim Lien Ward Party Committee",
        kind=UnitKind.WARD_COMMITTEE,
        member_count=12,
    )
    cell = UnitFactory(
        parent=ward,
        code="p-kim-lien-cb01",
        name_vi="Chi bộ Tổ dân phố số 1",
        name_en="Residential Group No. 1 Party Cell",
        member_count=40,
    )
    sibling = UnitFactory(
        parent=root,
        code="p-van-mieu",
        name_vi="Đảng bộ phường Văn Miếu",
        name_en="Van Mieu Ward Party Committee",
        kind=UnitKind.WARD_COMMITTEE,
        member_count=10,
    )
    sibling_cell = UnitFactory(
        parent=sibling,
        code="p-van-mieu-cb01",
        name_vi="Chi bộ Khu dân cư số 2",
        name_en="Residential Area No. 2 Party Cell",
        member_count=30,
    )
    return District(
        root=Unit.objects.get(pk=root.pk),
        ward=Unit.objects.get(pk=ward.pk),
        cell=Unit.objects.get(pk=cell.pk),
        sibling_ward=Unit.objects.get(pk=sibling.pk),
        sibling_cell=Unit.objects.get(pk=sibling_cell.pk),
    )


@pytest.fixture
def campaign(db):
    return CampaignFactory(code="cd2024")


@pytest.fixture
def staff(district) -> User:
    return assign(
        UserFactory(username="vanphong", is_staff=True), district.root, Role.DISTRICT_STAFF
    )


@pytest.fixture
def staff_en(district) -> User:
    return assign(
        UserFactory(username="staff-en", language="en"), district.root, Role.DISTRICT_STAFF
    )


@pytest.fixture
def standing(district) -> User:
    return assign(UserFactory(username="thuongtruc"), district.root, Role.STANDING_COMMITTEE)


@pytest.fixture
def ward_secretary(district) -> User:
    return assign(UserFactory(username="bt-p-kim-lien"), district.ward)


@pytest.fixture
def cell_secretary(district) -> User:
    return assign(UserFactory(username="bt-p-kim-lien-cb01"), district.cell)


@pytest.fixture
def sibling_secretary(district) -> User:
    return assign(UserFactory(username="bt-p-van-mieu"), district.sibling_ward)


@pytest.fixture
def artifacts_dir():
    """Where tests leave screenshots and files for a person to look at."""
    path = settings.BASE_DIR / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def redis_answers(url: str | None) -> bool:
    if not url:
        return False
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def run(tmp_path):
    """Runs Python in a fresh process from the project folder, with only the given settings
    variables set (plus a scratch VAR_DIR and database, so nothing in the checkout is written)."""
    return runner(tmp_path)
