import pytest
from django.core.exceptions import ValidationError

from zhengfeng.core.models import AuditLog
from zhengfeng.messaging.models import OutboxMessage
from zhengfeng.messaging.services import InappItem, queue_inapp_bulk

pytestmark = pytest.mark.django_db


def test_bulk_inapp_writes_every_message_and_one_audit_row(liaison_a, liaison_b):
    count = queue_inapp_bulk(
        [
            InappItem(user=liaison_a, subject="预警督办", text="甲局有新的预警", division_code="441800"),
            InappItem(user=liaison_b, subject="预警督办", text="乙局有新的预警", division_code="441800"),
        ],
        source=("alerts.sweep", "2026-11-27T10:00:00+08:00"),
    )

    assert count == 2
    assert sorted(OutboxMessage.objects.inbox().values_list("user__username", "text", "status")) == [
        ("liaison_a", "甲局有新的预警", "sent"),
        ("liaison_b", "乙局有新的预警", "sent"),
    ]
    row = AuditLog.objects.get(action="messaging.queued_bulk")
    assert (row.target_type, row.target_id, row.data["count"], row.data["to"]) == (
        "alerts.sweep",
        "2026-11-27T10:00:00+08:00",
        2,
        ["liaison_a", "liaison_b"],
    )


def test_bulk_inapp_with_an_empty_text_writes_nothing(liaison_a, liaison_b):
    with pytest.raises(ValidationError):
        queue_inapp_bulk(
            [
                InappItem(user=liaison_a, subject="预警", text="正常内容"),
                InappItem(user=liaison_b, subject="预警", text="   "),
            ]
        )

    assert OutboxMessage.objects.count() == 0
    assert AuditLog.objects.filter(action="messaging.queued_bulk").count() == 0
