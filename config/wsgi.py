"""WSGI entry point for gunicorn (`zhengfeng serve`)."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.db import DatabaseError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# gunicorn started by hand (or by the demo) runs no system checks: a worker must not boot with a field
# key that is not the database's, or every page reading personal data would be a 500. gunicorn stops
# with this message ("Worker failed to boot") instead.
from zhengfeng.core.keys import key_problem  # noqa: E402 (needs the apps loaded above)

try:
    _problem = key_problem()
except DatabaseError:
    _problem = None  # no database yet: requests fail on their own, /healthz says so
if _problem is not None:
    raise ImproperlyConfigured(_problem)
