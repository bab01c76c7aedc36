"""Intake (受理): tracking codes numbered per day, query passwords (keyed HMAC-SM3), `receive_work_order`."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index, keyed_mac
from zhengfeng.core.keys import keyed_mac_candidates
from zhengfeng.core.moments import plausible_moment
from zhengfeng.hotline.models import (
    Category,
    Channel,
    EventKind,
    RequestType,
    Urgency,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderSerial,
)
from zhengfeng.hotline.services.common import (
    CODE_PREFIX,
    QUERY_HASH_PREFIX,
    QUERY_HASH_PURPOSE,
    Intake,
    _audit,
    _audit_entry,
    _category,
    _choice,
    _division,
    _event,
    _text,
    _when,
)
from zhengfeng.hotline.services.permissions import can_intake
from zhengfeng.hotline.services.rules import check_intake
from zhengfeng.org.models import Division, User
from zhengfeng.org.validators import normalise_phone, validate_id_number


def code_prefix(day: dt.date) -> str:
    return f"{CODE_PREFIX}{day:%Y%m%d}-"


def next_code(at: dt.datetime) -> str:
    """The next tracking code of `at`'s day; call inside the transaction that stores it (the day's
    serial row stays locked until commit, so codes have no gaps and no repeats)."""
    day = timezone.localtime(at).date()
    serial, _ = WorkOrderSerial.objects.select_for_update().get_or_create(day=day)
    serial.last_number += 1
    serial.save(update_fields=["last_number"])
    return f"{code_prefix(day)}{serial.last_number:06d}"


def new_query_password() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_query_password(password: str, *, salt: str | None = None) -> str:
    """`hmac-sm3$v1$<salt>$<mac>`: the pepper (derived from FIELD_ENCRYPTION_KEY) is not in the
    database, so a leaked table alone allows no guessing; the salt keeps equal PINs distinct."""
    salt = salt or secrets.token_hex(16)
    mac = keyed_mac(QUERY_HASH_PURPOSE, f"{salt}\x1f{password}".encode())
    return f"{QUERY_HASH_PREFIX}{salt}${mac}"


def check_query_password(order: WorkOrder, password: str) -> bool:
    """Constant-time check of the keyed hash; anything else stored there verifies nothing."""
    stored = order.query_password_hash
    if not password or not stored:
        return False
    if not stored.startswith(QUERY_HASH_PREFIX):
        return False
    salt = stored[len(QUERY_HASH_PREFIX) :].split("$", 1)[0]
    # Under the current key, or a retired one's pepper for a password set before a key rotation.
    macs = keyed_mac_candidates(QUERY_HASH_PURPOSE, f"{salt}\x1f{password}".encode())
    return any(hmac.compare_digest(stored, f"{QUERY_HASH_PREFIX}{salt}${mac}") for mac in macs)


def receive_work_order(
    *,
    by: User | None,
    channel: str,
    request_type: str,
    title: str,
    content: str,
    division: Division | str,
    at: dt.datetime | None = None,
    urgency: str = Urgency.NORMAL,
    is_complex: bool = False,
    concerns_conduct: bool = False,
    category: Category | str | None = None,
    address: str = "",
    latitude: Any = None,
    longitude: Any = None,
    requester_name: str = "",
    requester_phone: str = "",
    requester_id_number: str = "",
    is_anonymous: bool = False,
    is_confidential: bool = False,
    allow_unit_contact: bool = False,
    external_id: str | None = None,
    query_password: str | None = None,
    code: str | None = None,
    query_password_hash: str | None = None,
) -> Intake:
    """Register a request (受理) from any channel.

    An anonymous request (`is_anonymous`) stores no name and no phone: both are dropped, never refused,
    and it allows no unit contact.
    Side effects: the WorkOrder (tracking code numbered per day, query password hashed), a
    `received` event, one audit row `hotline.received` (no personal data in it).
    Returns the order and the plaintext query password, which is not stored.
    A request numbered and answered earlier (an Open311 submission) brings its `code` and
    `query_password_hash`; then no password is returned (the requester already has it).
    """
    new = prepare_work_order(
        by=by,
        channel=channel,
        request_type=request_type,
        title=title,
        content=content,
        division=division,
        at=at,
        urgency=urgency,
        is_complex=is_complex,
        concerns_conduct=concerns_conduct,
        category=category,
        address=address,
        latitude=latitude,
        longitude=longitude,
        requester_name=requester_name,
        requester_phone=requester_phone,
        requester_id_number=requester_id_number,
        is_anonymous=is_anonymous,
        is_confidential=is_confidential,
        allow_unit_contact=allow_unit_contact,
        external_id=external_id,
        query_password=query_password,
        code=code,
        query_password_hash=query_password_hash,
    )
    order = new.order
    with transaction.atomic():
        _check_unused(
            order.external_id, order.code or None, taken_external=_taken_external, taken_code=_taken_code
        )
        if not order.code:
            order.code = next_code(order.received_at)
        order.save(force_insert=True)
        _event(
            order, EventKind.RECEIVED, at=order.received_at, by=by, text=_received_text(order), public=True
        )
        _audit("received", order, by=by, data=new.audit_data)
    return Intake(order=order, password=new.password)


@dataclass(frozen=True)
class NewOrder:
    """A validated, unsaved work order (`prepare_work_order`), with what its side rows need."""

    order: WorkOrder
    password: str
    by: User | None
    audit_data: dict[str, Any]


def prepare_work_order(
    *,
    by: User | None,
    channel: str,
    request_type: str,
    title: str,
    content: str,
    division: Division | str,
    at: dt.datetime | None = None,
    urgency: str = Urgency.NORMAL,
    is_complex: bool = False,
    concerns_conduct: bool = False,
    category: Category | str | None = None,
    address: str = "",
    latitude: Any = None,
    longitude: Any = None,
    requester_name: str = "",
    requester_phone: str = "",
    requester_id_number: str = "",
    is_anonymous: bool = False,
    is_confidential: bool = False,
    allow_unit_contact: bool = False,
    external_id: str | None = None,
    query_password: str | None = None,
    code: str | None = None,
    query_password_hash: str | None = None,
) -> NewOrder:
    """Every rule of `receive_work_order` that needs no write: the checked, unsaved order (its code
    empty unless given). Raises ValidationError or PermissionDenied as `receive_work_order` does."""
    # The one window of past facts (core.moments): year 1 or 9999 would be numbered and stored.
    at = plausible_moment(_when(at), field="受理时间")
    channel = _choice(channel, Channel, label="来源渠道")
    request_type = _choice(request_type, RequestType, label="诉求类型")
    urgency = _choice(urgency, Urgency, label="紧急程度")
    checked = check_intake(
        title=title, content=content, address=address, latitude=latitude, longitude=longitude
    )
    title, content, address = checked.title, checked.content, checked.address
    lat, lng = checked.latitude, checked.longitude
    division_obj = _division(division)
    category_obj = _category(category)
    if is_anonymous:
        # Data minimisation: an anonymous requester is never contacted (no callback, no SMS), so
        # neither a name nor a phone is kept, whatever the channel sent.
        requester_name = requester_phone = ""
    name = _text(requester_name, label="诉求人姓名", max_length=40, required=False)
    phone = normalise_phone(requester_phone) if str(requester_phone or "").strip() else ""
    id_number = validate_id_number(requester_id_number) if str(requester_id_number or "").strip() else ""
    external = (external_id or "").strip() or None
    if external is not None and len(external) > 64:
        raise ValidationError(f"外部编号过长（最多 64 个字符）：{external[:70]}")
    if query_password_hash is not None:
        if not query_password_hash.startswith(QUERY_HASH_PREFIX):
            raise ValidationError("查询密码的摘要格式不正确")
        password, password_hash = "", query_password_hash
    else:
        password = query_password if query_password is not None else new_query_password()
        if not re.fullmatch(r"[0-9A-Za-z]{6,32}", password):
            raise ValidationError("查询密码应为 6–32 位字母或数字")
        # Computed before the transaction: the day's serial row stays locked from numbering to commit.
        password_hash = hash_query_password(password)
    if by is not None and not can_intake(by):
        raise PermissionDenied("只有热线坐席可以登记工单")
    order = WorkOrder(
        code=code or "",
        query_password_hash=password_hash,
        channel=channel,
        request_type=request_type,
        urgency=urgency,
        is_complex=bool(is_complex),
        concerns_conduct=bool(concerns_conduct),
        category=category_obj,
        title=title,
        content=content,
        division=division_obj,
        division_code=division_obj.code,
        address=address,
        latitude=lat,
        longitude=lng,
        requester_name=name,
        requester_phone=phone,
        phone_index=blind_index(phone) if phone else "",
        requester_id_number=id_number,
        id_number_index=blind_index(id_number) if id_number else "",
        is_anonymous=bool(is_anonymous),
        is_confidential=bool(is_confidential),
        allow_unit_contact=bool(allow_unit_contact) and not is_anonymous and not is_confidential,
        external_id=external,
        received_at=at,
        created_by=by,
    )
    audit_data = {
        "channel": channel,
        "type": request_type,
        "urgency": urgency,
        "category": category_obj.code if category_obj else None,
        "anonymous": order.is_anonymous,
        "confidential": order.is_confidential,
        "external_id": external,
    }
    return NewOrder(order=order, password=password, by=by, audit_data=audit_data)


def receive_work_orders_bulk(prepared: list[NewOrder]) -> list[Intake | ValidationError]:
    """Register prepared orders together: one bulk insert of the orders, one of their `received` events,
    one append of their audit rows (`hotline.received` each, as `receive_work_order` writes), in the
    caller's transaction. An order whose external id or code is taken (by an order or an earlier one of
    the batch) is not saved: its place in the answer holds the ValidationError `receive_work_order`
    raises. Orders without a code are numbered by `next_code`, as there.
    """
    externals = {new.order.external_id for new in prepared if new.order.external_id}
    codes = {new.order.code for new in prepared if new.order.code}
    taken_external = dict(
        WorkOrder.objects.filter(external_id__in=externals).values_list("external_id", "code")
    )
    taken_code = set(WorkOrder.objects.filter(code__in=codes).values_list("code", flat=True))
    outcomes: list[Intake | ValidationError] = []
    saved: list[NewOrder] = []
    for new in prepared:
        order = new.order
        try:
            _check_unused(
                order.external_id,
                order.code or None,
                taken_external=lambda external: taken_external.get(external),
                taken_code=lambda code: code in taken_code,
            )
        except ValidationError as exc:
            outcomes.append(exc)
            continue
        if not order.code:
            order.code = next_code(order.received_at)
        if order.external_id:
            taken_external[order.external_id] = order.code
        taken_code.add(order.code)
        saved.append(new)
        outcomes.append(Intake(order=order, password=new.password))
    WorkOrder.objects.bulk_create([new.order for new in saved])
    WorkOrderEvent.objects.bulk_create(
        [
            WorkOrderEvent(
                order=new.order,
                kind=EventKind.RECEIVED,
                at=new.order.received_at,
                by=new.by,
                text=_received_text(new.order),
                data={},
                is_public=True,
            )
            for new in saved
        ]
    )
    audit.record_many([_audit_entry("received", new.order, by=new.by, data=new.audit_data) for new in saved])
    return outcomes


def _taken_external(external: str) -> str | None:
    return WorkOrder.objects.filter(external_id=external).values_list("code", flat=True).first()


def _taken_code(code: str) -> bool:
    return WorkOrder.objects.filter(code=code).exists()


def _check_unused(
    external: str | None,
    code: str | None,
    *,
    taken_external: Callable[[str], str | None],
    taken_code: Callable[[str], bool],
) -> None:
    """The two uniqueness rules of intake, with their messages (one place for single and bulk)."""
    if external is not None:
        existing = taken_external(external)
        if existing:
            raise ValidationError(f"外部编号 {external} 已登记为工单 {existing}，不能重复登记")
    if code is not None and taken_code(code):
        raise ValidationError(f"受理编号 {code} 已被使用")


def _received_text(order: WorkOrder) -> str:
    return f"{order.get_channel_display()}受理：{order.get_request_type_display()}"
