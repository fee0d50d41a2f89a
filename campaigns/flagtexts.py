"""What an open flag says, in one sentence that names its item (the task and period, the
incident, the item waiting for review) and who must act next: the unit, its committee or the
district office. The unit page, the dashboard, the digests and the exports all use these words.

Each rule words its own flags (`FlagRule.describe` in `campaigns.registry`); this module finds
the items the flags name, one query per kind of item however many flags there are.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Model

from .models import FLAG_ACTOR, Actor, Campaign, Flag, awaits_committee
from .periods import days_off_read_once
from .registry import FlagRule, flag_rules, report_kinds


@dataclass(frozen=True)
class FlagText:
    flag: Flag
    text: str
    actor: str
    actor_label: str

    @property
    def for_district(self) -> bool:
        return self.actor == Actor.DISTRICT


def subject_parts(subject: str) -> tuple[str, int | None, str]:
    """ "task:12/2024-04-01" → ("task", 12, "2024-04-01"); "" → ("", None, "")."""
    prefix, _sep, rest = subject.partition(":")
    number, _sep, extra = rest.partition("/")
    return prefix, int(number) if number.isdigit() else None, extra


def _item_kind(rule: FlagRule | None, prefix: str) -> str | None:
    if rule is not None and rule.subject_kind:
        return rule.subject_kind
    return prefix if prefix in report_kinds() else None


def describe_flags(
    flags: Iterable[Flag], campaign: Campaign, *, every_kind: bool = False
) -> list[FlagText]:
    """The flags' sentences. The items they name are read one query per kind of item named;
    with `every_kind`, one query per report kind whether named or not, so that the number of
    statements does not depend on which flags happen to be open (the exports, whose statement
    count is pinned)."""
    flags = list(flags)
    rules: dict[str, FlagRule] = {}  # by kind, read once
    for rule in flag_rules():
        rules.setdefault(rule.kind, rule)
    wanted: dict[str, set[int]] = defaultdict(set)
    if every_kind:
        wanted = defaultdict(set, {slug: set() for slug in report_kinds()})
    for flag in flags:
        prefix, number, _extra = subject_parts(flag.subject)
        slug = _item_kind(rules.get(flag.kind), prefix)
        if slug and number is not None:
            wanted[slug].add(number)
    items: dict[tuple[str, int], Model] = {}
    for slug, ids in wanted.items():
        kind = report_kinds()[slug]
        # An item's name may mention its unit, or its parent and the parent's campaign (a
        # progress report names its task and its period): read them with it.
        # (An empty list would be answered without a query: `every_kind` asks anyway.)
        found = kind.model.objects.filter(pk__in=ids or [0]).select_related("unit")
        if kind.parent:
            found = found.select_related(kind.parent_field, f"{kind.parent_field}__campaign")
        for item in found:
            items[slug, item.pk] = item
    texts = []
    # Read once, not per flag (an export describes tens of thousands): the actors' labels, and
    # the days off the deadlines in the sentences are moved by.
    actor_labels = {actor: str(actor.label) for actor in Actor}
    with days_off_read_once():
        for flag in flags:
            texts.append(_describe(flag, rules.get(flag.kind), items, campaign, actor_labels))
    return texts


def _describe(
    flag: Flag,
    rule: FlagRule | None,
    items: dict[tuple[str, int], Model],
    campaign: Campaign,
    actor_labels: dict[Actor, str],
) -> FlagText:
    prefix, number, _extra = subject_parts(flag.subject)
    item = items.get((_item_kind(rule, prefix), number))
    text = (
        rule.describe(flag, item, campaign)
        if rule is not None and rule.describe
        else str(flag.get_kind_display())
    )
    actor = FLAG_ACTOR.get(flag.kind, Actor.UNIT)
    if actor == Actor.DISTRICT and item is not None and awaits_committee(item, campaign):
        # Two-level review: a review that is late while the item still waits for its
        # committee is the committee's delay (the overdue day restarts when it passes on).
        actor = Actor.COMMITTEE
    return FlagText(flag, text, actor, actor_labels[Actor(actor)])
