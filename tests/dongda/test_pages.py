"""The error pages and the headers every page carries."""


def test_pages_carry_a_content_security_policy(client, staff, campaign):
    client.force_login(staff)
    response = client.get("/vi/dashboard/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_not_found_page_is_friendly_and_translated(client, staff):
    client.force_login(staff)
    response = client.get("/en/units/no-such-unit/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Traceback" not in response.text
