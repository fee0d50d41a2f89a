"""Sign-in hardening: lockout counted per person and client (also behind a proxy), sessions that
end when an account is deactivated or its password changes, unsubscribe links that expire."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from dongda.proxies import client_address
from tests.factories import TEST_PASSWORD, UserFactory
from units.models import Role, User
from units.tokens import UNSUBSCRIBE_MAX_AGE, unsubscribe_token

LOGIN = "/en/accounts/login/"
PROXY = "10.0.0.2"
CLIENT_A, CLIENT_B = "203.0.113.10", "198.51.100.20"


def sign_in(client: Client, password: str, *, remote: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client.post(
        LOGIN, {"username": "vanphong", "password": password}, REMOTE_ADDR=remote, headers=headers
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = 5


@pytest.fixture
def behind_proxy(settings, lockout):
    settings.TRUSTED_PROXIES = [PROXY]


# ---------------------------------------------------------------------------------------------
# Lockout: per sign-in name and client address
# ---------------------------------------------------------------------------------------------


def test_behind_the_proxy_one_clients_failures_do_not_lock_out_another(staff, behind_proxy):
    """The audit's case: everyone reaches the app through nginx. Five wrong passwords from
    client A lock A out; the right password from client B, through the same proxy, signs in."""
    tries = [sign_in(Client(), "sai", remote=PROXY, forwarded=CLIENT_A) for _ in range(5)]
    assert [response.status_code for response in tries] == [200, 200, 200, 200, 429]
    assert sign_in(Client(), TEST_PASSWORD, remote=PROXY, forwarded=CLIENT_A).status_code == 429
    assert signed_in(sign_in(Client(), TEST_PASSWORD, remote=PROXY, forwarded=CLIENT_B))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT_A}


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_rotate_addresses(staff, lockout):
    """Nothing named in front: a client that writes its own X-Forwarded-For, a new address each
    time, is still counted by the address it connects from, and locked out."""
    for n in range(5):
        sign_in(Client(), "sai", remote=CLIENT_A, forwarded=f"192.0.2.{n}")
    locked = sign_in(Client(), TEST_PASSWORD, remote=CLIENT_A, forwarded="192.0.2.99")
    assert locked.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [CLIENT_A]
    # Someone else, from their own address, still signs in.
    assert signed_in(sign_in(Client(), TEST_PASSWORD, remote=CLIENT_B))


def test_behind_the_proxy_a_client_cannot_rotate_by_prepending_addresses(staff, behind_proxy):
    """nginx appends the address that connected to whatever the client sent: the forged
    addresses are on the left, and the right end, written by the proxy, is what counts."""
    for n in range(5):
        sign_in(Client(), "sai", remote=PROXY, forwarded=f"192.0.2.{n}, {CLIENT_A}")
    locked = sign_in(Client(), TEST_PASSWORD, remote=PROXY, forwarded=f"192.0.2.99, {CLIENT_A}")
    assert locked.status_code == 429


def test_a_client_that_is_not_a_trusted_proxy_cannot_name_other_clients(staff, behind_proxy):
    """Reaching the app directly (not through the named proxy), the header is the client's own
    writing and is ignored."""
    for n in range(5):
        sign_in(Client(), "sai", remote=CLIENT_A, forwarded=f"192.0.2.{n}")
    assert sign_in(Client(), TEST_PASSWORD, remote=CLIENT_A).status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [CLIENT_A]


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        # Nothing trusted: the connection's address, whatever the header says.
        ([], CLIENT_A, "192.0.2.1", CLIENT_A),
        # nginx alone in front: the address it appended.
        ([PROXY], PROXY, CLIENT_A, CLIENT_A),
        ([PROXY], PROXY, f"192.0.2.1, {CLIENT_A}", CLIENT_A),
        # A load balancer before nginx, both named: past both of them.
        ([PROXY, "10.0.0.7"], PROXY, f"192.0.2.1, {CLIENT_A}, 10.0.0.7", CLIENT_A),
        # A client on the proxy's own network is no proxy: what it wrote is not believed.
        ([PROXY], PROXY, "192.0.2.1, 10.0.0.77", "10.0.0.77"),
        # Ports and IPv6 as proxies write them.
        ([PROXY], PROXY, f"{CLIENT_A}:51234", CLIENT_A),
        (["::1"], "::1", "[2001:db8::5]:443", "2001:db8::5"),
        # A dual-stack socket's spelling of an IPv4 proxy.
        ([PROXY], f"::ffff:{PROXY}", CLIENT_A, CLIENT_A),
        # From the proxy without the header, or with something that is not an address: the
        # proxy is all that is known.
        ([PROXY], PROXY, "", PROXY),
        ([PROXY], PROXY, "unknown", PROXY),
        # Every hop trusted: the farthest proxy.
        ([PROXY, "10.0.0.9"], PROXY, "10.0.0.9", "10.0.0.9"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, client):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == client


@pytest.mark.parametrize(("remote", "secure"), [(PROXY, True), ("198.51.100.7", False)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(settings, remote, secure):
    """SECURE_PROXY_SSL_HEADER believes the header from whoever sent it: a client reaching the
    app past the proxy could pass plain HTTP off as HTTPS, unless the header is dropped first."""
    from django.http import HttpResponse

    from dongda.proxies import UntrustedForwardingHeadersMiddleware

    settings.TRUSTED_PROXIES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().get(
        "/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=CLIENT_A
    )
    seen = UntrustedForwardingHeadersMiddleware(lambda r: HttpResponse(str(r.is_secure())))
    assert seen(request).content.decode() == str(secure)
    assert ("HTTP_X_FORWARDED_FOR" in request.META) is secure


# ---------------------------------------------------------------------------------------------
# Sessions end with deactivation and with a password change
# ---------------------------------------------------------------------------------------------

DASHBOARD = "/en/dashboard/"


def is_signed_in(client: Client) -> bool:
    """A page only a signed-in person sees: the dashboard, or a redirect to the sign-in page."""
    response = client.get(DASHBOARD)
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.fixture
def person_signed_in(staff, campaign) -> Client:
    client = Client()
    client.force_login(staff)
    assert is_signed_in(client)
    return client


def sessions_of(user: User) -> int:
    return sum(
        1
        for session in Session.objects.all()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    )


def test_deactivating_a_person_ends_their_sessions(person_signed_in, staff, standing):
    other = Client()
    other.force_login(standing)
    staff.is_active = False
    staff.save()
    assert sessions_of(staff) == 0
    assert sessions_of(standing) == 1  # nobody else's
    staff.is_active = True
    staff.save()
    assert not is_signed_in(person_signed_in)


def test_a_reactivated_person_does_not_get_an_old_session_back(person_signed_in, staff):
    """Deactivated by a bulk update, which no save() sees: reactivating ends the sessions left
    from before, so the browser that was signed in must sign in again."""
    User.objects.filter(pk=staff.pk).update(is_active=False)
    assert not is_signed_in(person_signed_in)
    staff.refresh_from_db()
    staff.is_active = True
    staff.save()
    assert not is_signed_in(person_signed_in)
    assert sessions_of(staff) == 0


def test_saving_an_active_person_keeps_their_sessions(person_signed_in, staff):
    staff.first_name = "Hà"
    staff.save()
    assert is_signed_in(person_signed_in)


@pytest.fixture
def office() -> Client:
    """Whoever may change accounts in the administration."""
    client = Client()
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    return client


def test_deactivating_in_the_admin_ends_the_sessions(person_signed_in, staff, district, office):
    """The administration's change form, the way the office deactivates someone."""
    assignment = staff.assignments.get()
    joined = staff.date_joined.astimezone()
    response = office.post(
        reverse("admin:units_user_change", args=[staff.pk]),
        {
            "username": staff.username,
            "language": "vi",
            # is_active left out: the box is unticked.
            "date_joined_0": joined.strftime("%d/%m/%Y"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "assignments-TOTAL_FORMS": "1",
            "assignments-INITIAL_FORMS": "1",
            "assignments-0-id": str(assignment.pk),
            "assignments-0-user": str(staff.pk),
            "assignments-0-unit": str(district.root.pk),
            "assignments-0-role": Role.DISTRICT_STAFF,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    staff.refresh_from_db()
    assert staff.is_active is False
    assert sessions_of(staff) == 0


def test_a_password_set_by_the_office_signs_the_person_out_elsewhere(
    person_signed_in, staff, office
):
    """Django's own session check: a session keeps a hash of the password it was opened with,
    so a new password ends it."""
    response = office.post(
        reverse("admin:auth_user_password_change", args=[staff.pk]),
        {
            "usable_password": "true",
            "password1": "Mat-khau-moi-2025",
            "password2": "Mat-khau-moi-2025",
        },
    )
    assert response.status_code == 302
    assert not is_signed_in(person_signed_in)
    assert office.get("/admin/").status_code == 200  # the office's own session goes on


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(staff, campaign):
    here, elsewhere = Client(), Client()
    here.force_login(staff)
    elsewhere.force_login(staff)
    response = here.post(
        "/admin/password_change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Mat-khau-moi-2025",
            "new_password2": "Mat-khau-moi-2025",
        },
    )
    assert response.status_code == 302
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)


def test_a_password_reset_link_signs_the_person_out_everywhere(person_signed_in, staff):
    uid = urlsafe_base64_encode(force_bytes(staff.pk))
    token = default_token_generator.make_token(staff)
    with translation.override("en"):
        link = reverse("password_set", args=[uid, token])
    browser = Client()
    form_page = browser.get(link, follow=True)
    assert form_page.status_code == 200
    response = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Mat-khau-moi-2025", "new_password2": "Mat-khau-moi-2025"},
    )
    assert response.status_code == 302
    assert not is_signed_in(person_signed_in)


# ---------------------------------------------------------------------------------------------
# Unsubscribe links expire
# ---------------------------------------------------------------------------------------------

SENT = datetime(2024, 7, 15, 0, 0, tzinfo=UTC)


def unsubscribe_url(user: User, lang: str = "en") -> str:
    with time_machine.travel(SENT, tick=False), translation.override(lang):
        return reverse("unsubscribe", args=[unsubscribe_token(user.pk)])


@pytest.fixture
def reader(db) -> User:
    return UserFactory(username="bt-p-kim-lien", language="en", email="bt@dongda.example")


def test_an_unsubscribe_link_works_until_it_expires(reader):
    url = unsubscribe_url(reader)
    last_day = SENT + UNSUBSCRIBE_MAX_AGE - timedelta(minutes=1)
    with time_machine.travel(last_day, tick=False):
        response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You will no longer receive the weekly digest" in response.text
    reader.refresh_from_db()
    assert reader.receives_digests is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_unsubscribe_link_says_what_to_do_and_changes_nothing(reader, method):
    url = unsubscribe_url(reader)
    with time_machine.travel(SENT + UNSUBSCRIBE_MAX_AGE + timedelta(minutes=1), tick=False):
        response = getattr(Client(enforce_csrf_checks=True), method)(url)
    assert response.status_code == 410
    page = response.text
    assert "This unsubscribe link has expired" in page
    assert f"works for {UNSUBSCRIBE_MAX_AGE.days} days" in page
    assert "sign in and untick “Weekly digest” in your settings" in page
    assert 'href="/en/accounts/profile/"' in page
    assert 'method="post"' not in page.split("<main", 1)[-1]  # no button that would act
    reader.refresh_from_db()
    assert reader.receives_digests is True


def test_an_expired_link_answers_in_the_persons_language_whatever_the_url_says(reader):
    """The link was the person's own: they changed their language to English since the
    Vietnamese digest that carried it."""
    url = unsubscribe_url(reader, lang="vi")
    with time_machine.travel(SENT + UNSUBSCRIBE_MAX_AGE + timedelta(days=1), tick=False):
        response = Client().get(url)
    assert response.status_code == 410
    assert "This unsubscribe link has expired" in response.text
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in response.text


def test_a_forged_link_is_still_refused_as_invalid_not_expired(reader):
    url = unsubscribe_url(reader)
    forged = url.rstrip("/")[:-2] + "xx/"
    response = Client().post(forged)
    assert response.status_code == 400
    assert "This unsubscribe link is not valid" in response.text
