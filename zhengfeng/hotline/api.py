"""JSON API of the hotline app, mounted at /api/v1/hotline/ in config/api.py (OpenAPI at /api/v1/openapi.json).

- Staff (session): list (scoped, paginated, filters), detail (requester masked or hidden as
  `queries.requester_for` says; full values only through `/requester`, audited), intake, and every
  lifecycle action through `services.transition` (the role checks live there).
- Systems (API key with scope `hotline`, e.g. the 12345 platform): intake and status reads only; they
  never see the requester.

Bodies are parsed here rather than by Ninja so that every bad input (malformed JSON, a missing field,
a wrong type) is a 400 naming the problem in Chinese instead of Ninja's generic 422.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import pydantic
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja import Status as Answer
from ninja.errors import HttpError

from zhengfeng.core.api_errors import field_error
from zhengfeng.core.moments import plausible_day
from zhengfeng.hotline import queries, services
from zhengfeng.hotline.models import Channel, Status, WorkOrder, WorkOrderQuerySet
from zhengfeng.org.models import ApiKey, User
from zhengfeng.org.queries import unit_by_code

# Who may call each endpoint (session, API key scope `hotline`): config/api_access.py.
router = Router(tags=["hotline"])

MAX_PAGE_SIZE = 100
# Far beyond any list (10 million orders a year at 100 a page); a larger page overflows the database's
# 64-bit OFFSET (SQLite raised OverflowError: a 500).
MAX_PAGE = 1_000_000


# ------------------------------------------------------------------------------------ schemas


P = ParamSpec("P")
T = TypeVar("T")


class ErrorOut(Schema):
    detail: str


class OrderOut(Schema):
    code: str
    status: str
    status_label: str
    channel: str
    request_type: str
    urgency: str
    category_code: str | None
    category_path: str | None
    title: str
    division_code: str
    main_unit_code: str | None
    main_unit_name: str | None
    received_at: dt.datetime
    sign_due_at: dt.datetime | None
    reply_due_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    external_id: str | None


class OrderPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[OrderOut]


class RequesterOut(Schema):
    name: str
    phone: str
    id_number: str
    is_anonymous: bool
    is_confidential: bool
    hidden_reason: str


class EventOut(Schema):
    at: dt.datetime
    kind: str
    kind_label: str
    unit_name: str | None
    text: str
    is_public: bool


class OrderDetail(OrderOut):
    content: str
    address: str
    latitude: float | None
    longitude: float | None
    merged_into: str | None
    satisfaction: str
    resolved: bool | None
    reopen_count: int
    return_count: int
    extension_count: int
    requester: RequesterOut | None
    timeline: list[EventOut]
    allowed_actions: list[str]


class OrderCreated(Schema):
    order: OrderDetail
    # The query password the requester needs on the portal: shown this once, never stored.
    query_password: str | None
    created: bool


class RequesterFull(Schema):
    requester_name: str
    requester_phone: str
    requester_id_number: str = ""


def _required_text(description: str | None = None) -> Any:
    """A required text that must not be empty: `minLength: 1` in the document only. The service refuses
    an empty one with its own Chinese message (诉求内容不能为空 …), which a pydantic check would replace."""
    return Field(..., description=description, json_schema_extra={"minLength": 1})


class Strict(Schema):
    model_config = pydantic.ConfigDict(extra="forbid")


S = TypeVar("S", bound=Strict)


class OrderIn(Strict):
    channel: str | None = Field(None, description="来源渠道（默认：会话为 phone，接口密钥为 import）")
    request_type: str = _required_text()
    title: str = _required_text()
    content: str = _required_text()
    division: str = _required_text("行政区划代码（GB/T 2260）")
    urgency: str = "normal"
    is_complex: bool = False
    concerns_conduct: bool = False
    category: str | None = Field(None, description="诉求分类编码")
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    requester_name: str = ""
    requester_phone: str = ""
    requester_id_number: str = ""
    is_anonymous: bool = False
    is_confidential: bool = False
    allow_unit_contact: bool = False
    external_id: str | None = Field(None, description="外部系统编号；重复提交返回已登记的工单")
    received_at: dt.datetime | None = None


class TextIn(Strict):
    text: str = _required_text()


class DispatchIn(Strict):
    main_unit: str | None = Field(None, description="主办单位编码；空则按派单目录")
    co_units: list[str] = []


class ReviewReturnIn(Strict):
    decision: str = _required_text("reassign（改派）或 overrule（驳回强派）")
    note: str = ""
    main_unit: str | None = None
    co_units: list[str] = []


class ExtensionIn(Strict):
    days: int
    reason: str = _required_text()


class DecisionIn(Strict):
    approve: bool
    note: str = ""


class CallbackIn(Strict):
    reached: bool = True
    satisfaction: str = ""
    resolved: bool | None = None
    note: str = ""
    false_completion: bool = False
    reopen: bool = Field(False, description="不满意且属承办单位主观原因时重办")


class MergeIn(Strict):
    into: str = _required_text("主工单受理编号")


class VoidIn(Strict):
    reason: str = _required_text()


class ReferIn(Strict):
    to_unit: str = _required_text("纪检监察机关的单位编码")
    reason: str = _required_text()


# ------------------------------------------------------------------------------------ helpers


def _auth(request: HttpRequest) -> ApiKey | User:
    """Who calls: django-ninja sets `request.auth` to what the router's authentication returned."""
    auth = getattr(request, "auth", None)
    if not isinstance(auth, ApiKey | User):  # never: the router lets no one else through
        raise HttpError(401, "请先登录或提供接口密钥")
    return auth


def _is_key(request: HttpRequest) -> bool:
    return isinstance(_auth(request), ApiKey)


def _user(request: HttpRequest) -> User:
    auth = _auth(request)
    if isinstance(auth, ApiKey):
        raise HttpError(403, "接口密钥只能登记工单和查询工单状态；办理操作须由工作人员登录后进行")
    return auth


def _visible(request: HttpRequest) -> WorkOrderQuerySet:
    auth = _auth(request)
    if isinstance(auth, ApiKey):
        # The 12345 platform reads the status of every order; it never sees the requester.
        return WorkOrder.objects.select_related("category", "main_unit")
    return queries.work_orders_for(auth)


def _order(request: HttpRequest, code: str) -> WorkOrder:
    order = _visible(request).filter(code=code.strip().upper()).first()
    if order is None:
        raise HttpError(404, f"工单 {code} 不存在或不在您的权限范围内")
    return order


def _payload(request: HttpRequest, schema: type[S]) -> S:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise HttpError(400, f"请求体不是有效的 JSON：{exc}") from exc
    if not isinstance(data, dict):
        raise HttpError(400, "请求体应为 JSON 对象")
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise HttpError(400, "；".join(field_error(error) for error in exc.errors())) from exc


def _body_doc(schema: type[Strict]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema.model_json_schema()}},
        }
    }


def _service_call(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from exc
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or "无权执行该操作") from exc


def _summary(order: WorkOrder) -> dict[str, Any]:
    return {
        "code": order.code,
        "status": order.status,
        "status_label": order.get_status_display(),
        "channel": order.channel,
        "request_type": order.request_type,
        "urgency": order.urgency,
        "category_code": order.category.code if order.category is not None else None,
        "category_path": order.category.path if order.category is not None else None,
        "title": order.title,
        "division_code": order.division_code,
        "main_unit_code": order.main_unit.code if order.main_unit is not None else None,
        "main_unit_name": order.main_unit.name if order.main_unit is not None else None,
        "received_at": order.received_at,
        "sign_due_at": order.sign_due_at,
        "reply_due_at": order.reply_due_at,
        "replied_at": order.replied_at,
        "closed_at": order.closed_at,
        "external_id": order.external_id,
    }


def _detail(request: HttpRequest, order: WorkOrder) -> dict[str, Any]:
    # Re-read: the action may have changed what the caller sees (a unit keeps its past orders in scope).
    order = _visible(request).select_related("merged_into").filter(pk=order.pk).first() or order
    auth = _auth(request)
    requester = None
    if isinstance(auth, User):
        view = queries.requester_for(auth, order)
        requester = {
            "name": view.name,
            "phone": view.phone,
            "id_number": view.id_number,
            "is_anonymous": order.is_anonymous,
            "is_confidential": order.is_confidential,
            "hidden_reason": view.hidden_reason,
        }
    # An integrating system (API key) gets the requester's view of the timeline.
    entries = queries.timeline(order, public_only=_is_key(request))
    return {
        **_summary(order),
        "content": order.content,
        "address": order.address,
        "latitude": float(order.latitude) if order.latitude is not None else None,
        "longitude": float(order.longitude) if order.longitude is not None else None,
        "merged_into": order.merged_into.code if order.merged_into is not None else None,
        "satisfaction": order.satisfaction,
        "resolved": order.resolved,
        "reopen_count": order.reopen_count,
        "return_count": order.return_count,
        "extension_count": order.extension_count,
        "requester": requester,
        "timeline": [
            {
                "at": entry.at,
                "kind": entry.kind,
                "kind_label": entry.kind_label,
                "unit_name": entry.unit_name,
                "text": entry.text,
                "is_public": entry.is_public,
            }
            for entry in entries
        ],
        "allowed_actions": services.allowed_actions(auth, order) if isinstance(auth, User) else [],
    }


def _date(value: str, name: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise HttpError(400, f"{name} 应为日期（YYYY-MM-DD），而不是 {value!r}") from exc
    try:
        # The one window of past facts (core.moments); 9999-12-31 + 1 day would overflow below.
        return plausible_day(day, field=name)
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from exc


# ------------------------------------------------------------------------------------ reads


@router.get("/orders", response={200: OrderPage, 400: ErrorOut}, summary="工单列表（按权限范围）")
def list_orders(
    request: HttpRequest,
    status: str = "",
    unit: str = "",
    overdue: str = "",
    received_from: str = "",
    received_to: str = "",
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    """Filters: `status` (comma list of states), `unit` (主办单位编码), `overdue` (`sign`, `reply` or
    `any`), `received_from` / `received_to` (dates, inclusive). Newest first."""
    orders = _visible(request)
    statuses = [s.strip() for s in status.split(",") if s.strip()]
    unknown = [s for s in statuses if s not in Status.values]
    if unknown:
        raise HttpError(400, f"未知的状态：{'、'.join(unknown)}；可用：{'、'.join(Status.values)}")
    if statuses:
        orders = orders.filter(status__in=statuses)
    if unit.strip():
        main = unit_by_code(unit.strip())
        if main is None:
            raise HttpError(400, f"未知的单位编码：{unit}")
        orders = orders.filter(main_unit=main)
    now = timezone.now()
    if overdue == "sign":
        orders = orders.sign_overdue(at=now)
    elif overdue == "reply":
        orders = orders.reply_overdue(at=now)
    elif overdue == "any":
        orders = orders.overdue(at=now)
    elif overdue:
        raise HttpError(400, f"overdue 应为 sign、reply 或 any，而不是 {overdue!r}")
    if received_from:
        start = timezone.make_aware(dt.datetime.combine(_date(received_from, "received_from"), dt.time.min))
        orders = orders.filter(received_at__gte=start)
    if received_to:
        end_day = _date(received_to, "received_to") + dt.timedelta(days=1)
        orders = orders.filter(received_at__lt=timezone.make_aware(dt.datetime.combine(end_day, dt.time.min)))
    if not 1 <= page <= MAX_PAGE or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise HttpError(
            400, f"page 应在 1–{MAX_PAGE} 之间，page_size 应在 1–{MAX_PAGE_SIZE} 之间：{page}、{page_size}"
        )
    orders = orders.order_by("-received_at", "-id")
    items = list(orders[(page - 1) * page_size : page * page_size])
    return {
        "count": orders.count(),
        "page": page,
        "page_size": page_size,
        "items": [_summary(order) for order in items],
    }


@router.get(
    "/orders/{code}", response={200: OrderDetail, 404: ErrorOut}, summary="工单详情（诉求人信息按权限脱敏）"
)
def get_order(request: HttpRequest, code: str) -> dict[str, Any]:
    return _detail(request, _order(request, code))


@router.get(
    "/orders/{code}/requester",
    response={200: RequesterFull, 403: ErrorOut, 404: ErrorOut},
    summary="查看完整诉求人信息（记录审计日志）",
)
def reveal_requester(request: HttpRequest, code: str, purpose: str = "") -> dict[str, str]:
    """Inspectors see everything; operators (callbacks) and the handling unit (when the requester
    allowed it) see name and phone. Every view is audited with its `purpose`."""
    user = _user(request)
    order = _order(request, code)
    return _service_call(queries.requester_contact, order, by=user, purpose=purpose)


# ------------------------------------------------------------------------------------ intake


@router.post(
    "/orders",
    response={200: OrderCreated, 201: OrderCreated, 400: ErrorOut, 403: ErrorOut},
    summary="登记工单（受理）",
    openapi_extra=_body_doc(OrderIn),
)
def create_order(request: HttpRequest) -> Answer:
    """Session: operators (and monitors). API key: the 12345 platform. With `external_id`, a repeat
    answers the order already registered (200, no password) instead of registering it twice."""
    data = _payload(request, OrderIn)
    external_id = (data.external_id or "").strip() or None
    if external_id:
        existing = _visible(request).filter(external_id=external_id).first()
        if existing is not None:
            return Answer(
                200, {"order": _detail(request, existing), "query_password": None, "created": False}
            )
    auth = _auth(request)
    by = auth if isinstance(auth, User) else None
    if by is not None and not services.can_intake(by):
        raise HttpError(403, "只有热线坐席可以登记工单")
    channel = data.channel or (Channel.IMPORT if by is None else Channel.PHONE)
    intake = _service_call(
        services.receive_work_order,
        by=by,
        channel=channel,
        request_type=data.request_type,
        title=data.title,
        content=data.content,
        division=data.division,
        at=data.received_at,
        urgency=data.urgency,
        is_complex=data.is_complex,
        concerns_conduct=data.concerns_conduct,
        category=data.category,
        address=data.address,
        latitude=data.latitude,
        longitude=data.longitude,
        requester_name=data.requester_name,
        requester_phone=data.requester_phone,
        requester_id_number=data.requester_id_number,
        is_anonymous=data.is_anonymous,
        is_confidential=data.is_confidential,
        allow_unit_contact=data.allow_unit_contact,
        external_id=external_id,
    )
    return Answer(
        201, {"order": _detail(request, intake.order), "query_password": intake.password, "created": True}
    )


# ------------------------------------------------------------------------------------ lifecycle actions


def _act(request: HttpRequest, code: str, action: str, **data: Any) -> dict[str, Any]:
    user = _user(request)
    order = _order(request, code)
    _service_call(services.transition, order, action, by=user, **data)
    return _detail(request, order)


def _merge_data(request: HttpRequest, body: MergeIn) -> dict[str, Any]:
    return {"into": _order(request, body.into)}


# path, action, body schema, summary; the body's fields are the action's keyword arguments.
ACTIONS: list[tuple[str, str, type[Strict] | None, str]] = [
    ("answer", "answer", TextIn, "直接答复（办结）"),
    ("dispatch", "dispatch", DispatchIn, "派单（主办＋协办；不指定则按派单目录）"),
    ("sign", "sign", None, "签收"),
    ("review-return", "review_return", ReviewReturnIn, "退单审核：改派或驳回强派"),
    ("note", "note", TextIn, "办理记录"),
    ("extension", "request_extension", ExtensionIn, "申请延期"),
    ("extension-decision", "decide_extension", DecisionIn, "延期审批（单位负责人，然后热线）"),
    ("reply", "draft_reply", TextIn, "拟写答复"),
    ("reply-approval", "approve_reply", DecisionIn, "单位负责人签发答复"),
    ("reply-review", "review_reply", DecisionIn, "热线审核答复（通过或退回重办）"),
    ("callback", "callback", CallbackIn, "回访（不满意可重办）"),
    ("merge", "merge", MergeIn, "并单：并入主工单"),
    ("void", "void", VoidIn, "作废"),
    ("refer", "refer", ReferIn, "移送纪检监察机关"),
]


def _register(path: str, action: str, schema: type[Strict] | None, summary: str) -> None:
    def endpoint(request: HttpRequest, code: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if schema is not None:
            body = _payload(request, schema)
            data = _merge_data(request, body) if isinstance(body, MergeIn) else body.model_dump()
        return _act(request, code, action, **data)

    endpoint.__name__ = f"order_{action}"
    router.post(
        f"/orders/{{code}}/{path}",
        response={200: OrderDetail, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
        summary=summary,
        operation_id=f"hotline_order_{action}",
        openapi_extra=_body_doc(schema) if schema is not None else None,
    )(endpoint)


for _path, _action, _schema, _summary_text in ACTIONS:
    _register(_path, _action, _schema, _summary_text)


@router.post(
    "/orders/{code}/return",
    response={200: OrderDetail, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="申请退单（multipart：reason 理由，evidence 依据材料文件）",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["reason", "evidence"],
                        "properties": {
                            "reason": {"type": "string"},
                            "evidence": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
def request_return(request: HttpRequest, code: str) -> dict[str, Any]:
    reason = request.POST.get("reason", "")
    evidence = request.FILES.get("evidence")
    return _act(request, code, "request_return", reason=reason, evidence=evidence)
