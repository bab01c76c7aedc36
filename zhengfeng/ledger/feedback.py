"""How the ledger's pages tell the user that a write was refused: one flash message each.

Shared by the plans, ledgers, reports and reviews views so that a refusal reads the same everywhere.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def refused(request: HttpRequest, exc: ValidationError) -> None:
    """The service's own reasons, joined."""
    messages.error(request, "；".join(exc.messages))


def form_refused(request: HttpRequest, form: forms.BaseForm) -> None:
    """Each invalid field with its label and errors (the page redirects, so the form is not redisplayed)."""
    messages.error(
        request,
        "；".join(
            f"{form.fields[name].label}：{' '.join(str(error) for error in errors)}"
            for name, errors in form.errors.items()
        ),
    )
