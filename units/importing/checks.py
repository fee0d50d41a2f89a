"""The checks that make a file's rows refused: the tree they would build, the people they name."""

from collections import defaultdict

from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from dongda.text import fold

from ..models import UnitKind, User
from .records import ALLOWED_PARENT_KINDS, ImportPlan, K, PersonRow, Problem, UnitRow


def check_tree(rows, plan, existing, db_parent, root, deactivate_missing) -> None:
    """Codes unique, parents known and active, kinds allowed under their parent, no cycle."""
    seen: dict[str, int] = {}
    for row in rows:
        key = row.code.casefold()
        if key in seen:
            plan.problems.append(
                Problem(row.line, "code", _("the code “%(code)s” is already on row %(row)s.")
                        % {"code": row.code, "row": seen[key]})
            )  # fmt: skip
        else:
            seen[key] = row.line
    if any(p.column == "code" for p in plan.problems):
        return  # parents cannot be resolved while codes are ambiguous
    in_file = {row.code: row for row in rows}
    parent_of = dict(db_parent)
    kind_of = {code: unit.kind for code, unit in existing.items()}
    for row in rows:
        parent_of[row.code] = row.parent_code
        kind_of[row.code] = row.kind

    # A cycle: walking up from a row comes back to it instead of reaching the top. A unit moved
    # under its own descendant is one (the descendant's chain of parents leads back to it).
    # Checked before the kinds, so that the message says what is really wrong.
    cycles: dict[str, list[str]] = {}
    for row in rows:
        chain, code = [row.code], row.parent_code
        while code and code in parent_of:
            if code in chain:
                cycles[row.code] = [*chain, code]
                break
            chain.append(code)
            code = parent_of[code]

    districts = [row for row in rows if row.kind == K.DISTRICT]
    for row in rows:
        if row.kind == K.DISTRICT:
            if root is not None and row.code != root.code:
                plan.problems.append(
                    Problem(row.line, "kind", _("the district already exists (“%(code)s”); "
                                                "there is only one.") % {"code": root.code})
                )  # fmt: skip
            elif root is None and len(districts) > 1:
                plan.problems.append(
                    Problem(row.line, "kind", _("only one row can be the district."))
                )
            if row.parent_code:
                plan.problems.append(
                    Problem(row.line, "parent_code", _("the district has no parent unit; leave "
                                                       "this cell empty."))
                )  # fmt: skip
            continue
        if root is not None and row.code == root.code:
            plan.problems.append(
                Problem(row.line, "kind", _("this is the district: its kind must be “%(kind)s”.")
                        % {"kind": K.DISTRICT.label})
            )  # fmt: skip
            continue
        if not row.parent_code:
            plan.problems.append(Problem(row.line, "parent_code", _("is empty.")))
            continue
        if row.parent_code == row.code:
            plan.problems.append(
                Problem(row.line, "parent_code", _("a unit cannot be its own parent."))
            )
            continue
        if row.parent_code not in parent_of:
            plan.problems.append(
                Problem(row.line, "parent_code", _("no unit has the code “%(code)s”, in the file "
                                                   "or in the app.") % {"code": row.parent_code})
            )  # fmt: skip
            continue
        if row.code in cycles:
            plan.problems.append(
                Problem(row.line, "parent_code",
                        _("“%(code)s” would end up under itself (%(chain)s).")
                        % {"code": row.code, "chain": " → ".join(cycles[row.code])})
            )  # fmt: skip
            continue
        parent = existing.get(row.parent_code)
        # The district is never deactivated, whatever the option says.
        parent_active = row.parent_code in in_file or (
            parent.is_active and not (deactivate_missing and parent.depth > 1)
        )
        if not parent_active:
            plan.problems.append(
                Problem(row.line, "parent_code",
                        _("the parent unit “%(code)s” is deactivated (or would be, as it is not "
                          "in the file).") % {"code": row.parent_code})
            )  # fmt: skip
            continue
        parent_kind = kind_of[row.parent_code]
        if parent_kind not in ALLOWED_PARENT_KINDS[row.kind]:
            labels = dict(UnitKind.choices)
            plan.problems.append(
                Problem(row.line, "kind",
                        _("a “%(kind)s” cannot be placed under a “%(parent)s”.")
                        % {"kind": labels[row.kind], "parent": labels[parent_kind]})
            )  # fmt: skip
    # A unit not in the file stays where it is: its parent's new kind must still allow it.
    for code, parent in db_parent.items():
        if code in in_file or parent not in in_file or not existing[code].is_active:
            continue
        if in_file[parent].kind not in ALLOWED_PARENT_KINDS[kind_of[code]]:
            labels = dict(UnitKind.choices)
            plan.problems.append(
                Problem(in_file[parent].line, "kind",
                        _("“%(child)s” (a “%(kind)s”, not in the file) stays under this unit and "
                          "cannot sit under a “%(parent)s”.")
                        % {"child": code, "kind": labels[kind_of[code]],
                           "parent": labels[in_file[parent].kind]})
            )  # fmt: skip
    if root is None and not districts and rows:
        plan.problems.append(
            Problem(None, None, _("The app has no district yet: the file must have one row of "
                                  "kind “%(kind)s”, with no parent.") % {"kind": K.DISTRICT.label})
        )  # fmt: skip


def check_people(rows: list[UnitRow], plan: ImportPlan) -> None:
    """One e-mail, one person: the same address under two names, or the address of an existing
    account held by someone else, is refused rather than merged."""
    first_seen: dict[str, PersonRow] = {}
    for row in rows:
        for person in row.people:
            earlier = first_seen.setdefault(person.email, person)
            if fold(earlier.full_name) != fold(person.full_name):
                plan.problems.append(
                    Problem(person.line, f"person{person.slot}_email",
                            _("“%(email)s” is given for “%(other)s” on row %(row)s.")
                            % {"email": person.email, "other": earlier.full_name,
                               "row": earlier.line})
                )  # fmt: skip
    accounts: dict[str, list[User]] = defaultdict(list)
    for user in users_by_email(list(first_seen)):
        accounts[user.email.lower()].append(user)
    for email, person in first_seen.items():
        users = accounts.get(email, [])
        column = f"person{person.slot}_email"
        if len(users) > 1:
            plan.problems.append(
                Problem(person.line, column, _("more than one account has “%(email)s”; fix "
                                               "that in the administration first.")
                        % {"email": email})
            )  # fmt: skip
        elif users:
            user = users[0]
            if not user.is_active:
                plan.problems.append(
                    Problem(person.line, column, _("the account of “%(email)s” is deactivated; "
                                                   "reactivate it in the administration first.")
                            % {"email": email})
                )  # fmt: skip
            elif user.get_full_name() and fold(user.get_full_name()) != fold(person.full_name):
                plan.problems.append(
                    Problem(person.line, column, _("“%(email)s” belongs to another person, "
                                                   "“%(name)s”.")
                            % {"email": email, "name": user.get_full_name()})
                )  # fmt: skip


def users_by_email(emails: list[str]) -> list[User]:
    """The accounts whose e-mail is one of `emails` (lower-case), whatever case they were stored
    in, a few hundred addresses per query."""
    found: list[User] = []
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        found += User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=chunk)
    return found
