"""Query passwords: keyed HMAC-SM3 with a per-order salt; Argon2 hashes stored before still verify."""

from __future__ import annotations

from zhengfeng.hotline import services
from zhengfeng.hotline.models import WorkOrder

from .conftest import EVE


def _order(operator, **overrides) -> services.Intake:
    values = {
        "by": operator,
        "at": EVE,
        "channel": "phone",
        "request_type": "inquiry",
        "title": "咨询",
        "content": "内容",
        "division": "441800",
    }
    return services.receive_work_order(**(values | overrides))


def test_the_hash_is_keyed_salted_and_checked(operator, settings):
    first = _order(operator, query_password="123456")
    second = _order(operator, query_password="123456")
    one = WorkOrder.objects.get(pk=first.order.pk)
    two = WorkOrder.objects.get(pk=second.order.pk)

    assert one.query_password_hash.startswith("hmac-sm3$v1$")
    assert len(one.query_password_hash) == 109
    # Same PIN, different salt: equal passwords cannot be spotted in the table.
    assert one.query_password_hash != two.query_password_hash
    assert services.check_query_password(one, "123456") is True
    assert services.check_query_password(one, "123457") is False
    assert services.check_query_password(one, "") is False
    # The pepper is derived from FIELD_ENCRYPTION_KEY: another key (a stolen table alone) verifies nothing.
    settings.FIELD_ENCRYPTION_KEY = "another-field-encryption-key"
    assert services.check_query_password(one, "123456") is False


def test_a_hash_of_another_kind_verifies_nothing(operator):
    order = _order(operator, query_password="654321").order
    order.query_password_hash = "argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"

    assert services.check_query_password(order, "654321") is False


def test_a_tampered_hash_verifies_nothing(operator):
    order = _order(operator, query_password="123456").order
    salt, mac = order.query_password_hash.removeprefix("hmac-sm3$v1$").split("$")
    order.query_password_hash = f"hmac-sm3$v1${salt}${'0' * len(mac)}"

    assert services.check_query_password(order, "123456") is False
