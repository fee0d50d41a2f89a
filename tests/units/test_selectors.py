"""Who may see which units: the one door every other query goes through."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from tests.factories import UnitFactory, UserFactory, assign
from units.models import Role, Unit
from units.selectors import (
    get_visible_unit,
    unit_ancestors,
    units_in_subtree,
    user_scope,
    visible_units,
)


def codes(units) -> list[str]:
    return sorted(unit.code for unit in units)


ALL_CODES = sorted(["dongda", "p-kim-lien", "p-kim-lien-cb01", "p-van-mieu", "p-van-mieu-cb01"])


# visible_units


def test_district_staff_see_every_unit(staff):
    assert codes(visible_units(staff)) == ALL_CODES


def test_standing_committee_sees_every_unit(standing):
    assert codes(visible_units(standing)) == ALL_CODES


def test_ward_secretary_sees_ward_and_its_cells_only(ward_secretary, district):
    visible = codes(visible_units(ward_secretary))
    assert visible == ["p-kim-lien", "p-kim-lien-cb01"]
    assert district.sibling_ward.code not in visible
    assert district.root.code not in visible


def test_ward_secretary_sees_cells_added_later(ward_secretary, district):
    UnitFactory(parent=district.cell, code="p-kim-lien-cb01-to1")
    assert "p-kim-lien-cb01-to1" in codes(visible_units(ward_secretary))


def test_cell_secretary_sees_only_their_cell(cell_secretary):
    assert codes(visible_units(cell_secretary)) == ["p-kim-lien-cb01"]


def test_user_with_roles_on_two_wards_sees_both_subtrees_once(district):
    user = assign(assign(UserFactory(), district.ward), district.sibling_ward, Role.CLERK)
    visible = list(visible_units(user))
    assert codes(visible) == ["p-kim-lien", "p-kim-lien-cb01", "p-van-mieu", "p-van-mieu-cb01"]
    assert len(visible) == len({unit.pk for unit in visible})


def test_role_on_a_ward_and_its_own_cell_lists_the_cell_once(district):
    user = assign(assign(UserFactory(), district.ward), district.cell, Role.CLERK)
    visible = list(visible_units(user))
    assert codes(visible) == ["p-kim-lien", "p-kim-lien-cb01"]
    assert user_scope(user).roots == (district.ward,)


def test_user_without_role_sees_nothing(district):
    assert list(visible_units(UserFactory())) == []


def test_anonymous_user_sees_nothing(district):
    assert list(visible_units(AnonymousUser())) == []


def test_visible_units_reads_assignments_once_and_units_once(district, django_assert_num_queries):
    user = assign(assign(UserFactory(), district.ward), district.sibling_ward)
    # One query for the assignments (kept on the user), then one per listing of units.
    with django_assert_num_queries(3):
        list(visible_units(user))
        list(visible_units(user))


# get_visible_unit


def test_get_visible_unit_returns_a_unit_in_scope(ward_secretary, district):
    assert get_visible_unit(ward_secretary, district.cell.code) == district.cell


@pytest.mark.parametrize("target", ["sibling_ward", "sibling_cell", "root"])
def test_get_visible_unit_is_404_outside_scope(ward_secretary, district, target):
    with pytest.raises(Http404):
        get_visible_unit(ward_secretary, getattr(district, target).code)


def test_get_visible_unit_is_404_for_the_parent_of_a_cell_secretary(cell_secretary, district):
    with pytest.raises(Http404):
        get_visible_unit(cell_secretary, district.ward.code)


def test_get_visible_unit_is_404_for_an_unknown_code(staff):
    with pytest.raises(Http404):
        get_visible_unit(staff, "khong-co")


def test_get_visible_unit_is_404_for_a_user_without_role(district):
    with pytest.raises(Http404):
        get_visible_unit(UserFactory(), district.cell.code)


# ancestors and subtrees


def test_unit_ancestors_run_from_root_down_to_the_parent(district):
    assert unit_ancestors(district.cell) == [district.root, district.ward]


def test_root_has_no_ancestors(district):
    assert unit_ancestors(district.root) == []


def test_unit_ancestors_of_a_deep_unit_is_one_query(district, django_assert_num_queries):
    group = UnitFactory(parent=district.cell, code="to-1")
    deep = Unit.objects.get(pk=UnitFactory(parent=group, code="to-1-a").pk)
    with django_assert_num_queries(1):
        ancestors = unit_ancestors(deep)
    assert [unit.code for unit in ancestors] == ["dongda", "p-kim-lien", "p-kim-lien-cb01", "to-1"]


def test_units_in_subtree_holds_the_unit_and_its_descendants(district):
    assert codes(units_in_subtree(district.sibling_ward)) == ["p-van-mieu", "p-van-mieu-cb01"]


# Scope


def test_standing_committee_is_read_only(standing):
    scope = user_scope(standing)
    assert scope.is_read_only
    assert scope.is_district
    assert not scope.is_staff_reviewer


def test_district_staff_are_not_read_only(staff):
    scope = user_scope(staff)
    assert not scope.is_read_only
    assert scope.is_district
    assert scope.is_staff_reviewer


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.CLERK])
def test_unit_roles_are_not_read_only_nor_district(district, role):
    scope = user_scope(assign(UserFactory(), district.ward, role))
    assert not scope.is_read_only
    assert not scope.is_district
    assert not scope.is_staff_reviewer


def test_home_unit_is_the_assigned_unit(ward_secretary, cell_secretary, staff, district):
    assert user_scope(ward_secretary).home_unit == district.ward
    assert user_scope(cell_secretary).home_unit == district.cell
    assert user_scope(staff).home_unit == district.root


def test_home_unit_is_the_highest_of_several_assignments(district):
    user = assign(assign(UserFactory(), district.sibling_cell), district.ward, Role.CLERK)
    assert user_scope(user).home_unit == district.ward


def test_user_without_role_has_no_home_unit(db):
    scope = user_scope(UserFactory())
    assert scope.home_unit is None
    assert scope.roots == ()


def test_scope_contains_its_subtree_only(ward_secretary, district):
    scope = user_scope(ward_secretary)
    assert scope.contains(district.ward)
    assert scope.contains(district.cell)
    assert not scope.contains(district.root)
    assert not scope.contains(district.sibling_ward)
    assert not scope.contains(district.sibling_cell)


@pytest.mark.parametrize("code", ["p-kim-lien\x00", "x" * 65, ""])
def test_a_code_no_unit_can_have_is_not_found_rather_than_an_error(district, staff, code):
    from django.http import Http404

    from units.selectors import get_visible_unit

    with pytest.raises(Http404):
        get_visible_unit(staff, code)
