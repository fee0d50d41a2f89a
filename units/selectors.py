"""Reads about units and scope. Every query that serves a person starts here, so another unit's
data is out of reach by construction rather than by a check someone may forget."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import DISTRICT_ROLES, UNIT_ROLES, Assignment, Role, Unit, User


@dataclass(frozen=True)
class Scope:
    """What one user may see and change, computed once per request."""

    assignments: tuple[Assignment, ...]

    @cached_property
    def is_district(self) -> bool:
        return any(a.role in DISTRICT_ROLES for a in self.assignments)

    @cached_property
    def is_staff_reviewer(self) -> bool:
        return any(a.role == Role.DISTRICT_STAFF for a in self.assignments)

    @cached_property
    def is_read_only(self) -> bool:
        return not any(a.role in (Role.DISTRICT_STAFF, *UNIT_ROLES) for a in self.assignments)

    @cached_property
    def home_unit(self) -> Unit | None:
        if not self.assignments:
            return None
        # The highest unit the user is assigned to is where their home page opens.
        return min((a.unit for a in self.assignments), key=lambda unit: (unit.depth, unit.path))

    @cached_property
    def roots(self) -> tuple[Unit, ...]:
        # Drop any assigned unit already inside another assigned subtree.
        paths = sorted({a.unit.path: a.unit for a in self.assignments}.items())
        kept: list[Unit] = []
        for path, unit in paths:
            if not any(path.startswith(k.path) for k in kept):
                kept.append(unit)
        return tuple(kept)

    def can_report_for(self, unit: Unit) -> bool:
        """Only the unit's own secretary or clerk writes its reports: a committee above it sees
        them, and district staff review them, but neither types them in for the unit."""
        return any(a.unit_id == unit.pk and a.role in UNIT_ROLES for a in self.assignments)

    def contains(self, unit: Unit) -> bool:
        return any(unit.path.startswith(root.path) for root in self.roots)

    def filter_q(self, prefix: str = "") -> Q:
        """A Q keeping rows whose unit lies in this scope; `prefix` points at the unit relation."""
        if not self.roots:
            return Q(pk__in=[])
        field = f"{prefix}path__startswith"
        query = Q()
        for root in self.roots:
            query |= Q(**{field: root.path})
        return query


def user_scope(user: User) -> Scope:
    if not user.is_authenticated:
        return Scope(assignments=())
    cached = getattr(user, "_dongda_scope", None)
    if cached is None:
        assignments = tuple(Assignment.objects.filter(user=user).select_related("unit"))
        cached = Scope(assignments=assignments)
        user._dongda_scope = cached
    return cached


def visible_units(user: User) -> QuerySet[Unit]:
    """Every unit the user may see: the subtrees of the units they hold a role on."""
    return Unit.objects.filter(user_scope(user).filter_q())


def get_visible_unit(user: User, code: str) -> Unit:
    """The unit with this code if the user may see it; 404 otherwise, so that an outsider cannot
    even learn that the code exists. A code no unit can have (too long, or holding a NUL, which
    PostgreSQL refuses in a query) is answered the same way rather than with a 500."""
    if not code or len(code) > 64 or "\x00" in code:
        raise Http404
    unit = visible_units(user).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


def units_in_subtree(unit: Unit) -> QuerySet[Unit]:
    return Unit.objects.filter(path__startswith=unit.path)


def unit_ancestors(unit: Unit) -> list[Unit]:
    """The chain from the root down to the unit's parent, in one query (the paths are prefixes)."""
    steplen = Unit.steplen
    prefixes = [unit.path[: steplen * depth] for depth in range(1, unit.depth)]
    return list(Unit.objects.filter(path__in=prefixes).order_by("depth"))


def ancestors_for_breadcrumb(user: User, unit: Unit) -> list[tuple[Unit, bool]]:
    """The chain above `unit`, each with whether the person may open it: ancestors outside
    their scope are named but not linked (the link would only 404)."""
    scope = user_scope(user)
    return [(ancestor, scope.contains(ancestor)) for ancestor in unit_ancestors(unit)]


def attach_committee_names(units: Iterable[Unit]) -> None:
    """Gives each unit below a committee `committee_name`, the name of its ancestor directly
    under the district (its ward or agency committee), in one query for the lot: about twenty
    cells are called "Chi bộ Tổ dân phố số 1", and only the ward tells them apart. Units at the
    top two levels get "" (their committee is the district itself)."""
    units = list(units)
    prefix = 2 * Unit.steplen
    paths = {unit.path[:prefix] for unit in units if unit.depth > 2}
    names = {u.path: u.name for u in Unit.objects.filter(path__in=paths)} if paths else {}
    for unit in units:
        unit.committee_name = names.get(unit.path[:prefix], "") if unit.depth > 2 else ""
