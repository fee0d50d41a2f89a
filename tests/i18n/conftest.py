# The URL walk's district (its units, people and an item of every kind in every state) serves the
# page-language test too: it walks the same URLs.
from tests.test_scope_url_walk import world  # noqa: F401
