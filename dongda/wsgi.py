import os

from django.core.wsgi import get_wsgi_application

from dongda.middleware_requests import UnreadableRequestGuard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dongda.settings")
# A request Django cannot even build is answered by the guard, not by a bare 500 (see the
# guard's module).
application = UnreadableRequestGuard(get_wsgi_application())
