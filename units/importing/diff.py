"""What a valid file would change: units created, renamed, moved, recounted; people invited,
re-assigned; roles ended."""

from collections import defaultdict

from ..models import UNIT_ROLES, Assignment, Role, Unit, UnitKind, UnitSector
from .checks import users_by_email
from .records import Change, ImportPlan, PersonPlan, UnitRow


def _parent_label(code: str, names: dict[str, str]) -> str:
    return f"{names.get(code, code)} ({code})" if code else ""


def plan_units(rows, plan, existing, db_parent, deactivate_missing) -> None:
    names = {code: unit.name_vi or unit.name for code, unit in existing.items()}
    names.update({row.code: row.name_vi for row in rows})
    labels = dict(UnitKind.choices)
    sectors = dict(UnitSector.choices)
    for row in rows:
        unit = existing.get(row.code)
        if unit is None:
            plan._new_codes.append(row.code)
            plan.created.append(
                Change(row.code, row.name_vi, after=_parent_label(row.parent_code, names))
            )
            continue
        updates = {}
        if row.name_vi != unit.name_vi or (row.name_en and row.name_en != unit.name_en):
            updates.update(name_vi=row.name_vi, name=row.name_vi)
            if row.name_en:
                updates["name_en"] = row.name_en
            plan.renamed.append(Change(row.code, row.name_vi, unit.name_vi, row.name_vi))
        if row.member_count != unit.member_count:
            updates["member_count"] = row.member_count
            plan.recounted.append(
                Change(row.code, row.name_vi, str(unit.member_count), str(row.member_count))
            )
        if row.kind != unit.kind or (row.sector and row.sector != unit.sector):
            before = f"{labels[unit.kind]}, {sectors[unit.sector]}"
            updates["kind"] = row.kind
            if row.sector:
                updates["sector"] = row.sector
            after = f"{labels[row.kind]}, {sectors[row.sector or unit.sector]}"
            plan.retyped.append(Change(row.code, row.name_vi, before, after))
        if not unit.is_active:
            updates["is_active"] = True
            plan.reactivated.append(Change(row.code, row.name_vi))
        if updates:
            plan._unit_updates[row.code] = updates
        if unit.depth > 1 and row.parent_code != db_parent[row.code]:
            plan._moves[row.code] = row.parent_code
            plan.moved.append(
                Change(row.code, row.name_vi, _parent_label(db_parent[row.code], names),
                       _parent_label(row.parent_code, names))
            )  # fmt: skip
    if deactivate_missing:
        listed = {row.code for row in rows}
        for code, unit in existing.items():
            if code not in listed and unit.is_active and unit.depth > 1:
                plan._deactivate_ids.append(unit.pk)
                plan.deactivated.append(Change(code, names[code]))
    plan.created.sort(key=lambda c: c.code)


def plan_people(rows: list[UnitRow], plan: ImportPlan, existing: dict[str, Unit]) -> None:
    listed: dict[str, PersonPlan] = {}
    units_with_people = {row.code for row in rows if row.people}
    for row in rows:
        for person in row.people:
            entry = listed.get(person.email)
            if entry is None:
                entry = listed[person.email] = PersonPlan(
                    person.email, person.full_name, person.phone, None
                )
            entry.roles.add((row.code, person.role))
    users = {u.email.lower(): u for u in users_by_email(list(listed))}
    codes_by_id = {unit.pk: code for code, unit in existing.items()}
    current: dict[int, set[tuple[str, str]]] = defaultdict(set)
    unit_role_rows = Assignment.objects.filter(role__in=UNIT_ROLES).values_list(
        "pk", "user_id", "unit_id", "role", "user__email", "user__last_name", "user__first_name"
    )
    ending: list[tuple] = []
    listed_ids = {u.pk for u in users.values()}
    role_labels = dict(Role.choices)
    for pk, user_id, unit_id, role, email, last, first in unit_role_rows:
        code = codes_by_id.get(unit_id, "")
        current[user_id].add((code, role))
        if user_id in listed_ids:
            wanted = listed[email.lower()].roles
            if (code, role) not in wanted:
                plan._ended.append(pk)
        elif code in units_with_people:
            plan._ended.append(pk)
            ending.append((code, f"{last} {first}".strip() or email, role))
    for email, entry in sorted(listed.items()):
        user = users.get(email)
        entry.user = user
        plan._people[email] = entry
        roles_text = "; ".join(
            f"{role_labels[role]} · {code}" for code, role in sorted(entry.roles)
        )
        if user is None:
            plan.accounts_created.append(Change(email, entry.full_name, after=roles_text))
            continue
        had = current.get(user.pk, set())
        if had != entry.roles:
            before = "; ".join(f"{role_labels[r]} · {c}" for c, r in sorted(had)) or "—"
            plan.accounts_reassigned.append(Change(email, entry.full_name, before, roles_text))
        elif (entry.phone and entry.phone != user.phone) or not user.get_full_name():
            plan.accounts_reassigned.append(
                Change(email, entry.full_name, user.phone or "—", entry.phone or "—")
            )
    for code, name, role in sorted(ending):
        plan.roles_ended.append(Change(code, name, before=role_labels[role]))
