"""What an import reads and plans: the rows, the problems, the changes for the preview."""

import hashlib
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..models import UnitKind, User
from ..spreadsheet import column_label

K = UnitKind
# Which kinds may sit under which: the Party's statute keeps cells under a committee (or directly
# under the district), ward committees under the district; the Front and the mass organisations
# are district- or ward-level bodies. The district itself has no parent.
ALLOWED_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    K.DISTRICT: (),
    K.WARD_COMMITTEE: (K.DISTRICT,),
    K.GRASSROOTS_COMMITTEE: (K.DISTRICT, K.WARD_COMMITTEE),
    K.PARTY_CELL: (K.DISTRICT, K.WARD_COMMITTEE, K.GRASSROOTS_COMMITTEE),
    K.FATHERLAND_FRONT: (K.DISTRICT, K.WARD_COMMITTEE),
    K.SOCIO_POLITICAL: (K.DISTRICT, K.WARD_COMMITTEE),
}
PEOPLE_SLOTS = (1, 2)


@dataclass(frozen=True)
class Problem:
    line: int | None  # the spreadsheet row; None for the file as a whole
    column: str | None  # a column key
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        if self.column is None:
            return _("Row %(row)s: %(message)s") % {"row": self.line, "message": self.message}
        return _("Row %(row)s, column “%(column)s”: %(message)s") % {
            "row": self.line,
            "column": column_label(self.column),
            "message": self.message,
        }


@dataclass
class PersonRow:
    line: int
    slot: int
    full_name: str
    email: str
    phone: str
    role: str


@dataclass
class UnitRow:
    line: int
    code: str
    name_vi: str
    name_en: str
    kind: str
    parent_code: str
    member_count: int
    sector: str  # "" = keep the unit's own (or the default for a new one)
    people: list[PersonRow] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One line of the preview: the unit or person, and what changes (old → new)."""

    code: str
    name: str
    before: str = ""
    after: str = ""


@dataclass
class ImportPlan:
    problems: list[Problem] = field(default_factory=list)
    rows: list[UnitRow] = field(default_factory=list)
    created: list[Change] = field(default_factory=list)
    renamed: list[Change] = field(default_factory=list)
    moved: list[Change] = field(default_factory=list)
    recounted: list[Change] = field(default_factory=list)
    retyped: list[Change] = field(default_factory=list)  # kind or sector changed
    reactivated: list[Change] = field(default_factory=list)
    deactivated: list[Change] = field(default_factory=list)
    accounts_created: list[Change] = field(default_factory=list)
    accounts_reassigned: list[Change] = field(default_factory=list)
    roles_ended: list[Change] = field(default_factory=list)
    # What the writer needs beyond the preview.
    _unit_updates: dict[str, dict] = field(default_factory=dict)
    _moves: dict[str, str] = field(default_factory=dict)
    _new_codes: list[str] = field(default_factory=list)
    _deactivate_ids: list[int] = field(default_factory=list)
    _people: dict[str, "PersonPlan"] = field(default_factory=dict)
    _ended: list[int] = field(default_factory=list)  # Assignment ids

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def sections(self) -> list[tuple[str, str, list[Change]]]:
        """The preview's sections in reading order: (key, title, changes)."""
        return [
            ("created", _("Units to create"), self.created),
            ("renamed", _("Units to rename"), self.renamed),
            ("moved", _("Units to move"), self.moved),
            ("recounted", _("Member counts to change"), self.recounted),
            ("retyped", _("Kind or sector to change"), self.retyped),
            ("reactivated", _("Units to reactivate"), self.reactivated),
            ("deactivated", _("Units to deactivate"), self.deactivated),
            (
                "accounts_created",
                _("Accounts to create (each gets an invitation)"),
                self.accounts_created,
            ),
            ("accounts_reassigned", _("Accounts whose roles change"), self.accounts_reassigned),
            ("roles_ended", _("Roles that end"), self.roles_ended),
        ]

    @property
    def changes(self) -> int:
        return sum(len(changes) for _key, _title, changes in self.sections)

    @property
    def units_changed(self) -> int:
        """Existing units the import changes in any way (each counted once)."""
        lists = (self.renamed, self.moved, self.recounted, self.retyped, self.reactivated,
                 self.deactivated)  # fmt: skip
        return len({change.code for changes in lists for change in changes})

    @property
    def fingerprint(self) -> str:
        """What a person read in the preview, as a short hash: equal plans, equal prints."""
        digest = hashlib.sha256()
        for key, _title, changes in self.sections:
            digest.update(key.encode())
            for change in changes:
                digest.update(repr(change).encode())
        return digest.hexdigest()[:32]


@dataclass
class PersonPlan:
    email: str
    full_name: str
    phone: str
    user: User | None
    roles: set[tuple[str, str]] = field(default_factory=set)  # (unit code, role)
