"""Publishing the hotline statistics on the public portal, through the core publication engine.

The figures are computed by `hotline.metrics` for the publisher's units at the moment of publishing
and frozen as JSON in a `core.Publication`; the public pages only read that JSON, so changes to orders
afterwards never move a published figure. A `publish_at` in the future keeps the table hidden until
then (the figures are still those of the moment of publishing). Who may publish is decided here;
storing, scheduling, withdrawing and the history are the engine's (`zhengfeng.core.publications`).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from zhengfeng.core import publications
from zhengfeng.core.models import Publication
from zhengfeng.hotline import metrics
from zhengfeng.hotline.models import Channel
from zhengfeng.org.models import Role, User
from zhengfeng.org.queries import scope_of


class PublicationKind(models.TextChoices):
    HOTLINE_UNITS = "hotline_units", "12345热线各单位办理情况"
    HOTLINE_RADIO = "hotline_radio", "行风热线上线单位办理情况"


# The audit actions keep the names they had when the portal owned these publications.
for _kind in PublicationKind:
    publications.register_kind(_kind.value, _kind.label, audit_prefix="portal.publication")

KINDS = tuple(PublicationKind.values)

PUBLISHER_ROLES = frozenset({Role.OFFICE, Role.ADMIN})


def can_publish(user: User) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in PUBLISHER_ROLES)
    )


def _scope(user: User) -> tuple[str, str]:
    """(division code, label) of the publisher's scope; the administrator publishes for everything."""
    if scope_of(user).everything or user.unit is None:
        return "", "全市"
    division = user.unit.division
    return division.code, division.name


def _rows(user: User, kind: str, period: metrics.ReportPeriod, at: dt.datetime) -> list[metrics.Row]:
    if kind == PublicationKind.HOTLINE_RADIO:
        rows = metrics.unit_metrics(user, period, at=at, channel=Channel.RADIO)
        # The radio table lists the units that were on air, i.e. received 行风热线 orders.
        return [row for row in rows if row.figures.received]
    return metrics.unit_metrics(user, period, at=at)


def publish_hotline_stats(
    *, by: User, kind: str, period: str, publish_at: dt.datetime | None = None, at: dt.datetime | None = None
) -> Publication:
    """Freeze the per-unit table of `period` for `by`'s units and publish it.

    Side effects (through the engine): one `core.Publication` row (figures frozen as JSON) and one
    audit row `portal.publication_published`. Raises ValidationError for a bad kind or period, a radio table
    for anything but a quarter, or a live publication of the same kind, period and division.
    """
    if not can_publish(by):
        raise PermissionDenied("只有正风办和系统管理员可以发布统计数据")
    if kind not in PublicationKind.values:
        raise ValidationError(f"未知的发布类别 {kind!r}；可用：{'、'.join(PublicationKind.values)}")
    try:
        report_period = metrics.parse_period(period)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if kind == PublicationKind.HOTLINE_RADIO and report_period.kind != "Q":
        raise ValidationError(f"行风热线按季度公布，{period!r} 不是季度（应为 2026Q1 的形式）")
    at = at or timezone.now()
    if report_period.first > timezone.localtime(at).date():
        raise ValidationError(f"统计期间 {report_period.label} 尚未开始，不能发布")
    division_code, scope_label = _scope(by)
    rows = _rows(by, kind, report_period, at)
    columns = metrics.RADIO_COLUMNS if kind == PublicationKind.HOTLINE_RADIO else metrics.COLUMNS
    data = metrics.freeze_table(rows, report_period, columns=columns, at=at, scope_label=scope_label)
    return publications.publish(
        by=by,
        kind=kind,
        period=str(report_period),
        title=f"{scope_label}{PublicationKind(kind).label}（{report_period.label}）",
        division_code=division_code,
        scope_label=scope_label,
        data=data,
        publish_at=publish_at,
        at=at,
        audit_data={
            "kind": kind,
            "period": str(report_period),
            "rows": len(rows),
            "publish_at": timezone.localtime(publish_at or at).isoformat(),
        },
    )


def withdraw_publication(
    publication: Publication, *, by: User, reason: str, at: dt.datetime | None = None
) -> Publication:
    """Withdraw a publication from the portal (it stays on record with the reason).

    Side effects (through the engine): the row's status, time, person and reason; one audit row
    `portal.publication_withdrawn`. A second withdrawal is refused (conditional update).
    """
    if not can_publish(by):
        raise PermissionDenied("只有正风办和系统管理员可以撤回发布")
    if not publications_for(by).filter(pk=publication.pk).exists():
        raise PermissionDenied(f"无权撤回“{publication.title}”")
    return publications.withdraw(publication, by=by, reason=reason, at=at)


# ------------------------------------------------------------------------------- reads


def public_publications(*, at: dt.datetime | None = None) -> QuerySet[Publication]:
    return publications.public(*KINDS, at=at)


def publications_for(user: User) -> QuerySet[Publication]:
    """Every publication (withdrawn ones too) of the divisions `user` sees, for the management page."""
    scope = scope_of(user)
    records = publications.records(*KINDS)
    if scope.everything:
        return records
    if scope.division_prefix is not None:
        # The publisher's division code starts with the reader's prefix (its subtree); the
        # administrator's whole-city tables (empty code) are visible to every office.
        return records.filter(division_code__startswith=scope.division_prefix) | records.filter(
            division_code=""
        )
    return records.none()
