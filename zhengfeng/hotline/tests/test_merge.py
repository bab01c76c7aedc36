"""Merging duplicates (并单): suggestions and the merge itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from zhengfeng.hotline import services
from zhengfeng.hotline.models import WorkOrder
from zhengfeng.hotline.queries import merge_candidates

from .conftest import WED, dispatched, handling, local, receive


def test_suggestions_by_requester_title_and_window(operator):
    order = receive(operator, at=WED, title="滨河苑小区路灯不亮", address="清城区滨河苑")
    same_person = receive(operator, at=WED + dt.timedelta(days=2), title="噪音扰民", address="")
    similar = receive(
        operator, at=WED + dt.timedelta(days=1), title="滨河苑小区路灯不亮了", requester_phone="13900139000"
    )
    receive(operator, at=WED, title="学校招生咨询", requester_phone="13700137000")
    receive(operator, at=WED + dt.timedelta(days=45), title="滨河苑小区路灯不亮")
    found = merge_candidates(order)
    assert [(c.order.pk, c.reasons) for c in found] == [
        (similar.pk, ("标题相似（89%）",)),
        (same_person.pk, ("同一诉求人",)),
    ]


def test_merge_follows_the_main_order_and_counts_once(operator, unit_a, liaison_a):
    main = handling(operator, liaison_a, at=WED)
    duplicate = dispatched(operator, unit_a, at=local(2026, 3, 11, 11, 0))
    services.transition(duplicate, "merge", by=operator, at=local(2026, 3, 11, 12, 0), into=main)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into, duplicate.sign_due_at) == ("merged", main, None)
    assert list(duplicate.assignments.values_list("status", "sign_clock__state")) == [("ended", "stopped")]
    assert list(WorkOrder.objects.counted().values_list("pk", flat=True)) == [main.pk]
    assert [e.kind for e in main.events.all()][-1] == "merge_received"


def test_handled_order_cannot_be_merged(operator, liaison_a):
    main = receive(operator, at=WED)
    handled = handling(operator, liaison_a, at=WED)
    with pytest.raises(ValidationError, match="当前状态为“办理中”，不能并单"):
        services.transition(handled, "merge", by=operator, at=WED, into=main)


def test_cannot_merge_into_itself_or_a_merged_order(operator):
    first, second, third = (receive(operator, at=WED) for _ in range(3))
    with pytest.raises(ValidationError, match="不能并入自身"):
        services.transition(first, "merge", by=operator, at=WED, into=first)
    services.transition(second, "merge", by=operator, at=WED, into=first)
    with pytest.raises(ValidationError, match="不能作为并单的主工单"):
        services.transition(third, "merge", by=operator, at=WED, into=second)
