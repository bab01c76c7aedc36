"""Intake (受理): tracking codes numbered per day, query passwords (keyed HMAC-SM3), `receive_work_order`."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, Unpack

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.bulk import insert_rows
from zhengfeng.core.crypto import blind_index, keyed_mac
from zhengfeng.core.fields import EncryptedTextField
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
    return next_codes(at, 1)[0]


def next_codes(at: dt.datetime, count: int) -> list[str]:
    """The next `count` tracking codes of `at`'s day in one serial update (an import's batch); the
    same rule as `next_code`: call it inside the transaction that stores them."""
    if count < 1:
        raise ValueError(f"受理编号数量必须是正整数，而不是 {count!r}")
    day = timezone.localtime(at).date()
    serial, _ = WorkOrderSerial.objects.select_for_update().get_or_create(day=day)
    first = serial.last_number + 1
    serial.last_number += count
    serial.save(update_fields=["last_number"])
    return [f"{code_prefix(day)}{number:06d}" for number in range(first, first + count)]


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


class IntakeFields(TypedDict):
    """The keyword arguments of an intake (`receive_work_order`, `prepare_work_order`): the required
    ones, then those `_checked_order` gives a default (its signature is the one place of the defaults)."""

    by: User | None
    channel: str
    request_type: str
    title: str
    content: str
    division: Division | str
    at: NotRequired[dt.datetime | None]
    urgency: NotRequired[str]
    is_complex: NotRequired[bool]
    concerns_conduct: NotRequired[bool]
    category: NotRequired[Category | str | None]
    address: NotRequired[str]
    latitude: NotRequired[Any]
    longitude: NotRequired[Any]
    requester_name: NotRequired[str]
    requester_phone: NotRequired[str]
    requester_id_number: NotRequired[str]
    is_anonymous: NotRequired[bool]
    is_confidential: NotRequired[bool]
    allow_unit_contact: NotRequired[bool]
    external_id: NotRequired[str | None]
    query_password: NotRequired[str | None]
    code: NotRequired[str | None]
    query_password_hash: NotRequired[str | None]


def receive_work_order(**fields: Unpack[IntakeFields]) -> Intake:
    """Register a request (受理) from any channel.

    An anonymous request (`is_anonymous`) stores no name and no phone: both are dropped, never refused,
    and it allows no unit contact.
    Side effects: the WorkOrder (tracking code numbered per day, query password hashed), a
    `received` event, one audit row `hotline.received` (no personal data in it).
    Returns the order and the plaintext query password, which is not stored.
    A request numbered and answered earlier (an Open311 submission) brings its `code` and
    `query_password_hash`; then no password is returned (the requester already has it).
    """
    new = prepare_work_order(**fields)
    order = new.order
    with transaction.atomic():
        _check_unused(
            order.external_id, order.code or None, taken_external=_taken_external, taken_code=_taken_code
        )
        if not order.code:
            order.code = next_code(order.received_at)
        order.save(force_insert=True)
        _event(
            order,
            EventKind.RECEIVED,
            at=order.received_at,
            by=new.by,
            text=_received_text(order.channel, order.request_type),
            public=True,
        )
        _audit("received", order, by=new.by, data=new.audit_data)
    return Intake(order=order, password=new.password)


@dataclass(frozen=True)
class NewOrder:
    """A validated, unsaved work order (`prepare_work_order`), with what its side rows need."""

    order: WorkOrder
    password: str
    by: User | None
    audit_data: dict[str, Any]


def prepare_work_order(**fields: Unpack[IntakeFields]) -> NewOrder:
    """Every rule of `receive_work_order` that needs no write: the checked, unsaved order (its code
    empty unless given). Raises ValidationError or PermissionDenied as `receive_work_order` does."""
    checked = _checked_order(**fields)
    order = WorkOrder(**checked.values)
    # The objects read by the checks, so that callers reading them cost no query.
    order.division, order.category = checked.division, checked.category
    audit_data = {
        "channel": order.channel,
        "type": order.request_type,
        "urgency": order.urgency,
        "category": checked.category.code if checked.category else None,
        "anonymous": order.is_anonymous,
        "confidential": order.is_confidential,
        "external_id": order.external_id,
    }
    return NewOrder(order=order, password=checked.password, by=fields["by"], audit_data=audit_data)


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
                text=_received_text(new.order.channel, new.order.request_type),
                data={},
                is_public=True,
            )
            for new in saved
        ]
    )
    audit.record_many([_audit_entry("received", new.order, by=new.by, data=new.audit_data) for new in saved])
    return outcomes


def receive_work_orders(requests: Sequence[dict[str, Any]], *, source: str) -> list[str]:
    """Register many requests at once (a batch of an import), each checked as `receive_work_order` checks it.

    `requests` holds `receive_work_order`'s keyword arguments, one dict per request, without `by`,
    `code` or a password: the system registers them (by None) with a fresh query password each, which
    nobody is shown, as a single import does. Everything is checked before anything is written; one
    bad request raises ValidationError (naming its external id) and nothing of the batch is saved.
    Side effects, in one transaction: the WorkOrders (codes numbered per day in one serial update
    per day), their `received` events, and one audit row `hotline.received_batch` listing every code
    and external id, written last so that the audit chain's head is locked only for the commit.
    Returns the tracking codes in the order given.
    """
    rows = []
    for request in requests:
        try:
            rows.append(_checked_order(by=None, **request).values)
        except ValidationError as exc:
            label = str(request.get("external_id") or "").strip()
            raise ValidationError([f"外部编号 {label}：{message}" for message in exc.messages]) from exc
    if not rows:
        return []
    externals = [row["external_id"] for row in rows if row["external_id"] is not None]
    with transaction.atomic():
        taken = list(
            WorkOrder.objects.filter(external_id__in=externals).values_list("external_id", "code")[:20]
        )
        if taken:
            raise ValidationError([_external_taken(str(external), code) for external, code in taken])
        by_day: dict[dt.date, list[dict[str, Any]]] = {}
        for row in rows:
            by_day.setdefault(timezone.localtime(row["received_at"]).date(), []).append(row)
        for day_rows in by_day.values():
            for row, code in zip(
                day_rows, next_codes(day_rows[0]["received_at"], len(day_rows)), strict=True
            ):
                row["code"] = code
        ids = _insert(rows)
        insert_rows(
            WorkOrderEvent,
            {
                "order_id": ids,
                "kind": [EventKind.RECEIVED.value] * len(rows),
                "at": [row["received_at"] for row in rows],
                "text": [_received_text(row["channel"], row["request_type"]) for row in rows],
                "is_public": [True] * len(rows),
            },
        )
        audit.record(
            "hotline.received_batch",
            by=None,
            data={
                "source": source,
                "count": len(rows),
                "orders": [[row["code"], row["external_id"]] for row in rows],
            },
        )
    return [row["code"] for row in rows]


def _insert(rows: list[dict[str, Any]]) -> list[int]:
    """Insert checked, numbered orders set-based (core.bulk); their ids in the order given.

    `bulk_create` builds a model instance per order and prepares each of its 40-odd values in
    Python, which cost more than the rest of an import; `insert_rows` sends the batch as one
    parameter. It takes values as stored, so the encrypted fields are encrypted here (by the fields'
    own `get_prep_value`), and it skips conflicting rows silently, so every order is found again by
    its code and its (salted, unique) query-password hash: a missing one raises ValidationError and
    the caller's transaction rolls the batch back.
    """
    now = timezone.now()
    fields = {field.attname: field for field in WorkOrder._meta.concrete_fields}
    columns: dict[str, list[Any]] = {}
    for name in rows[0]:
        field = fields[name]
        if isinstance(field, EncryptedTextField):
            columns[name] = [field.get_prep_value(row[name]) for row in rows]
        else:
            columns[name] = [row[name] for row in rows]
    # auto_now is applied by Model.save and bulk_create, not by a plain INSERT.
    columns["updated_at"] = [now] * len(rows)
    insert_rows(WorkOrder, columns)
    stored = {
        code: (pk, password_hash)
        for code, pk, password_hash in WorkOrder.objects.filter(
            code__in=[row["code"] for row in rows]
        ).values_list("code", "id", "query_password_hash")
    }
    ids = []
    for row in rows:
        pk, password_hash = stored.get(row["code"], (None, ""))
        if pk is None or password_hash != row["query_password_hash"]:
            raise ValidationError(
                f"工单 {row['external_id'] or row['code']} 未能写入：受理编号 {row['code']} 或外部编号与已登记的工单冲突"
            )
        ids.append(pk)
    return ids


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
            raise ValidationError(_external_taken(external, existing))
    if code is not None and taken_code(code):
        raise ValidationError(f"受理编号 {code} 已被使用")


def _external_taken(external: str, code: str) -> str:
    return f"外部编号 {external} 已登记为工单 {code}，不能重复登记"


def _received_text(channel: str, request_type: str) -> str:
    return f"{Channel(channel).label}受理：{RequestType(request_type).label}"


@dataclass(frozen=True)
class _Checked:
    # WorkOrder field values by attname (code "" unless given).
    values: dict[str, Any]
    # The plaintext query password, "" when its hash was given.
    password: str
    division: Division
    category: Category | None


def _checked_order(
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
) -> _Checked:
    """Every check of an intake and the order's field values (its code empty unless given), with the
    plaintext query password. The one rule of `receive_work_order` and `receive_work_orders`; it
    reads (division, category by code) but writes nothing. Values, not an unsaved WorkOrder: an
    import checks 100,000 of them, and a model instance costs as much as the checks."""
    # The one window of past facts (core.moments): year 1 or 9999 would be numbered and stored.
    at = plausible_moment(_when(at), field="受理时间")
    channel = _choice(channel, Channel, label="来源渠道")
    request_type = _choice(request_type, RequestType, label="诉求类型")
    urgency = _choice(urgency, Urgency, label="紧急程度")
    checked = check_intake(
        title=title, content=content, address=address, latitude=latitude, longitude=longitude
    )
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
    values = {
        "code": code or "",
        "query_password_hash": password_hash,
        "channel": channel,
        "request_type": request_type,
        "urgency": urgency,
        "is_complex": bool(is_complex),
        "concerns_conduct": bool(concerns_conduct),
        "category_id": category_obj.pk if category_obj else None,
        "title": checked.title,
        "content": checked.content,
        "division_id": division_obj.pk,
        "division_code": division_obj.code,
        "address": checked.address,
        "latitude": checked.latitude,
        "longitude": checked.longitude,
        "requester_name": name,
        "requester_phone": phone,
        "phone_index": blind_index(phone) if phone else "",
        "requester_id_number": id_number,
        "id_number_index": blind_index(id_number) if id_number else "",
        "is_anonymous": bool(is_anonymous),
        "is_confidential": bool(is_confidential),
        "allow_unit_contact": bool(allow_unit_contact) and not is_anonymous and not is_confidential,
        "external_id": external,
        "received_at": at,
        "created_by_id": by.pk if by is not None else None,
    }
    return _Checked(values=values, password=password, division=division_obj, category=category_obj)
