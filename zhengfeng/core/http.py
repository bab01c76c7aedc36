"""The request type of a page behind `django_htmx.middleware.HtmxMiddleware` (settings.MIDDLEWARE)."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """Annotation only (as django-htmx documents it): the middleware sets `htmx` on every request."""

    htmx: HtmxDetails
