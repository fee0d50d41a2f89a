"""The Đống Đa district for the demo: the real tree (21 wards, the district bodies, schools, the
Front and the mass organisations), optionally grown to N synthetic units, written in bulk with
the paths treebeard would give, and one secretary per unit."""

import random
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.hashers import make_password

from dongda.text import fold, nfc
from units.models import Assignment, Role, Unit, User
from units.models import UnitKind as K
from units.models import UnitSector as S

from .common import BATCH, TZ, ascii_text

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
# The Front and the socio-political organisations (their new models: breakthroughs/demo.py).
MASS = (
    ("mttq", K.FATHERLAND_FRONT, "Ủy ban MTTQ Việt Nam quận Đống Đa",
     "Dong Da District Vietnam Fatherland Front Committee"),
    ("quan-doan", K.SOCIO_POLITICAL, "Quận đoàn Đống Đa", "Dong Da District Youth Union"),
    ("hoi-phu-nu", K.SOCIO_POLITICAL, "Hội Liên hiệp Phụ nữ quận Đống Đa",
     "Dong Da District Women's Union"),
    ("hoi-ccb", K.SOCIO_POLITICAL, "Hội Cựu chiến binh quận Đống Đa",
     "Dong Da District Veterans' Association"),
    ("ldld", K.SOCIO_POLITICAL, "Liên đoàn Lao động quận Đống Đa",
     "Dong Da District Labour Federation"),
)
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương")
MIDDLE = ("Văn", "Thị", "Đức", "Thu", "Minh", "Thanh", "Quang", "Ngọc", "Hữu", "Hồng")
GIVEN = ("Hùng", "Lan", "Hương", "Tuấn", "Hà", "Dũng", "Mai", "Thắng", "Hoa", "Nam", "Trang",
         "Sơn", "Linh", "Cường", "Yến", "Hải")
# fmt: on


@dataclass(slots=True)
class Node:
    code: str
    name_vi: str
    name_en: str
    kind: str
    sector: str
    members: int
    parent: int | None  # index in the node list; a parent always comes before its children


def slug(value: str) -> str:
    # Django's slugify drops "đ" instead of mapping it to "d".
    return "-".join(ascii_text(value).lower().split())


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
    for code, kind, vi, en in MASS:
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

    def user(username: str, name: str, *, admin: bool = False, language: str = "vi") -> User:
        # first_name is the given name (tên), last_name the family and middle names (họ và đệm);
        # User.get_full_name puts them in Vietnamese order.
        family_middle, given = name.rsplit(" ", 1)
        return User(username=username, password=hashed, first_name=given, last_name=family_middle,
                    email=f"{username}@dongda.example", language=language, is_staff=admin,
                    is_superuser=admin, date_joined=joined)  # fmt: skip

    # Roles, not Django's flags, give the app's pages: staff-en reviews and exports as the office
    # does without the administration. vanphong alone has it, as the demo's one administrator: a
    # superuser, since looking after accounts there (PRODUCT.md) means changing users, and in
    # Django whoever may change users may make anyone a superuser anyway.
    district = [
        (user("vanphong", "Nguyễn Thị Thu Hà", admin=True), Role.DISTRICT_STAFF),
        (user("staff-en", "Trần Minh Đức", language="en"), Role.DISTRICT_STAFF),
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
