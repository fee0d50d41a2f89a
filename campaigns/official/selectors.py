"""Reads of official reports, scoped: a person sees the reports of the committees in their scope
and drafts those they answer for."""

from django.db.models import QuerySet

from units.models import UNIT_ROLES, Role, Unit, User
from units.selectors import user_scope, visible_units

from ..models import OfficialReport
from .build import COMMITTEE_KINDS


def reports_visible_to(user: User) -> QuerySet[OfficialReport]:
    """Drafts and issued reports of the committees in the person's scope: a ward's secretary
    sees the ward's, never the district's (the district is above their scope)."""
    return OfficialReport.objects.filter(user_scope(user).filter_q("unit__")).select_related(
        "unit", "campaign", "signer", "issued_by", "created_by"
    )


def can_draft_for(user: User, committee: Unit) -> bool:
    """District office staff draft for any committee in their scope; a committee's own
    secretary or clerk drafts for that committee; Standing Committee members only read."""
    if committee.kind not in COMMITTEE_KINDS or not committee.is_active:
        return False
    scope = user_scope(user)
    if not scope.contains(committee):
        return False
    return scope.is_staff_reviewer or any(
        a.unit_id == committee.pk and a.role in UNIT_ROLES for a in scope.assignments
    )


def committees_for(user: User) -> QuerySet[Unit]:
    """The committees the person may draft a report for, the district first: the staff's
    scope holds every committee; anyone else's, those they hold a unit role on."""
    scope = user_scope(user)
    committees = visible_units(user).filter(kind__in=COMMITTEE_KINDS, is_active=True)
    if not scope.is_staff_reviewer:
        own = [a.unit_id for a in scope.assignments if a.role in UNIT_ROLES]
        committees = committees.filter(pk__in=own)
    return committees.order_by("depth", "path")


#: Who signs for a committee: the district's Standing Committee members (its secretary and
#: deputies among them) for the district, the committee's secretary for a committee. Office
#: staff and clerks draft; they do not sign.
SIGNING_ROLES = (Role.STANDING_COMMITTEE, Role.SECRETARY)


def signers_for(committee: Unit) -> QuerySet[User]:
    """The people who may sign the committee's report."""
    return (
        User.objects.filter(
            assignments__unit=committee, assignments__role__in=SIGNING_ROLES, is_active=True
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
