"""Reading the rows into a plan: every problem, or every change; nothing written."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from dongda.text import nfc

from ..models import Role, Unit, UnitKind, UnitSector, User
from ..spreadsheet import Sheet
from .cells import (
    CODE_PATTERN,
    PHONE_PATTERN,
    CellError,
    cell_choice,
    cell_count,
    cell_text,
    choice_lookup,
)
from .checks import check_people, check_tree
from .diff import plan_people, plan_units
from .records import PEOPLE_SLOTS, ImportPlan, PersonRow, Problem, UnitRow

# The columns' limits in the database. A full name is split into family and given names, each
# at most User's 150; keeping the whole within 150 keeps both parts within it.
NAME_LENGTH = Unit._meta.get_field("name").max_length
PERSON_NAME_LENGTH = User._meta.get_field("last_name").max_length
EMAIL_LENGTH = User._meta.get_field("email").max_length


def plan_import(sheet: Sheet, *, deactivate_missing: bool = False) -> ImportPlan:
    """Every problem of the sheet, or every change it would make; writes nothing."""
    plan = ImportPlan()
    rows = _parse_rows(sheet, plan)
    existing = {u.code: u for u in Unit.objects.order_by("path")}
    by_path = {u.path: u for u in existing.values()}
    db_parent = {
        u.code: (by_path[u.path[: -Unit.steplen]].code if u.depth > 1 else "")
        for u in existing.values()
    }
    root = next((u for u in existing.values() if u.depth == 1), None)
    check_tree(rows, plan, existing, db_parent, root, deactivate_missing)
    check_people(rows, plan)
    if plan.problems:
        plan.problems.sort(key=lambda p: (p.line or 0, p.column or ""))
        return plan
    plan.rows = rows
    plan_units(rows, plan, existing, db_parent, deactivate_missing)
    plan_people(rows, plan, existing)
    return plan


class _RowReader:
    """Reads one row's cells, recording each cell's problem instead of stopping at the first."""

    def __init__(self, line: int, cells: dict, plan: ImportPlan):
        self.line, self.cells, self.plan = line, cells, plan
        self.values: dict[str, object] = {}
        self.bad = False

    def read(self, key: str, reader, *args, **kwargs) -> None:
        try:
            self.values[key] = reader(self.cells.get(key), *args, **kwargs)
        except CellError as exc:
            self.plan.problems.append(Problem(self.line, key, str(exc)))
            self.values[key] = None
            self.bad = True


def _parse_rows(sheet: Sheet, plan: ImportPlan) -> list[UnitRow]:
    rows: list[UnitRow] = []
    kinds = choice_lookup(UnitKind.choices)
    sectors = choice_lookup(UnitSector.choices)
    roles = choice_lookup([(r.value, r.label) for r in (Role.SECRETARY, Role.CLERK)])
    for line, cells in zip(sheet.lines, sheet.rows, strict=True):
        reader = _RowReader(line, cells, plan)
        values, read = reader.values, reader.read

        read("code", cell_text, required=True)
        read("name_vi", cell_text, required=True, max_length=NAME_LENGTH)
        read("name_en", cell_text, max_length=NAME_LENGTH)
        read("kind", cell_choice, kinds, what=_("kind of unit"))
        read("parent_code", cell_text)
        read("member_count", cell_count)
        if cells.get("sector") not in (None, ""):
            read("sector", cell_choice, sectors, what=_("sector"))
        else:
            values["sector"] = ""
        code = values["code"]
        if code:
            code = code.lower()
            if not CODE_PATTERN.match(code) or len(code) > 64:
                plan.problems.append(
                    Problem(line, "code", _("“%(value)s” is not a valid code: use lower-case "
                                            "letters without accents, digits and hyphens.")
                            % {"value": values["code"][:64]})
                )  # fmt: skip
                reader.bad = True
        parent_code = (values["parent_code"] or "").lower()
        people = []
        for slot in PEOPLE_SLOTS:
            keys = [f"person{slot}_{part}" for part in ("name", "email", "phone", "role")]
            if not any(_blankless(cells.get(key)) for key in keys):
                continue
            read(keys[0], cell_text, required=True, max_length=PERSON_NAME_LENGTH)
            read(keys[1], cell_text, required=True, max_length=EMAIL_LENGTH)
            read(keys[2], cell_text)
            read(keys[3], cell_choice, roles, what=_("role"))
            email = (values.get(keys[1]) or "").lower()
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    plan.problems.append(
                        Problem(line, keys[1], _("“%(value)s” is not an e-mail address.")
                                % {"value": email[:80]})
                    )  # fmt: skip
                    reader.bad = True
            phone = values.get(keys[2]) or ""
            if phone and not PHONE_PATTERN.match(phone):
                plan.problems.append(
                    Problem(line, keys[2], _("“%(value)s” is not a phone number.")
                            % {"value": phone[:40]})
                )  # fmt: skip
                reader.bad = True
            people.append(
                PersonRow(line, slot, values.get(keys[0]) or "", email, phone,
                          values.get(keys[3]) or "")
            )  # fmt: skip
        if len(people) == 2 and people[0].email and people[0].email == people[1].email:
            plan.problems.append(
                Problem(line, "person2_email", _("is the same person as person 1."))
            )
            reader.bad = True
        if reader.bad:
            continue
        rows.append(
            UnitRow(line=line, code=code, name_vi=nfc(values["name_vi"]),
                    name_en=nfc(values["name_en"] or ""), kind=values["kind"],
                    parent_code=parent_code, member_count=values["member_count"],
                    sector=values["sector"], people=people)
        )  # fmt: skip
    return rows


def _blankless(value) -> bool:
    return value is not None and str(value).strip() != ""
