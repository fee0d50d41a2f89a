"""The unit table's search, sorts and count: what the search finds (diacritics and case ignored,
the English name, the code, needles too short for an index, `%` and `_` taken literally), the
order of each sort, the total read from the rollups or counted up to a cap, and, on PostgreSQL,
the trigram indexes that serve the search (migration units 0005)."""

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from campaigns.dashboard import selectors
from campaigns.dashboard.selectors import (
    TableFilters,
    TablePaginator,
    statuses_in_scope,
    table_total,
    unit_table,
    units_matching,
)
from campaigns.engine.status import refresh_unit_status
from tests.conftest import require
from tests.factories import UnitFactory, UserFactory, assign
from units.models import Role

pytestmark = pytest.mark.django_db


def found(q: str) -> list[str]:
    return sorted(units_matching(q).values_list("code", flat=True))


@pytest.mark.parametrize(
    "q", ["dong da", "ĐỐNG ĐA", "Đống Đa", "đống đa", "Đông Đà", "QUAN UY DONG"]
)
def test_the_vietnamese_name_is_found_whatever_its_diacritics_and_case(district, q):
    assert found(q) == ["dongda"]


def test_words_anywhere_in_the_name_are_found(district):
    assert found("to dan pho so 1") == ["p-kim-lien-cb01"]
    assert found("Tổ dân phố số 1") == ["p-kim-lien-cb01"]
    assert found("phuong") == ["p-kim-lien", "p-van-mieu"]
    assert found("phường văn") == ["p-van-mieu"]


def test_the_english_name_is_found_whatever_its_case(district):
    assert found("WARD party") == ["p-kim-lien", "p-van-mieu"]
    assert found("residential group") == ["p-kim-lien-cb01"]
    assert found("Dong Da District") == ["dongda"]


def test_a_code_is_found_whole(district):
    assert found("p-van-mieu-cb01") == ["p-van-mieu-cb01"]
    assert found("p-kim-lien") == ["p-kim-lien"]
    assert found("van-mieu") == []  # a code is not searched for its parts


def test_needles_too_short_for_the_index_still_find(district):
    assert found("1") == ["p-kim-lien-cb01"]
    assert found("2") == ["p-van-mieu-cb01"]
    assert found("Số") == ["p-kim-lien-cb01", "p-van-mieu-cb01"]
    assert found("yd") == []


def test_percent_and_underscore_are_taken_literally(district):
    UnitFactory(
        parent=district.ward, code="p-kim-lien-to-5a", name_vi="Chi bộ Tổ 5_A", name_en="Cell 5_A"
    )
    UnitFactory(
        parent=district.ward, code="p-kim-lien-dat", name_vi="Chi bộ đạt 100%", name_en="Cell 100%"
    )
    # As wildcards, each of these would match names above.
    assert found("so_1") == []
    assert found("s_") == []
    assert found("to%1") == []
    assert found("%") == ["p-kim-lien-dat"]
    assert found("10%") == []
    assert found("_") == ["p-kim-lien-to-5a"]
    assert found("5_a") == ["p-kim-lien-to-5a"]
    assert found("100%") == ["p-kim-lien-dat"]
    assert found("\\") == []


def _table(user, campaign, query: str, root=None) -> list[str]:
    rows = unit_table(
        statuses_in_scope(user=user, campaign=campaign, root=root),
        TableFilters.from_query(QueryDict(query)),
    )
    return [row.unit.code for row in rows]


def test_the_table_filter_is_the_search_within_the_scope(district, campaign, staff):
    refresh_unit_status(campaign)
    assert _table(staff, campaign, "q=residential+group") == ["p-kim-lien-cb01"]
    assert _table(staff, campaign, "q=p-van-mieu-cb01") == ["p-van-mieu-cb01"]
    assert _table(staff, campaign, "q=phuong") == ["p-kim-lien", "p-van-mieu"]
    secretary = assign(UserFactory(), district.ward, Role.SECRETARY)
    assert _table(secretary, campaign, "q=phuong") == ["p-kim-lien"]
    assert _table(secretary, campaign, "q=p-van-mieu-cb01") == []


def test_each_sort_orders_the_rows_and_ties_follow_the_tree(district, campaign, staff):
    # The same name as the Kim Liên cell, further down the tree.
    UnitFactory(
        parent=district.sibling_ward,
        code="p-van-mieu-cb03",
        name_vi="Chi bộ Tổ dân phố số 1",
        member_count=40,
    )
    refresh_unit_status(campaign)
    tree = ["dongda", "p-kim-lien", "p-kim-lien-cb01", "p-van-mieu", "p-van-mieu-cb01"]
    tree.append("p-van-mieu-cb03")
    assert _table(staff, campaign, "") == tree
    assert _table(staff, campaign, "sort=tree") == tree
    assert _table(staff, campaign, "sort=name") == [
        "p-van-mieu-cb01",  # chi bo khu dan cu so 2
        "p-kim-lien-cb01",  # chi bo to dan pho so 1, first in the tree
        "p-van-mieu-cb03",
        "p-kim-lien",  # dang bo phuong kim lien
        "p-van-mieu",
        "dongda",  # quan uy dong da
    ]
    assert _table(staff, campaign, "sort=-name") == [
        "dongda",
        "p-van-mieu",
        "p-kim-lien",
        "p-kim-lien-cb01",
        "p-van-mieu-cb03",
        "p-van-mieu-cb01",
    ]
    assert _table(staff, campaign, "sort=members") == [
        "p-kim-lien-cb01",  # 40
        "p-van-mieu-cb03",  # 40
        "p-van-mieu-cb01",  # 30
        "p-kim-lien",  # 12
        "p-van-mieu",  # 10
        "dongda",  # 0
    ]
    # Nobody has studied: the attendance and the flags tie, and the tree decides.
    assert _table(staff, campaign, "sort=coverage") == tree
    assert _table(staff, campaign, "sort=-flags") == tree


def test_the_total_comes_from_the_rollups_when_they_know_it(district, campaign, staff):
    refresh_unit_status(campaign)
    secretary = assign(UserFactory(), district.ward, Role.SECRETARY)
    cell_secretary = assign(UserFactory(), district.cell, Role.SECRETARY)
    views = [
        (staff, None, ""),
        (staff, None, "kind=party_cell"),
        (staff, None, "kind=ward_committee&sort=name"),
        (staff, district.ward, ""),
        (staff, district.ward, "kind=party_cell"),
        (staff, district.root, "kind=district"),
        (secretary, None, ""),
        (secretary, None, "kind=party_cell"),
    ]
    for user, root, query in views:
        filters = TableFilters.from_query(QueryDict(query))
        total = table_total(user=user, campaign=campaign, root=root, filters=filters)
        assert total == len(_table(user, campaign, query, root=root)), (user, root, query)
    # Anything else is counted: a search, a state, a smaller subtree.
    for user, root, query in [
        (staff, None, "q=phuong"),
        (staff, None, "study=not_started"),
        (staff, None, "kind=party_cell&flag=any"),
        (cell_secretary, None, ""),
    ]:
        filters = TableFilters.from_query(QueryDict(query))
        assert table_total(user=user, campaign=campaign, root=root, filters=filters) is None


def test_a_count_past_the_cap_stops_there_and_so_do_the_pages(
    district, campaign, staff, monkeypatch
):
    for number in range(4):
        UnitFactory(parent=district.sibling_ward, code=f"p-van-mieu-x{number}")
    refresh_unit_status(campaign)
    monkeypatch.setattr(selectors, "TABLE_COUNT_CAP", 3)
    rows = unit_table(
        statuses_in_scope(user=staff, campaign=campaign),
        TableFilters.from_query(QueryDict("kind=party_cell")),
    )
    paginator = TablePaginator(rows, 2, total=None)
    with CaptureQueriesContext(connection) as queries:
        page = paginator.get_page(99)
        codes = [row.unit.code for row in page.object_list]
    assert len(queries) == 2  # the capped count, the page
    assert "LIMIT" in queries[0]["sql"].upper()
    assert paginator.count == 4 and paginator.more_than_cap  # 6 cells, counted up to 3 + 1
    assert paginator.num_pages == 2 and page.number == 2 and not page.has_next()
    assert codes == ["p-van-mieu-x0"]  # the third cell in the tree, the last one listed
    # A known total past the cap lists the same window.
    paginator = TablePaginator(rows, 2, total=6)
    assert paginator.count == 6 and paginator.more_than_cap and paginator.num_pages == 2


def test_the_page_says_when_it_lists_only_the_first_rows(
    client, district, campaign, staff, monkeypatch
):
    for number in range(4):
        UnitFactory(parent=district.sibling_ward, code=f"p-van-mieu-x{number}")
    refresh_unit_status(campaign)
    client.force_login(staff)
    monkeypatch.setattr(selectors, "TABLE_COUNT_CAP", 3)
    counted = client.get("/en/dashboard/units/?kind=party_cell&flag=none").text
    assert "More than 3 units" in counted
    assert "The first 3 are listed" in counted
    known = client.get("/en/dashboard/units/").text
    assert "9 units" in known and "The first 3 are listed" in known
    monkeypatch.setattr(selectors, "TABLE_COUNT_CAP", 10_000)
    page = client.get("/en/dashboard/units/?kind=party_cell&flag=none").text
    assert "6 units" in page and "The first" not in page


# PostgreSQL: the trigram indexes -----------------------------------------------------------


def test_the_trigram_indexes_exist_after_migrate(db):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'units_unit'")
        indexes = dict(cursor.fetchall())
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() is not None
    assert "gin (search_name gin_trgm_ops)" in indexes["unit_search_name_trgm"]
    assert "gin (upper((name_en)::text) gin_trgm_ops)" in indexes["unit_name_en_upper_trgm"]


@pytest.mark.parametrize("q", ["to dan pho so 1", "Kim Liên"])
def test_the_search_can_be_answered_from_the_indexes(district, q):
    """The query the table runs matches the indexes' expressions: with a sequential scan made
    (nearly) impossible, the planner reads all three indexes and never the whole table."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = units_matching(q).order_by().explain()
    assert "unit_search_name_trgm" in plan
    assert "unit_name_en_upper_trgm" in plan
    assert "units_unit_code" in plan
    assert "Seq Scan" not in plan
