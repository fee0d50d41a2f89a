"""Demo rows for the campaign's own rules: R1 study sessions, R2 implementation plans, R5
incidents, R6 propaganda activities. Each builder is named by its rule (`campaigns.rules`) and
called by `seed_demo`."""

from collections.abc import Iterator
from datetime import date, timedelta

from units.models import Unit
from units.models import UnitKind as K

from ..models import ImplementationPlan, Incident, PropagandaActivity, StudySession
from .common import (
    ACCEPTED,
    PROGRAMME_VI,
    RETURNED,
    STREETS,
    SUBMITTED,
    DemoContext,
    ascii_text,
    bulk,
)

REGULAR, MAKEUP = StudySession.Kind.REGULAR, StudySession.Kind.MAKEUP
# fmt: off
INCIDENTS = (
    ("Đơn thư phản ánh lấn chiếm vỉa hè kinh doanh tại ngõ {n} phố {s}",
     "Complaints about traders occupying the pavement in Lane {n}, {s} Street"),
    ("Công trình xây dựng sai phép tại số {n} phố {s}",
     "Building work not matching its permit at No. {n} {s} Street"),
    ("Ngập úng cục bộ khi mưa lớn tại khu vực phố {s}",
     "Local flooding after heavy rain on {s} Street"),
    ("Tranh chấp lối đi chung giữa các hộ dân ngõ {n} phố {s}",
     "Dispute over a shared passage between households in Lane {n}, {s} Street"),
    ("Rác thải tập kết không đúng giờ, đúng nơi tại ngõ {n} phố {s}",
     "Waste left out at the wrong time and place in Lane {n}, {s} Street"),
)
RESOLUTION = (
    "Đã phối hợp với UBND phường và lực lượng chức năng kiểm tra, xử lý dứt điểm; "
    "trả lời công dân bằng văn bản.",
    "Inspected and settled with the ward People's Committee and the authorities; "
    "residents answered in writing.",
)
PLAN_SUMMARY = (
    "Kế hoạch thực hiện chuyên đề năm 2024 gắn với Chương trình số 01-CTr/QU; "
    "phân công cấp ủy viên phụ trách từng nội dung.",
    "Plan for the 2024 study tied to Programme No. 01-CTr/QU; a committee member is in charge of "
    "each item.",
)
SECOND_ROUND = (
    "Học tập đợt 2 cho đảng viên vắng mặt đợt 1.",
    "Second round for members absent from the first.",
)
SESSION_COMMENTS = (
    "Biên bản chưa ghi rõ số đảng viên vắng mặt và lý do; đề nghị bổ sung.",
    "Chưa đính kèm biên bản hội nghị có chữ ký của chủ trì; đề nghị bổ sung.",
    "Ngày tổ chức trong biên bản không khớp với ngày đã khai; đề nghị kiểm tra lại.",
)
PLAN_COMMENT = "Kế hoạch chưa nêu rõ lộ trình và phân công thực hiện; đề nghị bổ sung."
# fmt: on


def study_sessions(demo: DemoContext) -> dict[str, int]:
    rows = (s for unit in demo.reporting for s in _sessions(demo, unit))
    return {"study sessions": bulk(StudySession, rows)}


def implementation_plans(demo: DemoContext) -> dict[str, int]:
    return {"plans": bulk(ImplementationPlan, (p for u in demo.reporting for p in _plan(demo, u)))}


def incidents(demo: DemoContext) -> dict[str, int]:
    # An exact share of the committees rather than a coin per unit, so that even the 30
    # committees of the real district get believable numbers.
    committees = demo.committees
    chosen = demo.rng.sample(committees, round(len(committees) * 0.15))
    return {"incidents": bulk(Incident, (i for u in chosen for i in _incidents(demo, u)))}


def propaganda(demo: DemoContext) -> dict[str, int]:
    rows = (a for unit in demo.reporting for a in _propaganda(demo, unit))
    return {"propaganda activities": bulk(PropagandaActivity, rows)}


# fmt: off
PROPAGANDA_NOTES = (
    ("Phát thanh nội dung chuyên đề trên loa truyền thanh tổ dân phố vào sáng thứ Hai.",
     "Read the study's main points on the neighbourhood loudspeakers on Monday morning."),
    ("Cập nhật bảng tin khu dân cư với các tấm gương học tập và làm theo Bác.",
     "Updated the neighbourhood board with examples of people following Uncle Ho."),
    ("Đăng bài trên trang Zalo của chi bộ giới thiệu nội dung chuyên đề.",
     "Posted the study's content on the cell's Zalo page."),
    ("Lồng ghép tuyên truyền trong hội nghị nhân dân tổ dân phố.",
     "Covered the study during the residents' meeting."),
)
# fmt: on


def _propaganda(ctx: DemoContext, unit: Unit) -> Iterator[PropagandaActivity]:
    """Most units record one or two activities a quarter; about one in eight misses a quarter
    now and then, which the engine flags as "propaganda short"."""
    rng = ctx.rng
    channels = PropagandaActivity.Channel
    for month in (1, 4, 7, 10):
        start = max(date(2024, month, 1), ctx.campaign.starts_on)
        end = date(2024, month + 2, 28)
        count = 0 if rng.random() < 0.12 else rng.choice((1, 1, 2, 2, 3))
        for _ in range(count):
            day = start + timedelta(days=rng.randint(0, (end - start).days))
            note_vi, note_en = rng.choice(PROPAGANDA_NOTES)
            channel = rng.choice(
                (
                    channels.LOUDSPEAKER,
                    channels.NEWSLETTER_BOARD,
                    channels.WEBSITE,
                    channels.MEETING,
                )
            )
            yield PropagandaActivity(
                campaign=ctx.campaign, unit_id=unit.pk, held_on=day, channel=channel,
                audience=rng.randint(20, 60) * (10 if channel == channels.LOUDSPEAKER else 1),
                note_vi=note_vi, note_en=note_en,
                **ctx.stamps(unit.pk, ctx.status(0.85, 0.12),
                             day + timedelta(days=rng.randint(0, 4))),
            )  # fmt: skip


def _sessions(ctx: DemoContext, unit: Unit) -> Iterator[StudySession]:
    """~70% complete on time, ~10% late through a make-up session, ~8% accepted below the share,
    ~5% held but not yet accepted (submitted or returned), the rest not started."""
    rng, m = ctx.rng, unit.member_count
    # The attendance that makes the unit complete, rounded up as the selector compares.
    need = -(-m * ctx.campaign.required_study_share // 100)

    def session(
        day: date,
        expected: int,
        attendees: int,
        *,
        kind: str = REGULAR,
        status: str = ACCEPTED,
        notes: tuple[str, str] = ("", ""),
    ) -> StudySession:
        online = rng.random() < 0.1
        return StudySession(
            campaign=ctx.campaign, unit_id=unit.pk, held_on=day, kind=kind,
            format=StudySession.Format.ONLINE if online else StudySession.Format.IN_PERSON,
            presenter=ctx.officer(unit), members_expected=expected, attendees=attendees,
            notes_vi=notes[0], notes_en=notes[1],
            **ctx.stamps(unit.pk, status, day + timedelta(days=rng.randint(0, 3)),
                         rng.choice(SESSION_COMMENTS)),
        )  # fmt: skip

    def short_of(share: int) -> int:
        """An attendance from `share`% of the members up to just below `need`."""
        return rng.randint(min(max(1, m * share // 100), need - 1), need - 1)

    roll, first = rng.random(), date(2024, 3, rng.randint(4, 28))
    if roll < 0.70 and rng.random() < 0.6:
        yield session(first, m, rng.randint(need, m))
    elif roll < 0.70:  # two rounds in March, the second for those absent from the first
        a1 = short_of(75)
        yield session(first, m, a1)
        second = min(first + timedelta(days=rng.randint(3, 10)), date(2024, 3, 31))
        yield session(second, m - a1, rng.randint(need - a1, m - a1), notes=SECOND_ROUND)
    elif roll < 0.80:
        a1 = short_of(60)
        yield session(first, m, a1)
        day = date(2024, 4, 2) + timedelta(days=rng.randint(0, 55))
        yield session(day, m - a1, rng.randint(need - a1, m - a1), kind=MAKEUP)
    elif roll < 0.88:
        a1 = short_of(50)
        yield session(first, m, a1)
        if rng.random() < 0.5:  # the make-up is in, waiting for review or sent back
            status = RETURNED if rng.random() < 0.2 else SUBMITTED
            day = date(2024, 4, 8) + timedelta(days=rng.randint(0, 80))
            attendees = rng.randint(need - a1, m - a1)
            yield session(day, m - a1, attendees, kind=MAKEUP, status=status)
    elif roll < 0.93:
        yield session(first, m, rng.randint(need, m), status=rng.choice((SUBMITTED, RETURNED)))


def _plan(ctx: DemoContext, unit: Unit) -> Iterator[ImplementationPlan]:
    rng = ctx.rng
    if rng.random() >= 0.8:
        return
    issued = date(2024, 3, 5) + timedelta(days=rng.randint(0, 50))
    suffix = "CB" if unit.kind == K.PARTY_CELL else "ĐU"  # chi bộ / đảng ủy
    yield ImplementationPlan(
        campaign=ctx.campaign, unit_id=unit.pk, number=f"{rng.randint(1, 40)}-KH/{suffix}",
        issued_on=issued, programme=PROGRAMME_VI,
        summary_vi=PLAN_SUMMARY[0], summary_en=PLAN_SUMMARY[1],
        **ctx.stamps(unit.pk, ctx.status(0.85, 0.10), issued + timedelta(days=rng.randint(1, 5)),
                     PLAN_COMMENT),
    )  # fmt: skip


def _incidents(ctx: DemoContext, unit: Unit) -> Iterator[Incident]:
    """Most incidents are resolved; some were opened in October and are still open, which the
    deadline engine reports as stale."""
    rng = ctx.rng
    for _ in range(rng.randint(1, 3)):
        title_vi, title_en = rng.choice(INCIDENTS)
        street, lane = rng.choice(STREETS), rng.randint(2, 180)
        still_open = rng.random() < 0.35
        if still_open:
            opened, resolved, resolution = date(2024, 10, rng.randint(1, 25)), None, ("", "")
        else:
            opened = date(2024, 3, 1) + timedelta(days=rng.randint(0, 190))
            resolved, resolution = opened + timedelta(days=rng.randint(5, 40)), RESOLUTION
        yield Incident(
            campaign=ctx.campaign, unit_id=unit.pk, opened_on=opened, resolved_on=resolved,
            title_vi=title_vi.format(n=lane, s=street),
            title_en=title_en.format(n=lane, s=ascii_text(street)),
            severity=rng.choices(Incident.Severity.values, weights=(30, 50, 20))[0],
            owner=ctx.officer(unit), resolution_vi=resolution[0], resolution_en=resolution[1],
            **ctx.stamps(unit.pk, SUBMITTED if still_open else ACCEPTED,
                         opened + timedelta(days=rng.randint(0, 2))),
        )  # fmt: skip
