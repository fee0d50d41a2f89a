"""The campaign's own rules, declared to the machinery (`campaigns.registry`): R1 study sessions,
R2 the implementation plan, R5 pressing local incidents, R6 propaganda, and the district's own
duty to review in time (`review`). R3 and R4 are declared by
`breakthroughs.rules`.

Each module here holds everything one rule adds: its report kinds (with their forms), its flags,
its share of the status row and its line on the unit's checklist. This package sits on the
campaign's top floor (it may import the engine and the reporting forms), and is imported only
by `CampaignsConfig.ready()`.
"""

from ..registry import register_rule
from . import incidents, plan, propaganda, review, study


def register() -> None:
    for module in (study, plan, incidents, propaganda, review):
        register_rule(module.RULE)
