"""The demo district for `seed_demo`: the real Đống Đa tree, the 2024 campaign and a believable
spread of done, late and missing reports, optionally grown to N synthetic units for scale tests.

Everything comes from one `random.Random(seed)` drawn in a fixed order and from absolute 2024
dates, so the same arguments give the same rows on any day and on any database. Rows are written
with bulk_create (no save(), no signals, no history rows): the tree's materialized paths are
computed here, because add_child per node would take hours at 100,000 units.
"""

import itertools
import random
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.db.models.functions import Coalesce
from django.utils import translation

from breakthroughs.models import BreakthroughTask, Initiative, ProgressReport
from dongda.text import fold, nfc
from units.models import REPORTING_KINDS, Assignment, Role, Unit, User
from units.models import UnitKind as K
from units.models import UnitSector as S

from .models import (
    Campaign,
    DeadlineEngineRun,
    Flag,
    ImplementationPlan,
    Incident,
    ReviewStatus,
    StudySession,
    UnitStatus,
)
from .services.status import refresh_unit_status

DEFAULT_SEED = 2024
DEFAULT_PASSWORD = "dongda2024"  # noqa: S105 - the documented demo password
CAMPAIGN_CODE = "cd2024"
DEMO_LOGINS = ("vanphong", "staff-en", "thuongtruc")
BATCH = 2000
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ACCEPTED, SUBMITTED, RETURNED = ReviewStatus.ACCEPTED, ReviewStatus.SUBMITTED, ReviewStatus.RETURNED
REGULAR, MAKEUP = StudySession.Kind.REGULAR, StudySession.Kind.MAKEUP
# In an order that deletes them without breaking a foreign key (reports before their tasks).
REPORT_MODELS = (ProgressReport, BreakthroughTask, Initiative, StudySession, ImplementationPlan,
                 Incident)  # fmt: skip
PROGRAMME_VI = "Chương trình số 01-CTr/QU về công tác xây dựng Đảng giai đoạn 2020-2025"

# fmt: off
WARDS = (
    "Cát Linh", "Hàng Bột", "Khâm Thiên", "Khương Thượng", "Kim Liên", "Láng Hạ", "Láng Thượng",
    "Nam Đồng", "Ngã Tư Sở", "Ô Chợ Dừa", "Phương Liên", "Phương Mai", "Quang Trung",
    "Quốc Tử Giám", "Thịnh Quang", "Thổ Quan", "Trung Liệt", "Trung Phụng", "Trung Tự",
    "Văn Chương", "Văn Miếu",
)
# Party committees of district bodies and enterprises: (code, sector, name, English), then cells.
BODIES = (
    (("db-chinh-quyen", S.AGENCY, "Đảng bộ Cơ quan Chính quyền quận",
      "District Government Agencies Party Committee"), (
        ("Chi bộ Văn phòng HĐND - UBND quận", "District Council and Government Office Party Cell"),
        ("Chi bộ Phòng Tài chính - Kế hoạch", "Finance and Planning Division Party Cell"),
        ("Chi bộ Phòng Quản lý đô thị", "Urban Management Division Party Cell"),
        ("Chi bộ Phòng Lao động - Thương binh và Xã hội",
         "Labour, Invalids and Social Affairs Division Party Cell"),
        ("Chi bộ Thanh tra quận", "District Inspectorate Party Cell"))),
    (("db-dan-dang", S.AGENCY, "Đảng bộ Khối Dân - Đảng quận",
      "District Party and Mass Agencies Party Committee"), (
        ("Chi bộ Văn phòng Quận ủy", "District Party Committee Office Party Cell"),
        ("Chi bộ Ban Tổ chức - Ủy ban Kiểm tra Quận ủy",
         "Organisation Board and Inspection Committee Party Cell"),
        ("Chi bộ Ban Tuyên giáo - Ban Dân vận Quận ủy",
         "Propaganda and Mass Mobilisation Boards Party Cell"),
        ("Chi bộ Trung tâm Chính trị quận", "District Political Training Centre Party Cell"))),
    (("db-cong-an", S.POLICE, "Đảng bộ Công an quận", "District Police Party Committee"), (
        ("Chi bộ Đội Tham mưu - Tổng hợp", "Staff and General Affairs Team Party Cell"),
        ("Chi bộ Đội Cảnh sát điều tra tội phạm về trật tự xã hội",
         "Criminal Investigation Team Party Cell"),
        ("Chi bộ Đội Cảnh sát giao thông - trật tự", "Traffic and Order Police Team Party Cell"),
        ("Chi bộ Đội Cảnh sát phòng cháy, chữa cháy và cứu nạn, cứu hộ",
         "Fire and Rescue Police Team Party Cell"))),
    (("db-quan-su", S.MILITARY, "Đảng bộ Quân sự quận", "District Military Party Committee"), (
        ("Chi bộ Cơ quan Ban Chỉ huy Quân sự quận", "Military Command Headquarters Party Cell"),
        ("Chi bộ Trung đội dân quân cơ động", "Mobile Militia Platoon Party Cell"))),
    (("db-y-te", S.AGENCY, "Đảng bộ Trung tâm Y tế quận",
      "District Health Centre Party Committee"), (
        ("Chi bộ Khoa Kiểm soát bệnh tật", "Disease Control Department Party Cell"),
        ("Chi bộ Khối Trạm Y tế phường", "Ward Health Stations Party Cell"))),
    (("db-moi-truong", S.ENTERPRISE, "Đảng bộ Công ty Cổ phần Môi trường Đô thị Đống Đa",
      "Dong Da Urban Environment JSC Party Committee"), (
        ("Chi bộ Xí nghiệp Môi trường số 1", "Environment Unit No. 1 Party Cell"),
        ("Chi bộ Xí nghiệp Môi trường số 2", "Environment Unit No. 2 Party Cell"),
        ("Chi bộ Khối Văn phòng công ty", "Head Office Party Cell"))),
    (("db-thoat-nuoc", S.ENTERPRISE, "Đảng bộ Công ty TNHH MTV Thoát nước Đống Đa",
      "Dong Da Drainage Company Party Committee"), (
        ("Chi bộ Đội Thoát nước số 1", "Drainage Team No. 1 Party Cell"),
        ("Chi bộ Đội Thoát nước số 2", "Drainage Team No. 2 Party Cell"))),
    (("db-cho", S.ENTERPRISE, "Đảng bộ Công ty Cổ phần Quản lý chợ Đống Đa",
      "Dong Da Market Management JSC Party Committee"), (
        ("Chi bộ Ban Quản lý chợ Kim Liên", "Kim Lien Market Board Party Cell"),
        ("Chi bộ Ban Quản lý chợ Thái Hà", "Thai Ha Market Board Party Cell"),
        ("Chi bộ Ban Quản lý chợ Khâm Thiên", "Kham Thien Market Board Party Cell"))),
)
SCHOOL_LEVELS = {
    "THCS": "Lower Secondary School", "Tiểu học": "Primary School", "Mầm non": "Kindergarten",
}
SCHOOLS = (
    ("THCS", "Cát Linh"), ("Tiểu học", "Kim Liên"), ("THCS", "Láng Thượng"),
    ("Tiểu học", "Khương Thượng"), ("THCS", "Nguyễn Trường Tộ"), ("Tiểu học", "La Thành"),
    ("THCS", "Bế Văn Đàn"), ("Mầm non", "Quang Trung"),
)
# The Front and the socio-political organisations, with the new models (R4) each one runs.
MASS = (
    (("mttq", K.FATHERLAND_FRONT, "Ủy ban MTTQ Việt Nam quận Đống Đa",
      "Dong Da District Vietnam Fatherland Front Committee"), (
        ("Mô hình 'Khu dân cư tự quản về an ninh trật tự, vệ sinh môi trường'",
         "'Self-managed neighbourhood for order and sanitation' model"),
        ("Mô hình 'Tổ dân phố không rác thải nhựa'", "'Plastic-free residential group' model"))),
    (("quan-doan", K.SOCIO_POLITICAL, "Quận đoàn Đống Đa", "Dong Da District Youth Union"), (
        ("Mô hình 'Thanh niên với văn minh đô thị'", "'Youth for urban civility' model"),
        ("Mô hình 'Tổ công nghệ số cộng đồng'", "'Community digital technology team' model"))),
    (("hoi-phu-nu", K.SOCIO_POLITICAL, "Hội Liên hiệp Phụ nữ quận Đống Đa",
      "Dong Da District Women's Union"), (
        ("Mô hình 'Phụ nữ Đống Đa phân loại rác thải tại nguồn'",
         "'Dong Da women sort waste at source' model"),
        ("Mô hình 'Địa chỉ tin cậy' hỗ trợ phụ nữ, trẻ em bị bạo lực",
         "'Trusted address' model for women and children facing violence"))),
    (("hoi-ccb", K.SOCIO_POLITICAL, "Hội Cựu chiến binh quận Đống Đa",
      "Dong Da District Veterans' Association"), (
        ("Mô hình 'Cựu chiến binh gương mẫu giữ gìn trật tự đô thị'",
         "'Exemplary veterans keep urban order' model"),
        ("Câu lạc bộ 'Cựu chiến binh tuyên truyền pháp luật'", "'Veterans spread the law' club"))),
    (("ldld", K.SOCIO_POLITICAL, "Liên đoàn Lao động quận Đống Đa",
      "Dong Da District Labour Federation"), (
        ("Mô hình 'Mái ấm Công đoàn'", "'Trade Union shelter' model"),
        ("Mô hình 'Bữa ăn ca an toàn, đủ dinh dưỡng'", "'Safe and nutritious shift meals' model"))),
)
COMMITTEE_INITIATIVES = (
    ("Mô hình 'Tổ dân phố không rác thải nhựa'", "'Plastic-free residential group' model"),
    ("Mô hình 'Ngõ phố xanh - sạch - đẹp - văn minh'", "'Green, clean and civilised lane' model"),
    ("Mô hình 'Camera giám sát an ninh khu dân cư'", "'Neighbourhood security camera' model"),
    ("Mô hình 'Dân vận khéo' trong giải quyết thủ tục hành chính",
     "'Skilful mass mobilisation' in administrative procedures"),
    ("Mô hình 'Tủ sách pháp luật tổ dân phố'", "'Residential group law bookshelf' model"),
)
STREETS = (
    "Tây Sơn", "Thái Hà", "Chùa Bộc", "Phạm Ngọc Thạch", "Khâm Thiên", "Hào Nam", "Giảng Võ",
    "Nguyễn Lương Bằng", "Tôn Đức Thắng", "Xã Đàn", "Đặng Tiến Đông", "Hoàng Cầu",
    "Trần Quang Diệu", "Lương Định Của", "Quốc Tử Giám", "Văn Miếu", "Nguyễn Phúc Lai", "Vĩnh Hồ",
)
# Per field: (title, English title), (indicator, English indicator), target; {s} is a street.
TASKS = {
    "economy": (
        (("Chỉnh trang vỉa hè, lòng đường tuyến phố {s}",
          "Upgrade the pavements and carriageway of {s} Street"),
         ("Khối lượng chỉnh trang hoàn thành", "Upgrading work completed"), "100%"),
        (("Nâng cao tỷ lệ thu ngân sách trên địa bàn đạt trên 110% dự toán",
          "Raise local budget revenue to over 110% of the estimate"),
         ("Tỷ lệ thu ngân sách so với dự toán", "Revenue against the estimate"), "110%"),
        (("Vận động 100% hộ kinh doanh tuyến phố {s} kê khai, nộp thuế đúng quy định",
          "Get every household business on {s} Street to declare and pay tax properly"),
         ("Tỷ lệ hộ kinh doanh kê khai thuế", "Household businesses filing tax"), "100%"),
    ),
    "culture": (
        (("Xây dựng tuyến phố văn minh {s}", "Make {s} a civilised street"),
         ("Tuyến phố đạt chuẩn văn minh đô thị", "Street meets the civilised-street standard"),
         "Đạt chuẩn"),
        (("Xây dựng gia đình văn hóa, tổ dân phố văn hóa năm 2024 đạt trên 92%",
          "Over 92% of families and groups recognised as 'cultural' in 2024"),
         ("Tỷ lệ gia đình văn hóa", "Share of 'cultural families'"), "92%"),
        (("Tổ chức các hoạt động chào mừng 70 năm Ngày Giải phóng Thủ đô (10/10/1954 - 10/10/2024)",
          "Celebrate the 70th anniversary of the Liberation of the Capital (1954-2024)"),
         ("Số hoạt động được tổ chức", "Activities held"), "5"),
    ),
    "society": (
        (("Giảm 50% số hộ cận nghèo trên địa bàn",
          "Halve the number of near-poor households in the area"),
         ("Số hộ cận nghèo", "Near-poor households"), "-50%"),
        (("Nâng cao tỷ lệ người dân tham gia bảo hiểm y tế đạt 95%",
          "Raise health-insurance coverage to 95% of residents"),
         ("Tỷ lệ bao phủ bảo hiểm y tế", "Health-insurance coverage"), "95%"),
        (("Bảo đảm an ninh trật tự, không phát sinh tụ điểm tệ nạn xã hội trên tuyến phố {s}",
          "Keep order on {s} Street with no new hotspots of social evils"),
         ("Số tụ điểm tệ nạn phát sinh", "New hotspots"), "0"),
    ),
}
# Quarters reported on: period start, first day reports arrive, days they keep arriving,
# percent range, narrative and its English.
PERIODS = (
    (date(2024, 4, 1), date(2024, 7, 1), 12, (15, 40),
     "Đã xây dựng kế hoạch chi tiết, phân công đảng viên phụ trách; hoàn thành {p}% khối lượng.",
     "Detailed plan drawn up and party members assigned; {p}% of the work done."),
    (date(2024, 7, 1), date(2024, 10, 1), 12, (45, 75),
     "Triển khai đồng bộ các giải pháp, tuyên truyền tới nhân dân; hoàn thành {p}% khối lượng.",
     "Measures under way and explained to residents; {p}% of the work done."),
    (date(2024, 10, 1), date(2024, 12, 16), 10, (80, 100),
     "Cơ bản hoàn thành nhiệm vụ, đạt {p}% chỉ tiêu đề ra; tiếp tục duy trì kết quả.",
     "Task essentially complete, {p}% of the target met; results being sustained."),
)
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
RESULTS = (
    "Mô hình duy trì hiệu quả, được nhân dân đồng tình hưởng ứng; đề xuất nhân rộng.",
    "The model works well and residents welcome it; proposed for wider roll-out.",
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
TASK_COMMENT = "Nhiệm vụ chưa có chỉ tiêu định lượng cụ thể; đề nghị xác định rõ chỉ tiêu."
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương")
MIDDLE = ("Văn", "Thị", "Đức", "Thu", "Minh", "Thanh", "Quang", "Ngọc", "Hữu", "Hồng")
GIVEN = ("Hùng", "Lan", "Hương", "Tuấn", "Hà", "Dũng", "Mai", "Thắng", "Hoa", "Nam", "Trang",
         "Sơn", "Linh", "Cường", "Yến", "Hải")
# fmt: on


class DemoDataExists(Exception):
    """The database already holds units or demo accounts, and no reset was asked for."""


@dataclass(slots=True)
class Node:
    code: str
    name_vi: str
    name_en: str
    kind: str
    sector: str
    members: int
    parent: int | None  # index in the node list; a parent always comes before its children


@dataclass
class Summary:
    counts: dict[str, int]
    sample_logins: list[str]


def ascii_text(value: str) -> str:
    """Strips Vietnamese diacritics and keeps the case: "Đống Đa" -> "Dong Da"."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slug(value: str) -> str:
    # Django's slugify drops "đ" instead of mapping it to "d".
    return "-".join(ascii_text(value).lower().split())


def seed_demo(
    *,
    units: int | None = None,
    seed: int = DEFAULT_SEED,
    password: str = DEFAULT_PASSWORD,
    reset: bool = False,
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
        ctx = _Ctx(rng, create_campaign(), reviewer, secretaries)
        reporting = [u for u in tree if u.kind in REPORTING_KINDS]
        sessions = _bulk(StudySession, (s for u in reporting for s in _sessions(ctx, u)))
        plans = _bulk(ImplementationPlan, (p for u in reporting for p in _plan(ctx, u)))
        # A list, not a generator: the progress reports need the tasks' primary keys.
        tasks = [t for u in reporting for t in _tasks(ctx, u)]
        BreakthroughTask.objects.bulk_create(tasks, batch_size=BATCH)
        reports = _bulk(ProgressReport, (r for t in tasks for r in _reports(ctx, t)))
        # Exact shares of the committees rather than a coin per unit, so that even the 30
        # committees of the real district get believable numbers.
        committees = [u for u in tree if u.kind in (K.WARD_COMMITTEE, K.GRASSROOTS_COMMITTEE)]
        mass = [u for u in tree if u.kind in (K.FATHERLAND_FRONT, K.SOCIO_POLITICAL)]
        with_models = mass + rng.sample(committees, round(len(committees) * 0.3))
        with_incidents = rng.sample(committees, round(len(committees) * 0.15))
        models = _bulk(Initiative, (i for u in with_models for i in _initiatives(ctx, u)))
        incidents = _bulk(Incident, (i for u in with_incidents for i in _incidents(ctx, u)))
        _backdate(ctx.campaign)
        refresh_unit_status(ctx.campaign)
    counts = {
        "units": len(tree), "users": users, "study sessions": sessions, "plans": plans,
        "breakthrough tasks": len(tasks), "progress reports": reports, "new models": models,
        "incidents": incidents,
    }  # fmt: skip
    return Summary(counts, [f"bt-{u.code}" for u in tree[1:3]])


def wipe_demo_data() -> None:
    """Deletes every campaign, report, flag, assignment and unit, and every user except the
    superusers that are not demo logins (a developer's own admin account survives a reset)."""
    for model in REPORT_MODELS:
        # Raw DELETE: the ORM would load each row to send post_delete, on which simple_history
        # writes a "deleted" history row per report; that takes minutes at 100,000 units.
        for table in (model.history.model._meta.db_table, model._meta.db_table):
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
    Flag.objects.all().delete()
    UnitStatus.objects.all().delete()
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


def build_tree(*, rng: random.Random, total: int | None) -> list[Node]:
    """The real district; a `total` below its size keeps its first `total` nodes (root first, each
    ward followed by its cells), a larger one adds synthetic committees up to exactly `total`."""
    nodes: list[Node] = []

    def add(
        code: str, vi: str, en: str, kind: str, sector: str, members: int, parent: int = 0
    ) -> int:
        nodes.append(Node(code, vi, en, kind, sector, members, parent))
        return len(nodes) - 1

    nodes.append(Node("dongda", "Quận ủy Đống Đa", "Dong Da District Party Committee", K.DISTRICT,
                      S.AGENCY, 45, None))  # fmt: skip
    for ward in WARDS:
        code, ward_en = f"p-{slug(ward)}", ascii_text(ward)
        w = add(code, f"Đảng bộ phường {ward}", f"{ward_en} Ward Party Committee",
                K.WARD_COMMITTEE, S.RESIDENTIAL, rng.randint(9, 15))  # fmt: skip
        # Wards name their cells after residential groups (tổ dân phố) or areas (khu dân cư).
        vi, en = (
            ("Tổ dân phố", "Residential Group")
            if rng.random() < 0.7
            else ("khu dân cư", "Residential Area")
        )
        for i in range(1, rng.randint(6, 12) + 1):
            add(f"{code}-cb{i:02d}", f"Chi bộ {vi} số {i}", f"{en} No. {i} Party Cell",
                K.PARTY_CELL, S.RESIDENTIAL, rng.randint(15, 120), w)  # fmt: skip
    for (code, sector, vi, en), cells in BODIES:
        b = add(code, vi, en, K.GRASSROOTS_COMMITTEE, sector, rng.randint(9, 15))
        for i, (cell_vi, cell_en) in enumerate(cells, 1):
            add(f"{code}-cb{i:02d}", cell_vi, cell_en, K.PARTY_CELL, sector, rng.randint(8, 40), b)
    for level, place in SCHOOLS:
        add(f"cb-{slug(level)}-{slug(place)}", f"Chi bộ Trường {level} {place}",
            f"{ascii_text(place)} {SCHOOL_LEVELS[level]} Party Cell", K.PARTY_CELL, S.SCHOOL,
            rng.randint(8, 30))  # fmt: skip
    for (code, kind, vi, en), _ in MASS:
        add(code, vi, en, kind, S.MASS, rng.randint(5, 12))
    if total is None or total <= len(nodes):
        return nodes[:total]
    number = 0
    while len(nodes) < total:
        number += 1
        code = f"s-{number:04d}"
        sector = rng.choice((S.RESIDENTIAL, S.AGENCY, S.SCHOOL, S.ENTERPRISE))
        c = add(code, f"Đảng bộ cơ sở số {number}", f"Grassroots Party Committee No. {number}",
                K.GRASSROOTS_COMMITTEE, sector, rng.randint(9, 15))  # fmt: skip
        for i in range(1, min(rng.randint(5, 30), total - len(nodes)) + 1):
            add(f"{code}-cb{i:03d}", f"Chi bộ số {i} - ĐBCS {number}",
                f"Party Cell No. {i} - GPC {number}", K.PARTY_CELL, sector,
                rng.randint(10, 80), c)  # fmt: skip
    return nodes


def _step(number: int) -> str:
    """One treebeard path step: `number` in Unit.alphabet, padded to Unit.steplen."""
    digits = ""
    while number:
        number, digit = divmod(number, len(Unit.alphabet))
        digits = Unit.alphabet[digit] + digits
    return digits.rjust(Unit.steplen, Unit.alphabet[0])


def create_units(*, nodes: list[Node]) -> list[Unit]:
    """Writes the tree with the paths, depths and child counts treebeard's add_child would give."""
    paths: list[str] = []
    numchild = [0] * len(nodes)
    for node in nodes:
        if node.parent is None:
            paths.append(_step(1))
        else:
            numchild[node.parent] += 1
            paths.append(paths[node.parent] + _step(numchild[node.parent]))
    units = []
    for node, path, children in zip(nodes, paths, numchild, strict=True):
        name_vi = nfc(node.name_vi)
        units.append(
            Unit(path=path, depth=len(path) // Unit.steplen, numchild=children, code=node.code,
                 name=name_vi, name_vi=name_vi, name_en=nfc(node.name_en),
                 search_name=fold(name_vi), kind=node.kind, sector=node.sector,
                 member_count=node.members)
        )  # fmt: skip
    return Unit.objects.bulk_create(units, batch_size=BATCH)


def create_users(
    *, rng: random.Random, units: list[Unit], password: str
) -> tuple[int, dict[int, tuple[int, str]], int]:
    """The district logins on the root and one secretary per other unit. Returns the reviewer's
    pk, {unit pk: (secretary pk, secretary name)} and the number of users."""
    hashed = make_password(password)  # once: hashing per user would take minutes at scale
    joined = datetime(2024, 2, 20, 8, 0, tzinfo=TZ)

    def user(username: str, name: str, *, staff: bool = False, language: str = "vi") -> User:
        # first_name is the given name (tên), last_name the family and middle names (họ và đệm);
        # User.get_full_name puts them in Vietnamese order.
        family_middle, given = name.rsplit(" ", 1)
        return User(username=username, password=hashed, first_name=given, last_name=family_middle,
                    email=f"{username}@dongda.example", language=language, is_staff=staff,
                    is_superuser=staff, date_joined=joined)  # fmt: skip

    district = [
        (user("vanphong", "Nguyễn Thị Thu Hà", staff=True), Role.DISTRICT_STAFF),
        (user("staff-en", "Trần Minh Đức", staff=True, language="en"), Role.DISTRICT_STAFF),
        (user("thuongtruc", "Lê Văn Thắng"), Role.STANDING_COMMITTEE),
    ]
    names = [f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}" for _ in units[1:]]
    secretaries = [
        user(f"bt-{unit.code}", name) for unit, name in zip(units[1:], names, strict=True)
    ]
    User.objects.bulk_create([u for u, _ in district] + secretaries, batch_size=BATCH)
    assignments = [Assignment(user_id=u.pk, unit_id=units[0].pk, role=role) for u, role in district]
    assignments += [
        Assignment(user_id=s.pk, unit_id=unit.pk, role=Role.SECRETARY)
        for s, unit in zip(secretaries, units[1:], strict=True)
    ]
    Assignment.objects.bulk_create(assignments, batch_size=BATCH)
    by_unit = {u.pk: (s.pk, name) for u, s, name in zip(units[1:], secretaries, names, strict=True)}
    return district[0][0].pk, by_unit, len(district) + len(secretaries)


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
        linked_programme_vi=PROGRAMME_VI,
        linked_programme_en="Programme No. 01-CTr/QU on Party building, 2020-2025",
    )


@dataclass
class _Ctx:
    rng: random.Random
    campaign: Campaign
    reviewer: int
    secretaries: dict[int, tuple[int, str]]

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


def _sessions(ctx: _Ctx, unit: Unit) -> Iterator[StudySession]:
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


def _plan(ctx: _Ctx, unit: Unit) -> Iterator[ImplementationPlan]:
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


def _tasks(ctx: _Ctx, unit: Unit) -> Iterator[BreakthroughTask]:
    rng = ctx.rng
    if rng.random() >= 0.75:
        return
    for field in rng.sample(sorted(TASKS), 1 if rng.random() < 0.7 else 2):
        (title_vi, title_en), (indicator_vi, indicator_en), target = rng.choice(TASKS[field])
        street = rng.choice(STREETS)
        # Most units chose in April, before the deadline; one in ten in May.
        chosen = date(2024, 5 if rng.random() < 0.1 else 4, rng.randint(1, 28))
        due = rng.choice((date(2024, 9, 30), date(2024, 11, 30), date(2024, 12, 31)))
        yield BreakthroughTask(
            campaign=ctx.campaign, unit_id=unit.pk, field=field, target=target, due_on=due,
            title_vi=title_vi.format(s=street), title_en=title_en.format(s=ascii_text(street)),
            indicator_vi=indicator_vi, indicator_en=indicator_en, owner=ctx.officer(unit),
            **ctx.stamps(unit.pk, ctx.status(0.85, 0.10), chosen, TASK_COMMENT),
        )  # fmt: skip


def _reports(ctx: _Ctx, task: BreakthroughTask) -> Iterator[ProgressReport]:
    """Accepted tasks report each quarter up to their due date; some stop early (missing reports)
    and the latest report is sometimes still waiting for review."""
    rng = ctx.rng
    if task.status != ACCEPTED:
        return
    periods = [p for p in PERIODS[: rng.choice((0, 1, 2, 2, 3, 3, 3, 3))] if p[0] <= task.due_on]
    for index, (start, first_day, spread, (low, high), vi, en) in enumerate(periods):
        percent = rng.randint(low, high)
        status = SUBMITTED if index == len(periods) - 1 and rng.random() < 0.25 else ACCEPTED
        yield ProgressReport(
            task_id=task.pk, unit_id=task.unit_id, period_start=start, percent=percent,
            narrative_vi=vi.format(p=percent), narrative_en=en.format(p=percent),
            **ctx.stamps(task.unit_id, status, first_day + timedelta(days=rng.randint(0, spread))),
        )  # fmt: skip


def _initiatives(ctx: _Ctx, unit: Unit) -> Iterator[Initiative]:
    rng = ctx.rng
    chosen = next((models for (code, *_), models in MASS if code == unit.code), None)
    if chosen is None:
        chosen = rng.sample(COMMITTEE_INITIATIVES, rng.choice((1, 1, 2)))
    for name_vi, name_en in chosen:
        started = date(2024, 3, 15) + timedelta(days=rng.randint(0, 150))
        stage = rng.choices(Initiative.Stage.values, weights=(15, 55, 30))[0]
        done = stage == Initiative.Stage.COMPLETED
        yield Initiative(
            campaign=ctx.campaign, unit_id=unit.pk, name_vi=name_vi, name_en=name_en,
            started_on=started, stage=stage,
            results_vi=RESULTS[0] if done else "", results_en=RESULTS[1] if done else "",
            **ctx.stamps(unit.pk, ctx.status(0.8, 0.2),
                         started + timedelta(days=rng.randint(1, 10))),
        )  # fmt: skip


def _incidents(ctx: _Ctx, unit: Unit) -> Iterator[Incident]:
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


def _bulk(model: type[Model], rows: Iterable[Model]) -> int:
    """bulk_create from a generator, a batch at a time, so 100,000 units never hold every row."""
    count = 0
    for batch in itertools.batched(rows, BATCH):
        model.objects.bulk_create(batch)
        count += len(batch)
    return count


def _backdate(campaign: Campaign) -> None:
    """created_at and updated_at are auto_now(_add), so bulk_create stamped them with today; move
    them to the 2024 moments the rows describe, so the data does not depend on when it is loaded."""
    stamps = {
        "created_at": F("submitted_at"),
        "updated_at": Coalesce(F("reviewed_at"), F("submitted_at")),
    }
    for model in REPORT_MODELS:
        campaign_of = "task__campaign" if model is ProgressReport else "campaign"
        model.objects.filter(**{campaign_of: campaign}).update(**stamps)
