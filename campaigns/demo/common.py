"""What every part of the demo shares: the context a rule's demo builder receives (its own random
stream, the campaign, the units, who reports and who reviews) and small helpers."""

import itertools
import random
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Model

from units.models import REPORTING_KINDS, Unit
from units.models import UnitKind as K

from ..models import Campaign, Reviewable, ReviewStatus, search_title_of
from ..periods import review_overdue_from

BATCH = 2000
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ACCEPTED, SUBMITTED, RETURNED = ReviewStatus.ACCEPTED, ReviewStatus.SUBMITTED, ReviewStatus.RETURNED
# The district's Programme No. 01, to which every unit ties its implementation plan (R2).
PROGRAMME_VI = "Chương trình số 01-CTr/QU về công tác xây dựng Đảng giai đoạn 2020-2025"
# fmt: off
STREETS = (
    "Tây Sơn", "Thái Hà", "Chùa Bộc", "Phạm Ngọc Thạch", "Khâm Thiên", "Hào Nam", "Giảng Võ",
    "Nguyễn Lương Bằng", "Tôn Đức Thắng", "Xã Đàn", "Đặng Tiến Đông", "Hoàng Cầu",
    "Trần Quang Diệu", "Lương Định Của", "Quốc Tử Giám", "Văn Miếu", "Nguyễn Phúc Lai", "Vĩnh Hồ",
)
# fmt: on


def ascii_text(value: str) -> str:
    """Strips Vietnamese diacritics and keeps the case: "Đống Đa" -> "Dong Da"."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass
class DemoContext:
    """Handed to each rule's demo builder. `rng` is the rule's own stream (seeded from the seed
    and the rule's code), so one rule's data does not shift when another's changes."""

    rng: random.Random
    campaign: Campaign
    units: list[Unit]
    reviewer: int
    secretaries: dict[int, tuple[int, str]]

    @property
    def reporting(self) -> list[Unit]:
        return [u for u in self.units if u.kind in REPORTING_KINDS]

    @property
    def committees(self) -> list[Unit]:
        return [u for u in self.units if u.kind in (K.WARD_COMMITTEE, K.GRASSROOTS_COMMITTEE)]

    def stamps(self, unit_id: int, status: str, day: date, comment: str = "") -> dict:
        """Review fields: sent by the unit's secretary in office hours on `day`, reviewed by the
        district office a few days later (never after 2024)."""
        sent = datetime.combine(
            day, time(self.rng.randint(8, 16), self.rng.choice((0, 15, 30, 45))), TZ
        )
        reviewed = None
        if status != SUBMITTED:
            reviewed = sent + timedelta(days=self.rng.randint(1, 6), hours=self.rng.randint(0, 3))
            reviewed = max(sent, min(reviewed, datetime(2024, 12, 31, 17, 0, tzinfo=TZ)))
        return {
            "status": status,
            "submitted_at": sent,
            "review_overdue_from": review_overdue_from(sent, self.campaign.review_days),
            "reviewed_at": reviewed,
            "reviewed_by_id": self.reviewer if reviewed else None,
            "created_by_id": self.secretaries[unit_id][0],
            "review_comment": comment if status == RETURNED else "",
        }

    def status(self, accepted: float, submitted: float) -> str:
        roll = self.rng.random()
        return (
            ACCEPTED if roll < accepted else SUBMITTED if roll < accepted + submitted else RETURNED
        )

    def officer(self, unit: Unit) -> str:
        title = "Bí thư chi bộ" if unit.kind == K.PARTY_CELL else "Bí thư Đảng ủy"
        return f"Đ/c {self.secretaries[unit.pk][1]}, {title}"


def bulk(model: type[Model], rows: Iterable[Model]) -> int:
    """bulk_create from a generator, a batch at a time, so 100,000 units never hold every row."""
    count = 0
    for batch in itertools.batched(rows, BATCH):
        for row in batch:
            if isinstance(row, Reviewable):  # bulk_create skips save(), which folds the title
                row.search_title = search_title_of(row)
        model.objects.bulk_create(batch)
        count += len(batch)
    return count
