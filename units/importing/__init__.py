"""Loading the district's organisation from its spreadsheet: units, member counts and the
secretaries and clerks who report for them.

Two steps, both in one transaction under a lock on the district (two imports never interleave):
`plan_import` reads the sheet against the tree as it stands and either lists every problem (row,
column, what is wrong) or every change it would make; `import_units` writes that plan, or nothing
at all if any row has a problem or the caller only wants the preview. Importing the same file
twice plans nothing the second time.

What the file decides:
- a unit row creates the unit, or renames, moves, re-kinds or re-counts it; listing a deactivated
  unit makes it active again; with `deactivate_missing`, units missing from the file (never the
  district itself) are deactivated, never deleted, so their reports and history stay;
- the people listed: a person (known by e-mail) holds exactly the secretary or clerk roles the
  file gives them; a unit row that lists people has exactly those people. A row listing nobody
  leaves the unit's people alone. District roles are never touched by an import.
"""

from .plan import plan_import
from .records import ALLOWED_PARENT_KINDS, Change, ImportPlan, Problem
from .write import ImportResult, import_units

__all__ = [
    "ALLOWED_PARENT_KINDS",
    "Change",
    "ImportPlan",
    "ImportResult",
    "Problem",
    "import_units",
    "plan_import",
]
