"""What every URL owes HTTP, whatever the page: HEAD wherever GET is answered, nothing of a
signed-in person's kept by a cache, and the error pages (400, 403 for a form without its CSRF
token, 404, 500) in the language of the URL, never Django's English or technical pages.

The URLs come from the scope walk's filler (tests/test_scope_url_walk.py), so a new pattern is
covered here as soon as the walk knows how to fill it."""

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from tests import test_scope_url_walk as scope_walk
from tests.test_scope_url_walk import PUBLIC, calls_for, sign_in, walk

# The walk's small district in 2024, with an item of each kind and state in each unit.
world = scope_walk.world
in_2024 = scope_walk.in_2024


def first_readable_get_per_pattern(world, role: str):
    """The first GET of each pattern the role may read (expected 200): one request per page
    and export, enough to see the headers, without the walk's every unit and item."""
    for pattern in walk():
        if pattern.name in PUBLIC:
            continue
        for call in calls_for(world, role, pattern):
            if call.method == "GET" and call.expect == {200}:
                yield call
                break


@pytest.mark.parametrize("role", ["staff", "cell_secretary"])
def test_head_is_answered_wherever_get_is_and_signed_in_answers_are_not_stored(client, world, role):
    sign_in(client, world, role)
    seen = 0
    for call in first_readable_get_per_pattern(world, role):
        got = client.get(call.url)
        assert got.status_code == 200, call.label()
        if got.streaming:
            b"".join(got.streaming_content)
        directives = {d.strip() for d in got.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= directives, (call.label(), got.get("Cache-Control"))
        assert not directives & {"public"}, call.label()
        assert "Cookie" in got.get("Vary", ""), call.label()

        head = client.head(call.url)
        assert head.status_code == 200, f"HEAD {call.url}: {head.status_code}"
        body = b"".join(head.streaming_content) if head.streaming else head.content
        assert body == b"", call.label()
        assert head["Content-Type"] == got["Content-Type"], call.label()
        seen += 1
    # Every page of the dashboard, the reports and the official reports, at least.
    assert seen >= (18 if role == "staff" else 8)


@pytest.mark.django_db
def test_public_pages_and_the_health_check_take_head(client):
    for url in ("/healthz", "/vi/accounts/login/", "/en/accounts/login/"):
        assert client.get(url).status_code == 200, url
        head = client.head(url)
        assert head.status_code == 200, url
        assert head.content == b""


@pytest.mark.django_db
def test_a_signed_in_answer_loses_a_views_public_caching(rf, staff):
    from dongda.cache_control import PrivateNoStoreMiddleware

    def cached_view(request):
        response = HttpResponse("x")
        response["Cache-Control"] = "public, max-age=3600, must-revalidate"
        return response

    request = rf.get("/vi/")
    request.user = staff
    response = PrivateNoStoreMiddleware(cached_view)(request)
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert directives == {"private", "no-store", "must-revalidate"}


# --- the error pages ---------------------------------------------------------------------------


def _boom(request):
    raise RuntimeError("a fault of the app")


def _suspicious(request):
    raise SuspiciousOperation("a request the app cannot accept")


# Under the language prefix, as the app's pages are: the error page follows the URL's language.
urlpatterns = i18n_patterns(path("boom/", _boom), path("suspicious/", _suspicious))
handler400 = "dongda.views.bad_request"
handler500 = "dongda.views.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("lang", "text_400", "text_500"),
    [
        ("vi", "Không đọc được yêu cầu", "Đã có lỗi xảy ra"),
        ("en", "The request could not be read", "Something went wrong"),
    ],
)
def test_400_and_500_pages_are_the_apps_in_the_urls_language(lang, text_400, text_500):
    client = Client(raise_request_exception=False)
    bad = client.get(f"/{lang}/suspicious/")
    assert bad.status_code == 400
    assert text_400 in bad.text and f'lang="{lang}"' in bad.text
    broken = client.get(f"/{lang}/boom/")
    assert broken.status_code == 500
    assert text_500 in broken.text and "Traceback" not in broken.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "title"), [("vi", "Biểu mẫu đã hết hạn"), ("en", "The form has expired")]
)
def test_a_form_without_its_csrf_token_gets_a_page_saying_what_to_do(lang, title):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/{lang}/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert title in response.text
    assert f'lang="{lang}"' in response.text
    assert "CSRF verification failed" not in response.text  # Django's English page


@pytest.mark.django_db
def test_a_host_the_site_does_not_serve_gets_the_400_page(client):
    response = client.get("/vi/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Không đọc được yêu cầu" in response.text


@pytest.mark.django_db
def test_the_400_page_takes_its_language_from_the_url_even_before_the_locale_is_read(rf):
    """Over plain HTTP in production, SecurityMiddleware asks for the host (to redirect) before
    LocaleMiddleware has read the prefix: the page must still follow the URL."""
    from django.utils import translation

    from dongda.views import bad_request

    with translation.override("vi"):
        response = bad_request(rf.get("/en/accounts/login/"))
    assert response.status_code == 400
    assert response["Content-Language"] == "en"
    assert "The request could not be read" in response.content.decode()
