"""The unit page marks an escalated flag ("Đã báo cáo lên cấp ủy cấp trên ngày …") and a
committee's page lists the flags of its units raised to it, oldest first, at a fixed number of
queries."""

from datetime import date

import pytest

from campaigns.models import Flag, FlagKind
from tests.factories import UnitFactory


def raised(campaign, unit, kind=FlagKind.PLAN_MISSING, **steps) -> Flag:
    flag, _created = Flag.objects.get_or_create(
        campaign=campaign,
        unit=unit,
        kind=kind,
        subject="",
        closed_at__isnull=True,
        defaults={"opened_on": date(2024, 5, 1)},
    )
    Flag.objects.filter(pk=flag.pk).update(opened_on=date(2024, 5, 1), **steps)
    return flag


@pytest.fixture
def escalated(district, campaign):
    raised(campaign, district.cell, escalated_to_committee_on=date(2024, 5, 15))
    raised(campaign, district.ward, escalated_to_standing_on=date(2024, 5, 31))
    raised(campaign, district.sibling_cell, escalated_to_committee_on=date(2024, 5, 15))
    return district


def section(html: str) -> str:
    start = html.index('id="escalated-heading"')
    return html[start : html.index("</section>", start)]


def test_a_committees_page_lists_its_units_flags_raised_to_it(client, escalated, ward_secretary):
    client.force_login(ward_secretary)
    html = client.get("/vi/units/p-kim-lien/").text
    raised_here = section(html)
    assert "Cảnh báo của đơn vị trực thuộc đã báo cáo lên cấp ủy" in raised_here
    assert "Mở quá 14 ngày, cũ nhất trước." in raised_here
    assert "Chi bộ Tổ dân phố số 1" in raised_here
    assert "Đã báo cáo lên cấp ủy cấp trên ngày 15/05/2024" in raised_here
    assert "Khu dân cư số 2" not in raised_here  # the other ward's cell
    # The ward's own flag went straight to the Standing Committee.
    assert 'data-escalated="standing"' in html
    assert "Đã báo cáo lên Thường trực Quận ủy ngày 31/05/2024" in html


def test_in_english(client, escalated, ward_secretary):
    client.force_login(ward_secretary)
    html = client.get("/en/units/p-kim-lien/").text
    assert "Flags of the units below escalated to this committee" in section(html)
    assert "Escalated to the committee on 15/05/2024" in html
    assert "Escalated to the Standing Committee on 31/05/2024" in html


def test_a_cells_page_marks_its_own_flag_and_lists_nothing_raised(
    client, escalated, cell_secretary
):
    client.force_login(cell_secretary)
    html = client.get("/vi/units/p-kim-lien-cb01/").text
    assert 'id="escalated-heading"' not in html
    assert 'data-escalated="committee"' in html
    assert "Đã báo cáo lên cấp ủy cấp trên ngày 15/05/2024" in html


def test_nothing_escalated_no_section_and_no_mark(client, district, campaign, ward_secretary):
    raised(campaign, district.cell)
    client.force_login(ward_secretary)
    html = client.get("/vi/units/p-kim-lien/").text
    assert 'id="escalated-heading"' not in html
    assert "data-escalated=" not in html


def test_the_committees_page_costs_the_same_for_1_and_40_raised_flags(
    client, escalated, staff, campaign, django_assert_max_num_queries
):
    client.force_login(staff)
    client.get("/vi/units/p-kim-lien/")
    with django_assert_max_num_queries(40) as few:
        client.get("/vi/units/p-kim-lien/")
    for n in range(40):
        unit = UnitFactory(parent=escalated.ward, code=f"p-kim-lien-e{n:02d}")
        raised(campaign, unit, escalated_to_committee_on=date(2024, 5, 15))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/vi/units/p-kim-lien/").text
    assert section(html).count("data-escalated-flag=") == 20
