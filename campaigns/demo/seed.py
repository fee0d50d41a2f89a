"""`seed_demo`: the Đống Đa demo district, its 2024 campaign and a believable spread of done, late
and missing reports, optionally grown to N synthetic units for scale tests.

Everything comes from random streams seeded by the one seed (one per rule, drawn in a fixed
order) and from absolute 2024 dates, so the same arguments give the same rows on any day and on
any database. Rows are written with bulk_create (no save(), no signals): the tree's materialized
paths are computed here, because add_child per node would take hours at 100,000 units. Each
rule's rows come from the builder its rule names (`Rule.demo`). The campaign takes its member
counts (`CampaignMembers`) as soon as the tree is built, as the office does when it opens one.

The reports' history rows (created, submitted, reviewed, at the 2024 moments the rows describe)
are written here too, since every figure "as of a day" is read from them; then the deadline
engine's flags are built by replaying the campaign day by day, so each flag opened, and closed,
on the day the rules say.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from units.models import Assignment, Unit, User

from ..engine.flags import flags_sync
from ..engine.status import refresh_unit_status
from ..models import Campaign, CampaignMembers, DeadlineEngineRun, Flag, ReviewStatus, UnitStatus
from ..registry import ReportKind, flag_kinds_reading, report_kinds, rules
from ..setup import take_member_counts
from .common import PROGRAMME_VI, DemoContext, bulk
from .district import build_tree, create_units, create_users

DEFAULT_SEED = 2024
DEFAULT_PASSWORD = "dongda2024"  # noqa: S105 - the documented demo password
CAMPAIGN_CODE = "cd2024"
DEMO_LOGINS = ("vanphong", "staff-en", "thuongtruc")


class DemoDataExists(Exception):
    """The database already holds units or demo accounts, and no reset was asked for."""


@dataclass
class Summary:
    counts: dict[str, int]
    sample_logins: list[str]


def seed_demo(
    *,
    units: int | None = None,
    seed: int = DEFAULT_SEED,
    password: str = DEFAULT_PASSWORD,
    reset: bool = False,
    replay: bool = True,
) -> Summary:
    """Loads the demo district (or exactly `units` units) and its 2024 campaign, all or nothing."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    with transaction.atomic(), translation.override("vi"):
        if reset:
            wipe_demo_data()
        else:
            _refuse_if_seeded()
        tree = create_units(nodes=build_tree(rng=rng, total=units))
        reviewer, secretaries, users = create_users(rng=rng, units=tree, password=password)
        campaign = create_campaign()
        # The counts the 2024 figures are judged on, as the office took them on the first day.
        opened = timezone.make_aware(datetime.combine(campaign.starts_on, time(8)))
        take_member_counts(campaign, by=None, at=opened)
        counts = {"units": len(tree), "users": users}
        for rule in rules():
            if rule.demo is None:
                continue
            build = import_string(rule.demo)
            stream = random.Random(f"{seed}:{rule.code}")  # noqa: S311
            counts |= build(DemoContext(stream, campaign, tree, reviewer, secretaries))
        _backdate(campaign)
        counts["history rows"] = write_history(campaign)
        _analyze()
        if replay:
            replay_flags(campaign)
        else:
            flags_sync(campaign=campaign, today=timezone.localdate())
        refresh_unit_status(campaign)
    return Summary(counts, [f"bt-{u.code}" for u in tree[1:3]])


def _children_first() -> list[ReportKind]:
    """The report kinds in an order that deletes them without breaking a foreign key."""
    kinds = list(report_kinds().values())
    return [k for k in kinds if k.parent] + [k for k in kinds if not k.parent]


def wipe_demo_data() -> None:
    """Deletes every campaign, report, flag, assignment and unit, and every user except the
    superusers that are not demo logins (a developer's own admin account survives a reset)."""
    for kind in _children_first():
        # Raw DELETE: the ORM would load each row to send post_delete, on which simple_history
        # writes a "deleted" history row per report; that takes minutes at 100,000 units.
        for table in (kind.model.history.model._meta.db_table, kind.model._meta.db_table):
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
    Flag.objects.all().delete()
    UnitStatus.objects.all().delete()
    CampaignMembers.objects.all().delete()
    DeadlineEngineRun.objects.all().delete()
    Campaign.objects.all().delete()
    Assignment.objects.all().delete()
    Unit.objects.all().delete()
    User.objects.filter(Q(is_superuser=False) | Q(username__in=DEMO_LOGINS)).delete()


def _refuse_if_seeded() -> None:
    if Unit.objects.exists():
        raise DemoDataExists("The database already has units; use --reset to replace everything.")
    demo_users = User.objects.filter(Q(username__in=DEMO_LOGINS) | Q(username__startswith="bt-"))
    if demo_users.exists() or Campaign.objects.filter(code=CAMPAIGN_CODE).exists():
        raise DemoDataExists("The demo campaign or demo logins already exist; use --reset.")


def create_campaign() -> Campaign:
    return Campaign.objects.create(
        code=CAMPAIGN_CODE,
        year=2024,
        title_vi=(
            "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về xây dựng đội ngũ "
            "cán bộ quận Đống Đa tiên phong, gương mẫu trong việc giữ nghiêm kỷ luật, kỷ cương và "
            "trách nhiệm giải quyết công việc trong giai đoạn hiện nay"
        ),
        title_en=(
            "Studying and following Ho Chi Minh's thought, morality and style in building a "
            "contingent of Dong Da district cadres who lead and set an example in strictly "
            "upholding discipline and order and in their responsibility for getting work done in "
            "the present period"
        ),
        short_title_vi="Chuyên đề năm 2024",
        short_title_en="2024 thematic study",
        starts_on=date(2024, 2, 29),  # the district conference
        ends_on=date(2024, 12, 31),
        study_deadline=date(2024, 3, 31),
        required_study_share=95,
        plan_deadline=date(2024, 4, 30),
        breakthrough_deadline=date(2024, 4, 30),
        report_frequency=Campaign.ReportFrequency.QUARTERLY,
        report_grace_days=10,
        incident_age_limit_days=30,
        # 31/03/2024 was a Sunday and 30/04-01/05 are holidays: the deadlines fall on 01/04 and
        # 02/05, and every page says so.
        deadlines_on_working_days=True,
        linked_programme_vi=PROGRAMME_VI,
        linked_programme_en="Programme No. 01-CTr/QU on Party building, 2020-2025",
    )


def _backdate(campaign: Campaign) -> None:
    """created_at and updated_at are auto_now(_add), so bulk_create stamped them with today; move
    them to the 2024 moments the rows describe, so the data does not depend on when it is loaded."""
    stamps = {
        "created_at": F("submitted_at"),
        "updated_at": Coalesce(F("reviewed_at"), F("submitted_at")),
    }
    for kind in report_kinds().values():
        kind.of_campaign(campaign).update(**stamps)


# After the last 2024 event, the last conditions to begin (Q4's propaganda, reviews waiting from
# late December) begin within these days; the live run that follows covers the rest.
REPLAY_TAIL = timedelta(days=20)


def replay_flags(
    campaign: Campaign, *, until: date | None = None, every_unit: bool = False
) -> None:
    """Runs the engine's flag rules for every day from the campaign's first, as the daily job
    would have, then once for today: each flag opens and closes on the day the rules say.

    A unit's flags can only close on a day something of its own changed (a report written or
    reviewed), and a flag's start day comes from the data, not from the day of the run that
    opens it. So each day re-judges only the units with a change that day or the next (the
    next: what was still true the evening before a change must be seen, and closed), and the
    final run opens what is left: the same flag table as re-judging every unit every day
    (`every_unit=True`, which a test compares), in a fraction of the time."""
    last = until or campaign.ends_on + REPLAY_TAIL
    units_changed, kinds_changed = _changes_per_day(campaign)
    day = campaign.starts_on
    while day <= last:
        following = day + timedelta(days=1)
        if every_unit or day == last:
            # The last day re-judges everyone: a condition that began by time alone (a deadline
            # passed) and ends with a change after `last` must be open then, as daily runs had it.
            flags_sync(campaign=campaign, today=day)
        elif units := units_changed.get(day, set()) | units_changed.get(following, set()):
            kinds = kinds_changed.get(day, set()) | kinds_changed.get(following, set())
            flags_sync(
                campaign=campaign, today=day, unit_ids=units, kinds=flag_kinds_reading(kinds)
            )
        day = following
    flags_sync(campaign=campaign, today=max(last, timezone.localdate()))


def _changes_per_day(campaign: Campaign) -> tuple[dict[date, set[int]], dict[date, set[str]]]:
    """The units, and the report kinds, with a history row on each day."""
    units: dict[date, set[int]] = {}
    kinds: dict[date, set[str]] = {}
    for kind in report_kinds().values():
        history = kind.model.history.model.objects.filter(**{kind.campaign_lookup: campaign})
        for unit_id, moment in history.values_list("unit_id", "history_date").iterator():
            day = timezone.localdate(moment)
            units.setdefault(day, set()).add(unit_id)
            kinds.setdefault(day, set()).add(kind.slug)
    return units, kinds


def _analyze() -> None:
    """PostgreSQL plans the replay's statements from table statistics; tables filled a moment ago
    in this transaction look empty to it until analysed, and the plans for empty tables (nested
    loops) take minutes on the real ones."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def write_history(campaign: Campaign) -> int:
    """The history a report's services would have left: created as a draft by the secretary
    (a few minutes before sending), submitted, then accepted or returned by the reviewer."""
    written = 0
    for kind in report_kinds().values():
        history = kind.model.history.model
        own = {field.attname for field in kind.model._meta.concrete_fields}
        names = [f.attname for f in history._meta.concrete_fields if f.attname in own]
        items = kind.of_campaign(campaign).values(*names).order_by("pk").iterator(chunk_size=2000)
        written += bulk(history, (row for item in items for row in _steps(history, item)))
    return written


def _steps(history, item: dict):
    sent, reviewed = item["submitted_at"], item["reviewed_at"]
    unsent = {"submitted_at": None, "reviewed_at": None, "reviewed_by_id": None}
    draft = item | unsent | {"status": ReviewStatus.DRAFT, "review_comment": "", "version": 1}
    yield history(
        **draft,
        history_date=sent - timedelta(minutes=20),
        history_type="+",
        history_change_reason="created",
        history_user_id=item["created_by_id"],
    )
    waiting = item | {"status": ReviewStatus.SUBMITTED, "reviewed_at": None}
    waiting |= {"reviewed_by_id": None, "review_comment": "", "version": 2}
    yield history(
        **waiting,
        history_date=sent,
        history_type="~",
        history_change_reason="submitted",
        history_user_id=item["created_by_id"],
    )
    if reviewed is not None:
        yield history(
            **item,
            history_date=reviewed,
            history_type="~",
            history_change_reason=str(item["status"]),
            history_user_id=item["reviewed_by_id"],
        )
