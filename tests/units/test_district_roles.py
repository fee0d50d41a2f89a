"""District roles only on the district (issue 11, part 4): a district office or Standing Committee
role is held on the root unit only. `Assignment.clean` tells a person, in their language; the
database refuses it from any other path (triggers, migration units/0004), and refuses moving a
unit that holds such a role off the root. Runs on whichever database DATABASE_URL names
(SQLite by default, PostgreSQL in CI)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from tests.factories import UnitFactory, UserFactory
from units.models import Assignment, Role, Unit, UnitKind

DISTRICT_ROLES = [Role.DISTRICT_STAFF, Role.STANDING_COMMITTEE]


@pytest.mark.parametrize("role", DISTRICT_ROLES)
def test_the_database_refuses_a_district_role_below_the_root(district, role):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(user=UserFactory(), unit=district.ward, role=role)
    assert not Assignment.objects.filter(role=role).exists()


@pytest.mark.parametrize("role", DISTRICT_ROLES)
def test_the_database_accepts_a_district_role_on_the_root(district, role):
    Assignment.objects.create(user=UserFactory(), unit=district.root, role=role)
    assert Assignment.objects.filter(role=role, unit=district.root).count() == 1


def test_the_database_refuses_moving_a_district_role_to_a_unit_below(district):
    assignment = Assignment.objects.create(
        user=UserFactory(), unit=district.root, role=Role.DISTRICT_STAFF
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.filter(pk=assignment.pk).update(unit=district.cell)
    assert Assignment.objects.get(pk=assignment.pk).unit == district.root


def test_the_database_refuses_turning_a_secretary_below_into_a_district_role(district):
    assignment = Assignment.objects.create(
        user=UserFactory(), unit=district.ward, role=Role.SECRETARY
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.filter(pk=assignment.pk).update(role=Role.STANDING_COMMITTEE)
    assert Assignment.objects.get(pk=assignment.pk).role == Role.SECRETARY


def test_unit_roles_may_be_held_anywhere(district):
    for unit in (district.root, district.ward, district.cell):
        Assignment.objects.create(user=UserFactory(), unit=unit, role=Role.CLERK)
    assert Assignment.objects.filter(role=Role.CLERK).count() == 3


def test_a_root_holding_a_district_role_cannot_be_moved_under_another_unit(district):
    """treebeard lets a root move under a node of another tree: the move rewrites the subtree's
    path and depth in SQL, which the trigger on the units sees."""
    Assignment.objects.create(user=UserFactory(), unit=district.root, role=Role.DISTRICT_STAFF)
    other = UnitFactory(code="other", kind=UnitKind.DISTRICT)
    root = Unit.objects.get(pk=district.root.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.move(root, Unit.objects.get(pk=other.pk), pos="last-child")
    assert Unit.objects.get(pk=district.root.pk).depth == 1


def test_a_root_without_district_roles_may_still_be_moved(district):
    other = UnitFactory(code="other", kind=UnitKind.DISTRICT)
    root, target = Unit.objects.get(pk=district.root.pk), Unit.objects.get(pk=other.pk)
    Unit.objects.move(root, target, pos="last-child")
    assert Unit.objects.get(pk=district.root.pk).depth == 2
    assert Unit.objects.get(pk=district.cell.pk).depth == 4


MESSAGES = {
    "vi": "Vai trò cán bộ Văn phòng Quận ủy hoặc Thường trực Quận ủy chỉ được giao tại Quận ủy "
    "(đơn vị gốc).",
    "en": "A district office or Standing Committee role can only be held on the district itself "
    "(the root unit).",
}


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("role", DISTRICT_ROLES)
def test_full_clean_names_the_unit_field_in_the_persons_language(district, role, language):
    assignment = Assignment(user=UserFactory(), unit=district.ward, role=role)
    with translation.override(language):
        with pytest.raises(ValidationError) as refused:
            assignment.full_clean()
        # The message is translated when read, as the admin form reads it.
        assert refused.value.message_dict == {"unit": [MESSAGES[language]]}


def test_full_clean_accepts_a_district_role_on_the_root_and_a_secretary_below(district):
    Assignment(user=UserFactory(), unit=district.root, role=Role.DISTRICT_STAFF).full_clean()
    Assignment(user=UserFactory(), unit=district.cell, role=Role.SECRETARY).full_clean()
