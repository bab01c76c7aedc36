"""Who sees which orders, and how much of the requester each viewer sees."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline import services
from zhengfeng.hotline.queries import (
    order_for,
    overdue_for,
    requester_contact,
    requester_for,
    reveal_requester,
    work_orders_for,
)

from .conftest import PHONE, WED, dispatched, handling, local, receive


@pytest.fixture
def orders(operator, unit_a, unit_b, county_unit, liaison_b):
    city_a = dispatched(operator, unit_a, at=WED)
    city_b = handling(operator, liaison_b, at=WED)
    county = dispatched(operator, county_unit, at=WED, division="441802")
    fresh = receive(operator, at=WED)
    return city_a, city_b, county, fresh


def _codes(qs):
    return sorted(o.pk for o in qs)


def test_scopes(
    orders, liaison_a, liaison_b, city_office, county_office, operator, county_operator, admin_user
):
    city_a, city_b, county, _fresh = orders
    assert _codes(work_orders_for(liaison_a)) == [city_a.pk]
    assert _codes(work_orders_for(liaison_b)) == [city_b.pk]
    assert _codes(work_orders_for(county_office)) == [county.pk]
    assert _codes(work_orders_for(county_operator)) == [county.pk]
    assert _codes(work_orders_for(city_office)) == sorted(o.pk for o in orders)
    assert _codes(work_orders_for(operator)) == sorted(o.pk for o in orders)
    assert _codes(work_orders_for(admin_user)) == sorted(o.pk for o in orders)
    with pytest.raises(Http404):
        order_for(liaison_a, city_b.pk)


def test_returned_unit_keeps_seeing_its_history(operator, liaison_a, unit_b):
    from .conftest import evidence

    order = dispatched(operator, liaison_a.unit, at=WED)
    services.transition(order, "request_return", by=liaison_a, at=WED, reason="非本单位", evidence=evidence())
    services.transition(order, "review_return", by=operator, at=WED, decision="reassign", main_unit=unit_b)
    assert _codes(work_orders_for(liaison_a)) == [order.pk]


def test_overdue_lists_are_scoped(orders, liaison_b, operator):
    city_a, city_b, county, _ = orders
    after_sign = local(2026, 3, 13, 9, 0)
    assert _codes(overdue_for(operator, at=after_sign, kind="sign")) == sorted([city_a.pk, county.pk])
    assert _codes(overdue_for(liaison_b, at=after_sign, kind="sign")) == []
    assert _codes(overdue_for(liaison_b, at=local(2026, 3, 26, 9, 0), kind="reply")) == [city_b.pk]


def test_lists_show_masked_requester_to_the_hotline(operator):
    order = receive(operator, requester_id_number="441802199001010017")
    assert requester_for(operator, order) == type(requester_for(operator, order))(
        "王**", "138****8000", "4418**********0017"
    )


def test_unit_sees_requester_only_when_allowed(operator, liaison_a):
    hidden = dispatched(operator, liaison_a.unit)
    allowed = dispatched(operator, liaison_a.unit, allow_unit_contact=True)
    assert requester_for(liaison_a, hidden).hidden_reason == "未同意向承办单位公开"
    assert requester_for(liaison_a, hidden).phone == ""
    view = requester_for(liaison_a, allowed)
    assert (view.name, view.phone, view.hidden) == ("王**", "138****8000", False)
    with pytest.raises(PermissionDenied):
        requester_contact(hidden, by=liaison_a, purpose="联系核实")
    assert requester_contact(allowed, by=liaison_a, purpose="联系核实") == {
        "requester_name": "王小明",
        "requester_phone": PHONE,
    }
    row = AuditLog.objects.filter(action="personal_data.viewed").get()
    assert (row.actor, row.target_id, row.data["purpose"]) == (liaison_a, str(allowed.pk), "联系核实")


@pytest.mark.parametrize(
    ("flags", "reason"),
    [({"is_anonymous": True}, ("匿名", "匿名")), ({"is_confidential": True}, ("保密", "要求保密"))],
)
def test_anonymous_or_confidential_never_revealed_to_the_unit(operator, liaison_a, flags, reason):
    order = dispatched(operator, liaison_a.unit, allow_unit_contact=True, **flags)
    order.refresh_from_db()
    assert order.allow_unit_contact is False
    view = requester_for(liaison_a, order)
    assert (view.name, view.phone, view.hidden_reason) == (reason[0], "", reason[1])
    with pytest.raises(PermissionDenied):
        requester_contact(order, by=liaison_a, purpose="联系")
    assert AuditLog.objects.filter(action="personal_data.viewed").count() == 0


def test_inspector_reveals_in_full_with_an_audit_row(operator, inspector, liaison_a):
    # Confidential, not anonymous: an anonymous request keeps no phone to reveal (services.intake).
    order = dispatched(operator, liaison_a.unit, is_confidential=True)
    with pytest.raises(PermissionDenied):
        reveal_requester(order, by=operator, purpose="回访")
    assert reveal_requester(order, by=inspector, purpose="核查举报")["requester_phone"] == PHONE
    assert AuditLog.objects.filter(action="personal_data.viewed", actor=inspector).count() == 1


def test_operator_gets_the_phone_for_a_callback(operator):
    order = receive(operator)
    assert requester_contact(order, by=operator, purpose="回访")["requester_phone"] == PHONE


def test_other_unit_cannot_act_on_an_order(operator, liaison_a, liaison_b):
    order = dispatched(operator, liaison_a.unit)
    with pytest.raises(PermissionDenied, match="无权对工单"):
        services.transition(order, "sign", by=liaison_b)
    assert services.allowed_actions(liaison_a, order) == ["sign", "request_return", "note"]
    assert services.allowed_actions(operator, order) == ["note", "merge", "refer"]
