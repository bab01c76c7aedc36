"""mark_inbound_handled_bulk: many replies handled at once, one audit row, rows handled first left alone."""

import pytest

from zhengfeng.core.models import AuditLog
from zhengfeng.messaging import services
from zhengfeng.messaging.models import InboundSms
from zhengfeng.messaging.tests.conftest import local
from zhengfeng.testing.factories import UnitFactory

pytestmark = pytest.mark.django_db


def inbound(n):
    row, _ = services.receive_inbound_sms(
        provider_id=f"bulk-{n}",
        phone=f"1390000{n:04d}",
        to_number="10690000",
        text="1",
        received_at=local(2026, 3, 2, 10),
    )
    return row


def test_marks_each_row_with_its_match_and_writes_one_audit_row(city):
    unit = UnitFactory.create(code="441800-X", division=city)
    rows = [inbound(n) for n in range(3)]
    services.mark_inbound_handled(rows[1])

    handled = services.mark_inbound_handled_bulk([(rows[0], unit), (rows[1], unit), (rows[2], None)])

    assert handled == {rows[0].pk, rows[2].pk}
    stored = {row.pk: row for row in InboundSms.objects.all()}
    assert (stored[rows[0].pk].matched_type, stored[rows[0].pk].matched_id) == ("org.unit", str(unit.pk))
    assert (stored[rows[2].pk].matched_type, stored[rows[2].pk].handled_at is not None) == ("", True)
    # The row handled before keeps its first handling.
    assert stored[rows[1].pk].matched_type == ""
    row = AuditLog.objects.get(action="messaging.inbound_handled_bulk")
    assert row.data == {
        "count": 2,
        "matched_types": ["", "org.unit"],
        "first_id": rows[0].pk,
        "last_id": rows[2].pk,
    }


def test_nothing_to_mark_writes_nothing(db):
    assert services.mark_inbound_handled_bulk([]) == set()
    assert not AuditLog.objects.filter(action="messaging.inbound_handled_bulk").exists()
