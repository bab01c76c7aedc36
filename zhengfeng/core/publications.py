"""The publication engine: frozen tables on the public portal, scheduled, withdrawn with a reason.

A module that publishes registers its kinds here (`register_kind`, at import of its `publishing.py`,
which `CoreConfig.ready` autodiscovers as it does `jobs.py`), builds the frozen snapshot itself and
calls `publish` / `withdraw`; who may publish is the module's rule, checked before it calls. The
portal reads through `public` and `detail` and renders the snapshot; it never recomputes a figure.

Rules of the engine: a publication never changes after it is made; a `publish_at` in the future
keeps it hidden until then; a withdrawal needs a reason and keeps the row (history); one live
publication per kind, period and division (a correction withdraws the old one, then publishes anew).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.models import Publication, PublicationStatus

REASON_MAX_LENGTH = 1000


@dataclass(frozen=True)
class RegisteredKind:
    code: str
    label: str
    # Audit actions are `<audit_prefix>_published` / `<audit_prefix>_withdrawn`: each module keeps
    # the names its audit trail has always had.
    audit_prefix: str


_KINDS: dict[str, RegisteredKind] = {}


def register_kind(code: str, label: str, *, audit_prefix: str) -> RegisteredKind:
    """Register a kind of publication (idempotent for the same definition; a clash is a bug)."""
    kind = RegisteredKind(code=code, label=label, audit_prefix=audit_prefix)
    if _KINDS.get(code, kind) != kind:
        raise ValueError(f"publication kind {code!r} is already registered differently")
    _KINDS[code] = kind
    return kind


def kind_label(code: str) -> str:
    kind = _KINDS.get(code)
    return kind.label if kind else code


# ------------------------------------------------------------------------------- writes


def publish(
    *,
    by: AbstractBaseUser,
    kind: str,
    period: str,
    title: str,
    division_code: str,
    data: Mapping[str, Any],
    scope_label: str = "",
    publish_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
    audit_data: Mapping[str, Any] | None = None,
) -> Publication:
    """Store the frozen `data` as a publication, public from `publish_at` (default: now).

    Side effects: one Publication row and one audit row `<audit_prefix>_published` carrying
    `audit_data`. Raises ValidationError for an unregistered kind, a naive `publish_at`, or a live
    publication of the same kind, period and division (nothing is saved).
    """
    registered = _KINDS.get(kind)
    if registered is None:
        raise ValidationError(f"未知的发布类别 {kind!r}；可用：{'、'.join(_KINDS)}")
    if publish_at is not None and timezone.is_naive(publish_at):
        raise ValidationError("公开时间须带时区")
    at = at or timezone.now()
    try:
        with transaction.atomic():
            publication = Publication.objects.create(
                kind=kind,
                period=period,
                title=title,
                division_code=division_code,
                scope_label=scope_label,
                data=dict(data),
                publish_at=publish_at or at,
                created_at=at,
                created_by_id=by.pk,
            )
            audit.record(
                f"{registered.audit_prefix}_published",
                by=by,
                target=publication,
                division_code=division_code,
                data=dict(audit_data or {}),
            )
    except IntegrityError:
        raise ValidationError(f"“{title}”已经发布；如需更正，请先撤回原发布") from None
    return publication


def withdraw(
    publication: Publication,
    *,
    by: AbstractBaseUser,
    reason: str,
    at: dt.datetime | None = None,
    audit_data: Mapping[str, Any] | None = None,
) -> Publication:
    """Take a publication off the portal; the row stays, with who, when and why.

    Side effects: the row's status, withdrawn_at/by and reason; one audit row
    `<audit_prefix>_withdrawn` with the reason and `audit_data`. A blank or too long reason, or a
    second withdrawal (conditional update, so two clicks cannot both succeed), raises ValidationError.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("撤回须说明理由")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(f"撤回理由最多 {REASON_MAX_LENGTH} 字，现为 {len(reason)} 字")
    at = at or timezone.now()
    prefix = _KINDS[publication.kind].audit_prefix if publication.kind in _KINDS else "core.publication"
    with transaction.atomic():
        changed = Publication.objects.filter(pk=publication.pk, status=PublicationStatus.PUBLISHED).update(
            status=PublicationStatus.WITHDRAWN, withdrawn_at=at, withdrawn_by_id=by.pk, withdraw_reason=reason
        )
        if changed != 1:
            raise ValidationError(f"“{publication.title}”已撤回，不能再次撤回")
        audit.record(
            f"{prefix}_withdrawn",
            by=by,
            target=publication,
            division_code=publication.division_code,
            data={"reason": reason, **(audit_data or {})},
        )
    publication.refresh_from_db()
    return publication


# ------------------------------------------------------------------------------- reads


def public(*kinds: str, at: dt.datetime | None = None) -> QuerySet[Publication]:
    """The publications of `kinds` anyone may read at `at` (newest first), without their tables."""
    return Publication.objects.of_kind(*kinds).public(at=at or timezone.now()).defer("data")


def detail(pk: int, *kinds: str) -> Publication | None:
    """One publication of `kinds`, withdrawn or scheduled ones too (the page says which)."""
    return Publication.objects.of_kind(*kinds).filter(pk=pk).first()


def history(*, kind: str, period: str, division_code: str) -> QuerySet[Publication]:
    """Every publication of one key, oldest first: the withdrawn ones and the one that followed."""
    return Publication.objects.filter(kind=kind, period=period, division_code=division_code).order_by(
        "created_at", "id"
    )


def records(*kinds: str) -> QuerySet[Publication]:
    """All publications of `kinds` (withdrawn too) with their people, for the modules' own pages;
    the module narrows them to the reader's scope."""
    return Publication.objects.of_kind(*kinds).select_related("created_by", "withdrawn_by").defer("data")
