"""Demo rows for R3 and R4: breakthrough tasks and their quarterly progress reports, and the new
models of the committees, the Front and the mass organisations. Named by the rules in
`breakthroughs.rules` and called by `seed_demo`."""

from collections.abc import Iterator
from datetime import date, timedelta

from campaigns.demo.common import ACCEPTED, STREETS, SUBMITTED, DemoContext, ascii_text, bulk
from campaigns.models import search_title_of
from units.models import Unit
from units.models import UnitKind as K

from .models import BreakthroughTask, Initiative, ProgressReport

# fmt: off
# The new models the Front and each mass organisation run (their units: campaigns/demo/district.py).
MASS_MODELS = {
    "mttq": (
        ("Mô hình 'Khu dân cư tự quản về an ninh trật tự, vệ sinh môi trường'",
         "'Self-managed neighbourhood for order and sanitation' model"),
        ("Mô hình 'Tổ dân phố không rác thải nhựa'", "'Plastic-free residential group' model")),
    "quan-doan": (
        ("Mô hình 'Thanh niên với văn minh đô thị'", "'Youth for urban civility' model"),
        ("Mô hình 'Tổ công nghệ số cộng đồng'", "'Community digital technology team' model")),
    "hoi-phu-nu": (
        ("Mô hình 'Phụ nữ Đống Đa phân loại rác thải tại nguồn'",
         "'Dong Da women sort waste at source' model"),
        ("Mô hình 'Địa chỉ tin cậy' hỗ trợ phụ nữ, trẻ em bị bạo lực",
         "'Trusted address' model for women and children facing violence")),
    "hoi-ccb": (
        ("Mô hình 'Cựu chiến binh gương mẫu giữ gìn trật tự đô thị'",
         "'Exemplary veterans keep urban order' model"),
        ("Câu lạc bộ 'Cựu chiến binh tuyên truyền pháp luật'", "'Veterans spread the law' club")),
    "ldld": (
        ("Mô hình 'Mái ấm Công đoàn'", "'Trade Union shelter' model"),
        ("Mô hình 'Bữa ăn ca an toàn, đủ dinh dưỡng'", "'Safe and nutritious shift meals' model")),
}
COMMITTEE_INITIATIVES = (
    ("Mô hình 'Tổ dân phố không rác thải nhựa'", "'Plastic-free residential group' model"),
    ("Mô hình 'Ngõ phố xanh - sạch - đẹp - văn minh'", "'Green, clean and civilised lane' model"),
    ("Mô hình 'Camera giám sát an ninh khu dân cư'", "'Neighbourhood security camera' model"),
    ("Mô hình 'Dân vận khéo' trong giải quyết thủ tục hành chính",
     "'Skilful mass mobilisation' in administrative procedures"),
    ("Mô hình 'Tủ sách pháp luật tổ dân phố'", "'Residential group law bookshelf' model"),
)
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
RESULTS = (
    "Mô hình duy trì hiệu quả, được nhân dân đồng tình hưởng ứng; đề xuất nhân rộng.",
    "The model works well and residents welcome it; proposed for wider roll-out.",
)
TASK_COMMENT = "Nhiệm vụ chưa có chỉ tiêu định lượng cụ thể; đề nghị xác định rõ chỉ tiêu."
# fmt: on


def tasks_and_reports(demo: DemoContext) -> dict[str, int]:
    # A list, not a generator: the progress reports need the tasks' primary keys.
    tasks = [t for unit in demo.reporting for t in _tasks(demo, unit)]
    for task in tasks:  # bulk_create skips save(), which folds the title for the queue's search
        task.search_title = search_title_of(task)
    BreakthroughTask.objects.bulk_create(tasks, batch_size=2000)
    reports = bulk(ProgressReport, (r for t in tasks for r in _reports(demo, t)))
    return {"breakthrough tasks": len(tasks), "progress reports": reports}


def initiatives(demo: DemoContext) -> dict[str, int]:
    # Every mass organisation, and an exact share of the committees rather than a coin per unit,
    # so that even the 30 committees of the real district get believable numbers.
    committees = demo.committees
    mass = [u for u in demo.units if u.kind in (K.FATHERLAND_FRONT, K.SOCIO_POLITICAL)]
    chosen = mass + demo.rng.sample(committees, round(len(committees) * 0.3))
    return {"new models": bulk(Initiative, (i for u in chosen for i in _initiatives(demo, u)))}


def _tasks(ctx: DemoContext, unit: Unit) -> Iterator[BreakthroughTask]:
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


def _reports(ctx: DemoContext, task: BreakthroughTask) -> Iterator[ProgressReport]:
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


def _initiatives(ctx: DemoContext, unit: Unit) -> Iterator[Initiative]:
    rng = ctx.rng
    chosen = MASS_MODELS.get(unit.code)
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
