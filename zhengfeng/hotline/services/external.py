"""Updates sent from outside the hotline: a citizen's Open311 service-request update."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.hotline.models import EventKind, WorkOrder, WorkOrderEvent
from zhengfeng.org.models import ApiKey


def record_external_update(
    order: WorkOrder, *, key: ApiKey, update_id: str, status: str, at: dt.datetime, text: str
) -> tuple[WorkOrderEvent, bool]:
    """A citizen's update sent through an Open311 client: a 办理记录 on the timeline for the hotline.

    It never changes the order's state (only the hotline and the units do that); the reported status
    is kept in the event's data. Idempotent per (api key, update_id). Side effects: one non-public
    `note` event and one audit row `hotline.open311_update`. Returns (event, created).
    """
    existing = WorkOrderEvent.objects.filter(
        order=order, kind=EventKind.NOTE, data__open311_key=key.prefix, data__open311_update_id=update_id
    ).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        event = WorkOrderEvent.objects.create(
            order=order,
            kind=EventKind.NOTE,
            at=timezone.now(),
            by=None,
            text=f"诉求人经 {key.name} 补充（报告状态 {status}，{timezone.localtime(at):%Y-%m-%d %H:%M}）：{text}",
            data={"open311_key": key.prefix, "open311_update_id": update_id, "status": status},
            is_public=False,
        )
        audit.record(
            "hotline.open311_update",
            by=None,
            target=order,
            division_code=order.division_code,
            data={
                "code": order.code,
                "key": key.name,
                "update_id": update_id,
                "status": status,
                "event": event.pk,
            },
        )
    return event, True
