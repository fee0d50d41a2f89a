"""Invariants of units and role assignments that the database itself must hold."""

import unicodedata

import pytest
from django.db import IntegrityError, transaction

from tests.factories import UnitFactory, UserFactory, assign
from units.models import Assignment, Role, Unit, UnitKind


def test_negative_member_count_is_refused_by_the_database(district):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.filter(pk=district.cell.pk).update(member_count=-1)
    district.cell.refresh_from_db()
    assert district.cell.member_count == 40


def test_unit_code_is_unique(district):
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitFactory(parent=district.ward, code=district.cell.code)


def test_a_user_holds_one_role_per_unit(district):
    user = assign(UserFactory(), district.ward, Role.SECRETARY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(user=user, unit=district.ward, role=Role.CLERK)
    assert Assignment.objects.filter(user=user).count() == 1


def test_same_user_may_hold_roles_on_two_units(district):
    user = assign(UserFactory(), district.ward)
    assign(user, district.sibling_ward)
    assert Assignment.objects.filter(user=user).count() == 2


def test_unit_name_is_stored_nfc_normalised(district):
    decomposed = unicodedata.normalize("NFD", "Chi bộ Tổ dân phố số 7")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    unit = UnitFactory(parent=district.ward, name_vi=decomposed, name_en="Group No. 7 Cell")
    stored = Unit.objects.get(pk=unit.pk)
    assert stored.name_vi == unicodedata.normalize("NFC", decomposed)
    assert unicodedata.is_normalized("NFC", stored.name_vi)


def test_search_name_drops_accents_so_plain_letters_find_the_unit(district):
    root = Unit.objects.get(pk=district.root.pk)
    assert root.search_name == "quan uy dong da"
    assert list(Unit.objects.filter(search_name__contains="kim lien").order_by("path")) == [
        district.ward
    ]


def test_search_name_follows_a_renamed_unit(district):
    district.cell.name_vi = "Chi bộ Trường Tiểu học Đống Đa"
    district.cell.save()
    assert Unit.objects.get(pk=district.cell.pk).search_name == "chi bo truong tieu hoc dong da"


def test_child_sits_under_its_parent_in_the_tree(district):
    assert district.cell.path.startswith(district.ward.path)
    assert district.cell.depth == district.ward.depth + 1
    assert district.ward.kind == UnitKind.WARD_COMMITTEE
    assert Unit.objects.get(path=district.cell.path[: -Unit.steplen]) == district.ward
