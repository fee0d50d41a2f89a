"""A unit's page and the review queue cost the same for a 50-unit district and a 2,000-unit one:
the same number of SQL statements, and a page of the units below, never the whole list. The
pager of the units below follows the tree's order and survives any `?children=`; the queue,
read a page at a time in the database, keeps the order a plain sort of every item gives."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.dashboard import unit_page
from campaigns.demo import seed_demo
from campaigns.engine.run import deadline_engine_run
from campaigns.models import COMMITTEE_DEPTH, Campaign, ReviewStatus
from campaigns.registry import report_kinds
from campaigns.reporting import queue
from units.models import Unit, User

pytestmark = pytest.mark.django_db

PAGES = {
    "root": "/vi/units/dongda/",
    "root, children page 2": "/vi/units/dongda/?children=2",
    "ward committee": "/vi/units/p-kim-lien/",
    "queue": "/vi/dashboard/review/",
    "queue page 2": "/vi/dashboard/review/?page=2",
    "queue by committee": "/vi/dashboard/review/?committee=p-kim-lien&state=overdue",
    "queue by kind and text": "/vi/dashboard/review/?kind=sessions&q=chi+bo",
}


def _district(units: int) -> None:
    seed_demo(units=units, reset=True, replay=False)
    deadline_engine_run()


def _get(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response.content.decode()


def _children_on(html: str) -> list[str]:
    """The codes of the units listed below, in the page's order."""
    return [part.split('"', 1)[0] for part in html.split('data-child="')[1:]]


def _children_in_tree_order(code: str) -> list[str]:
    """Every unit directly below `code`, in tree order, read the plain way."""
    unit = Unit.objects.get(code=code)
    below = Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1)
    return list(below.order_by("path").values_list("code", flat=True))


def measure_unit_pages(client) -> tuple[dict[str, int], dict[str, str]]:
    """The statements and the HTML of PAGES in the district seeded now (measured at 50 and
    2,000 units by test_dashboard_scale.py's one seeding of each size, see there)."""
    measured = {name: _get(client, url) for name, url in PAGES.items()}
    counts = {name: n for name, (n, _html) in measured.items()}
    pages = {name: html for name, (_n, html) in measured.items()}
    return counts, pages


def check_unit_pages_at_scale(counts: dict, pages: dict) -> None:
    """PAGES cost the same at 50 and 2,000 units and hold a page of rows, not the tree; the
    2,000-unit district is the one in the database."""
    assert counts[50] == counts[2000], counts

    # The root lists a page of the units right below it, not the 138 there are at 2,000 units.
    root = Unit.objects.get(code="dongda")
    assert root.numchild == 138
    assert _children_on(pages[2000]["root"]) == _children_in_tree_order("dongda")[:50]
    assert (
        _children_on(pages[2000]["root, children page 2"])
        == (_children_in_tree_order("dongda")[50:100])
    )
    assert 'data-testid="children-pager"' in pages[2000]["root"]
    assert 'data-testid="children-pager"' not in pages[50]["root"]  # 5 units: one page
    assert len(_children_on(pages[50]["root"])) == 5
    # The page grew by the rows of its one page only (about 0.7 kB a row), not with the tree.
    grown = len(pages[2000]["root"].encode()) - len(pages[50]["root"].encode())
    assert grown < 45 * 1024, grown

    # The queue's committee filter: a list for a few committees, a code to type for 124.
    assert 'id="queue-committee"' in pages[50]["queue"]
    assert 'data-testid="queue-committee-code"' not in pages[50]["queue"]
    assert 'data-testid="queue-committee-code"' in pages[2000]["queue"]
    assert pages[2000]["queue"].count("<option") < 30  # kinds, states, ages: not committees
    assert pages[2000]["queue"].count('data-testid="queue-row"') == queue.PAGE_SIZE
    # A committee typed by its code still narrows the queue, and its name is shown.
    filtered = pages[2000]["queue by committee"]
    assert 'value="p-kim-lien"' in filtered
    assert "Đảng bộ phường Kim Liên" in filtered


@pytest.fixture
def small_pages(monkeypatch):
    """The 300-unit district (44 units right under the root), ten units below a page."""
    _district(300)
    monkeypatch.setattr(unit_page, "CHILDREN_PER_PAGE", 10)
    assert Unit.objects.get(code="dongda").numchild == 44


def test_the_pager_follows_the_tree_order_and_keeps_the_query(client, small_pages):
    client.force_login(User.objects.get(username="vanphong"))
    expected = _children_in_tree_order("dongda")
    seen = []
    for number in range(1, 6):
        _n, html = _get(client, f"/vi/units/dongda/?children={number}")
        seen += _children_on(html)
        assert f"{(number - 1) * 10 + 1}–{min(number * 10, 44)}" in html
    assert seen == expected

    # Other parameters are kept by both links; the first page is written without `children`.
    _n, html = _get(client, "/en/units/dongda/?children=2&as_of=05%2F04%2F2024")
    assert 'href="?as_of=05%2F04%2F2024&amp;children=3#children-heading"' in html
    assert 'href="?as_of=05%2F04%2F2024#children-heading"' in html
    assert 'rel="next">Next<' in html and 'rel="prev">Previous<' in html
    assert "44 units directly below." in html
    # The whole subtree is one click away, in the unit table narrowed to this unit.
    assert 'href="/en/dashboard/units/?unit=dongda"' in html
    assert client.get("/en/dashboard/units/?unit=dongda").status_code == 200


#: `?children=` as typed, and the page it shows: anything but a page number is the first page,
#: a number past the last page the last one (44 units, ten a page: five pages).
ASKED_AND_SHOWN = [
    ("abc", 1),
    ("", 1),
    ("0", 1),
    ("-2", 1),
    ("2.5", 1),
    ("²", 1),
    ("9" * 12, 1),
    ("5", 5),
    ("6", 5),
    ("999999", 5),
]


def test_a_children_page_that_is_not_one_shows_the_first_or_the_last(client, small_pages):
    client.force_login(User.objects.get(username="vanphong"))
    in_order = _children_in_tree_order("dongda")
    for asked, shown in ASKED_AND_SHOWN:
        response = client.get("/vi/units/dongda/", {"children": asked})
        assert response.status_code == 200, asked
        listed = _children_on(response.content.decode())
        assert listed == in_order[(shown - 1) * 10 : shown * 10], asked


def test_a_unit_with_nothing_below_reads_no_children(client, small_pages):
    cell = Unit.objects.filter(numchild=0, depth=3).order_by("path").first()
    page = unit_page.child_units(unit=cell, campaign=Campaign.objects.get(), page="3", page_size=10)
    assert (page.units, page.total, page.number, page.num_pages) == ([], 0, 1, 1)
    client.force_login(User.objects.get(username="vanphong"))
    html = client.get(f"/vi/units/{cell.code}/").content.decode()
    assert 'id="children-heading"' not in html


def _plain_order(*, campaign, keep=lambda kind, item: True) -> list[tuple[str, int]]:
    """Every submitted item of every kind, sorted in Python the queue's way: the most overdue
    first (no overdue day last), then the oldest submission, then kind and id."""
    rows = []
    for slug, kind in report_kinds().items():
        for item in kind.of_campaign(campaign).filter(status=ReviewStatus.SUBMITTED):
            if keep(kind, item):
                due = item.review_overdue_from or date.max
                rows.append((due, item.submitted_at, slug, item.pk))
    return [(slug, pk) for _due, _sent, slug, pk in sorted(rows)]


def _paged_order(*, staff, campaign, filters, page_size=7) -> list[tuple[str, int]]:
    first = queue.review_queue(user=staff, campaign=campaign, filters=filters, page_size=page_size)
    found = [(entry.kind.slug, entry.item.pk) for entry in first.entries]
    for number in range(2, first.num_pages + 1):
        page = queue.review_queue(
            user=staff,
            campaign=campaign,
            filters=queue.QueueFilters(**{**filters.__dict__, "page": number}),
            page_size=page_size,
        )
        assert page.total == first.total
        found += [(entry.kind.slug, entry.item.pk) for entry in page.entries]
    assert len(found) == first.total
    return found


def test_the_queue_pages_hold_every_item_in_a_plain_sorts_order():
    _district(300)
    campaign = Campaign.objects.get()
    staff = User.objects.get(username="vanphong")
    today = timezone.localdate()
    ward = Unit.objects.get(code="p-kim-lien")
    everything = _plain_order(campaign=campaign)
    assert len(everything) > 20 and len({slug for slug, _pk in everything}) >= 3

    cases = {
        queue.QueueFilters(): lambda kind, item: True,
        queue.QueueFilters(kind="sessions"): lambda kind, item: kind.slug == "sessions",
        queue.QueueFilters(state=queue.OVERDUE): lambda kind, item: (
            item.review_overdue_from is not None and item.review_overdue_from <= today
        ),
        queue.QueueFilters(state=queue.RESUBMITTED): lambda kind, item: item.return_count > 0,
        queue.QueueFilters(committee="p-kim-lien"): lambda kind, item: (
            item.unit.path.startswith(ward.path) and item.unit.depth > COMMITTEE_DEPTH
        ),
        # An unknown committee narrows nothing, as before.
        queue.QueueFilters(committee="no-such-ward"): lambda kind, item: True,
    }
    for filters, keep in cases.items():
        expected = _plain_order(campaign=campaign, keep=keep)
        assert _paged_order(staff=staff, campaign=campaign, filters=filters) == expected, filters

    # "Next" after a decision: the first of the filter but the one decided.
    first_slug, first_pk = everything[0]
    decided = report_kinds()[first_slug].model.objects.get(pk=first_pk)
    following = queue.review_queue_next(
        user=staff,
        campaign=campaign,
        filters=queue.QueueFilters(),
        level=queue.DISTRICT,
        after=decided,
    )
    assert (following.kind.slug, following.item.pk) == everything[1]
