"""Open311 GeoReport v2 (JSON and XML) over the hotline's work orders, with the discovery document and
mySociety's two-way `servicerequestupdates` extension. docs/hotline.md ("Open311, API, import, public
filing") lists the decisions: which orders are public, the double-POST rule, merged orders, channels.

Views are thin: parameters are checked here (the spec's error format), a POST is stored by
`submissions.accept_open311_submission` (registered as a work order by the worker), and every record is built by `request_record()` from a fixed list of
non-personal fields, so personal data cannot reach the output by accident.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from zhengfeng.core.crypto import blind_index, mask_id_number, mask_phone
from zhengfeng.core.input_guard import control_character
from zhengfeng.core.memo import TimedMemo
from zhengfeng.core.moments import plausible_day, plausible_moment
from zhengfeng.hotline import services
from zhengfeng.hotline.models import (
    CONTENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Category,
    Open311Submission,
    RequestType,
    Status,
    SubmissionState,
    WorkOrder,
    WorkOrderEvent,
)
from zhengfeng.hotline.services import submissions
from zhengfeng.org import validators
from zhengfeng.org.auth import key_from_token
from zhengfeng.org.models import ApiKey, Division

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# When this API last changed in a way clients should notice (discovery `changeset`).
CHANGESET = "2026-11-27T00:00:00+08:00"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
API_KEY_SCOPE = "open311"
MAX_WINDOW = dt.timedelta(days=90)
MAX_REQUESTS = 1000
# A larger page overflows the database's 64-bit OFFSET (a 500 on SQLite); no one pages this far.
MAX_PAGE = 1_000_000
# A POST repeating the same key, device, service, place and text within this window is the same request.
DUPLICATE_WINDOW = dt.timedelta(minutes=10)
EXTERNAL_ID_PREFIX = "open311"
NAME_PART_MAX_LENGTH = 20
DERIVED_TITLE_LENGTH = 40
DEFAULT_REQUEST_TYPE = RequestType.COMPLAINT

# The POST reads these on every request; both change rarely (see _category, _division_code).
_recent_categories: TimedMemo[Category] = TimedMemo("hotline.open311_categories", seconds=60)
_recent_divisions: TimedMemo[str] = TimedMemo("hotline.open311_divisions", seconds=60)

# The Spark convention: these containers hold repeated children, which become JSON arrays.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}

# The service definition shared by every category (all services have metadata=true).
ATTRIBUTES: list[dict[str, Any]] = [
    {
        "variable": True,
        "code": "request_type",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": "诉求类型",
        "order": 1,
        "description": "诉求类型：咨询、求助、投诉、举报、建议或表扬",
        "values": [{"key": value, "name": label} for value, label in RequestType.choices],
    },
    {
        "variable": True,
        "code": "title",
        "datatype": "string",
        "required": False,
        "datatype_description": f"不超过 {TITLE_MAX_LENGTH} 字",
        "order": 2,
        "description": "诉求标题（一句话概括）；不填时取诉求内容的开头",
        "values": [],
    },
]
ATTRIBUTE_CODES = {attribute["code"]: attribute for attribute in ATTRIBUTES}

# Personal data citizens type into free text: masked in every text Open311 prints.
_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_HTML_RE = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>|&#?\w+;")
_ATTRIBUTE_RE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
# Characters XML 1.0 does not allow (C0 controls except tab, LF, CR; surrogates; U+FFFE, U+FFFF).
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Status of an update on the extension endpoint (upper case, as mySociety's clients send them).
UPDATE_STATUSES = frozenset(
    {
        "OPEN",
        "CLOSED",
        "FIXED",
        "IN_PROGRESS",
        "PLANNED",
        "ACTION_SCHEDULED",
        "INVESTIGATING",
        "DUPLICATE",
        "NOT_COUNCILS_RESPONSIBILITY",
        "NO_FURTHER_ACTION",
        "INTERNAL_REFERRAL",
        "CANCELLED",
        "REOPEN",
        "FOR_TRIAGE",
        "UNCHANGED",
    }
)


class Open311Error(Exception):
    """Answered as the spec's error list: `[{"code", "description"}]` or `<errors><error>…`."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions


# ------------------------------------------------------------------------------------ rendering


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # XML 1.0 cannot carry these even escaped: a row stored before intake refused them must not break
    # the document for every client.
    return escape(_XML_INVALID_RE.sub("", str(value)))


def _xml(tag: str, value: Any, parts: list[str]) -> None:
    if isinstance(value, dict):
        parts.append(f"<{tag}>")
        for key, item in value.items():
            _xml(key, item, parts)
        parts.append(f"</{tag}>")
    elif isinstance(value, list):
        child = LIST_ITEMS[tag]
        parts.append(f"<{tag}>")
        for item in value:
            _xml(child, item, parts)
        parts.append(f"</{tag}>")
    elif value is None:
        parts.append(f"<{tag}/>")
    else:
        parts.append(f"<{tag}>{_xml_value(value)}</{tag}>")


def render(fmt: str, root: str, body: Any, *, status: int = 200) -> HttpResponse:
    """`body` in JSON (as is: bare arrays) or XML (wrapped in `root`, lists by the Spark convention)."""
    if fmt == "json":
        content = orjson.dumps(body)
    else:
        parts = ['<?xml version="1.0" encoding="utf-8"?>']
        _xml(root, body, parts)
        content = "".join(parts).encode()
    return HttpResponse(content, status=status, content_type=FORMATS[fmt])


def render_error(fmt: str, error: Open311Error) -> HttpResponse:
    body = [{"code": error.status, "description": text} for text in error.descriptions]
    return render(fmt, "errors", body, status=error.status)


def refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """core.input_guard's refusal of an Open311 request (settings.INPUT_REFUSAL_FORMATS), in the spec's
    error format: the path's suffix names it, XML when it names none (as the spec's default)."""
    fmt = "json" if request.path.endswith(".json") else "xml"
    return render_error(fmt, Open311Error(status, message))


def open311_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Spec errors in the requested format; CSRF off (POST is authorised by the api_key, not a cookie)."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, fmt: str = "xml", **kwargs: Any) -> HttpResponse:
        try:
            _check_jurisdiction(request)
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as error:
            return render_error(fmt, error)

    return wrapper


# ------------------------------------------------------------------------------------ parameters


def _param(request: HttpRequest, name: str) -> str:
    """A parameter from the body (POST) or the query string; empty means absent (spec)."""
    value = request.POST.get(name) if request.method == "POST" else None
    if value is None:
        value = request.GET.get(name, "")
    return value.strip()


def _check_jurisdiction(request: HttpRequest) -> None:
    jurisdiction = _param(request, "jurisdiction_id")
    if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION_ID:
        raise Open311Error(
            404, f"未知的 jurisdiction_id：{jurisdiction}（本接口只服务 {settings.OPEN311_JURISDICTION_ID}）"
        )


def _method(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise Open311Error(400, f"不支持的请求方法 {request.method}，应为 {' 或 '.join(allowed)}")


def parse_datetime(value: str, *, name: str, end: bool = False) -> dt.datetime:
    """W3C-DTF: a date (`2026-11-01`; as an end, the whole day counts) or a date-time; a value without
    a zone is read as local time (Asia/Shanghai)."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            # Checked before the day is added: 9999-12-31 + 1 day overflows.
            day = plausible_day(dt.date.fromisoformat(text), field=name)
            if end:
                day += dt.timedelta(days=1)
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        if "T" in text and text.count(" ") == 1:
            # An unencoded "+08:00" in a query string arrives as " 08:00".
            text = text.replace(" ", "+")
        parsed = dt.datetime.fromisoformat(text)
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return plausible_moment(parsed, field=name)
    except ValidationError as exc:
        raise Open311Error(400, "；".join(exc.messages)) from exc
    except ValueError as exc:
        raise Open311Error(
            400, f"{name} 不是有效的 W3C 日期时间（如 2026-11-01T08:00:00+08:00）：{value}"
        ) from exc


def _w3c(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def redact(text: str | None) -> str | None:
    """Mask mobile, landline and ID numbers a citizen typed into free text."""
    if not text:
        return text
    text = _ID_NUMBER_RE.sub(lambda m: mask_id_number(m.group()), text)
    text = _MOBILE_RE.sub(lambda m: mask_phone(m.group()), text)
    return _LANDLINE_RE.sub(lambda m: mask_phone(m.group().replace("-", "")), text)


# ------------------------------------------------------------------------------------ records


def public_orders() -> QuerySet[WorkOrder]:
    """Orders Open311 may show: classified, not anonymous, not confidential, not about a cadre's
    conduct (those belong to the discipline office), not voided."""
    return (
        WorkOrder.objects.filter(category__isnull=False)
        .exclude(is_anonymous=True)
        .exclude(is_confidential=True)
        .exclude(concerns_conduct=True)
        .exclude(status=Status.VOIDED)
        .select_related("category", "main_unit", "merged_into__main_unit", "merged_into__category")
    )


def _status_notes(order: WorkOrder, shown: WorkOrder) -> str:
    label = shown.get_status_display()
    if shown.main_unit is not None and shown.status in Status.OPEN_STATES:
        label = f"{label}（主办：{shown.main_unit.name}）"
    if order.merged_into_id:
        return f"重复诉求，已并入工单 {shown.code} 办理；{label}"
    return label


def request_record(order: WorkOrder, *, extensions: bool = False) -> dict[str, Any]:
    """One Open311 request record, from non-personal fields only.

    A merged order keeps its own id (the requester holds that code) and shows its main order's
    status, unit and due time, with the main order's id in `status_notes`.
    """
    shown = order.merged_into or order
    if order.category is None:  # never: public_orders() shows classified orders only
        raise ValueError(f"工单 {order.code} 未分类，不能公开")
    closed = shown.status not in Status.OPEN_STATES
    updated = shown.closed_at if closed and shown.closed_at else max(order.updated_at, shown.updated_at)
    record: dict[str, Any] = {
        "service_request_id": order.code,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(order, shown),
        "service_name": order.category.path,
        "service_code": order.category.code,
        # The one-line title, not the citizen's full text: that routinely carries names and numbers.
        "description": redact(order.title),
        "agency_responsible": shown.main_unit.name if shown.main_unit is not None else None,
        "service_notice": None,
        "requested_datetime": _w3c(order.received_at),
        "updated_datetime": _w3c(updated),
        "expected_datetime": _w3c(shown.reply_due_at) if not closed else None,
        "address": redact(order.address) or None,
        "address_id": order.division_code,
        "zipcode": None,
        "lat": float(order.latitude) if order.latitude is not None else None,
        "long": float(order.longitude) if order.longitude is not None else None,
        "media_url": None,
    }
    if extensions:
        record["extended_attributes"] = {
            "channel": order.get_channel_display(),
            "request_type": order.get_request_type_display(),
            "merged_into": order.merged_into.code if order.merged_into is not None else None,
        }
        # Set by the Prefetch(to_attr="public_events") of _with_notes(); the stubs cannot know it.
        record["notes"] = [_note(event) for event in order.public_events]  # type: ignore[attr-defined]
    return record


def unregistered_submission(code: str) -> Open311Submission | None:
    """A POST accepted but not registered yet (waiting for the worker, or parked for the office)."""
    return Open311Submission.objects.filter(code=code).exclude(state=SubmissionState.REGISTERED).first()


def submission_record(submission: Open311Submission, *, extensions: bool = False) -> dict[str, Any]:
    """The record of an accepted, not yet registered POST: what the client sent, status open."""
    path = Category.objects.filter(code=submission.category_code).values_list("path", flat=True).first()
    waiting = "已受理，正在登记" if submission.state == SubmissionState.PENDING else "已受理，待人工登记"
    record: dict[str, Any] = {
        "service_request_id": submission.code,
        "status": "open",
        "status_notes": waiting,
        "service_name": path or submission.category_code,
        "service_code": submission.category_code,
        "description": redact(submission.title),
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": _w3c(submission.received_at),
        "updated_datetime": _w3c(submission.received_at),
        "expected_datetime": None,
        "address": redact(submission.address) or None,
        "address_id": submission.division_code,
        "zipcode": None,
        "lat": float(submission.latitude) if submission.latitude is not None else None,
        "long": float(submission.longitude) if submission.longitude is not None else None,
        "media_url": None,
    }
    if extensions:
        record["extended_attributes"] = {
            "channel": submissions.OPEN311_CHANNEL.label,
            "request_type": submission.get_request_type_display(),
            "merged_into": None,
        }
        record["notes"] = []
    return record


def _event_summary(event: WorkOrderEvent) -> str:
    """The kind and the unit only: free text (replies, callback notes) may name the requester."""
    label = event.get_kind_display()
    return f"{label}：{event.unit.name}" if event.unit is not None else label


def _note(event: WorkOrderEvent) -> dict[str, Any]:
    return {"datetime": _w3c(event.at), "description": _event_summary(event), "type": event.kind}


def _with_notes(orders: QuerySet[WorkOrder], extensions: bool) -> QuerySet[WorkOrder]:
    if not extensions:
        return orders
    events = WorkOrderEvent.objects.filter(is_public=True).select_related("unit").order_by("at", "id")
    return orders.prefetch_related(Prefetch("events", queryset=events, to_attr="public_events"))


def _extensions(request: HttpRequest) -> bool:
    return _param(request, "extensions").lower() in ("true", "1")


def _service(category: Category) -> dict[str, Any]:
    group = category.path.split("/", 1)[0]
    return {
        "service_code": category.code,
        "service_name": category.path,
        "description": f"{category.get_level_display()}诉求分类：{category.path}",
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.path.split("/")),
        "group": group,
    }


def _category(code: str, *, recent: bool = False) -> Category:
    """The active category a service code names, else 404. `recent=True` (the POST) may read it from
    a one-minute memo: a category withdrawn meanwhile leaves the registered order unclassified."""

    def active() -> Category | None:
        return Category.objects.filter(code=code, is_active=True).first()

    category = _recent_categories.get(code, active) if recent else active()
    if category is None:
        raise Open311Error(404, f"未知的 service_code：{code}")
    return category


def _division_code(code: str) -> str | None:
    return _recent_divisions.get(
        code, lambda: Division.objects.filter(code=code).values_list("code", flat=True).first()
    )


# ------------------------------------------------------------------------------------ discovery, services


@open311_view
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD")
    base = request.build_absolute_uri("/open311/v2")
    body = {
        "changeset": CHANGESET,
        "contact": settings.OPEN311_CONTACT,
        "key_service": "接口密钥（权限 open311）由市12345热线办签发：zhengfeng apikey create 名称 --scopes open311",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [FORMATS["xml"].split(";")[0], FORMATS["json"].split(";")[0]],
            }
        ],
    }
    return render(fmt, "discovery", body)


@open311_view
def service_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD")
    categories = Category.objects.filter(is_active=True).order_by("code")
    return render(fmt, "services", [_service(category) for category in categories])


@open311_view
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD")
    category = _category(code)
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": ATTRIBUTES})


# ------------------------------------------------------------------------------------ GET requests


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _window(request: HttpRequest, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start_text, end_text = _param(request, "start_date"), _param(request, "end_date")
    end = parse_datetime(end_text, name="end_date", end=True) if end_text else None
    start = parse_datetime(start_text, name="start_date") if start_text else None
    if start is None:
        if end is None:
            return now - MAX_WINDOW, now
        start = end - MAX_WINDOW
    if end is None:
        end = min(now, start + MAX_WINDOW) if start < now else start + MAX_WINDOW
    if end < start:
        raise Open311Error(400, f"end_date（{end_text}）早于 start_date（{start_text}）")
    if end - start > MAX_WINDOW:
        raise Open311Error(400, f"start_date 至 end_date 的跨度不能超过 90 天：{start_text} 至 {end_text}")
    return start, end


def _page(request: HttpRequest) -> tuple[int, int]:
    """The `page` / `page_size` extension (Extensions.md, issue #16); default the first 1000."""
    values = []
    for name, default in (("page", 1), ("page_size", MAX_REQUESTS)):
        text = _param(request, name)
        if not text:
            values.append(default)
            continue
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise Open311Error(400, f"{name} 应为正整数：{text}")
        values.append(int(text))
    page, size = values
    if size > MAX_REQUESTS:
        raise Open311Error(400, f"page_size 不能超过 {MAX_REQUESTS}：{size}")
    if page > MAX_PAGE:
        raise Open311Error(400, f"page 不能超过 {MAX_PAGE}：{page}")
    return page, size


def select_requests(request: HttpRequest, *, now: dt.datetime) -> list[WorkOrder]:
    """The GET /requests filters; `service_request_id` overrides all others (spec)."""
    orders = public_orders()
    ids = _comma_list(_param(request, "service_request_id"))
    if ids:
        if len(ids) > MAX_REQUESTS:
            raise Open311Error(400, f"service_request_id 最多 {MAX_REQUESTS} 个，实为 {len(ids)} 个")
        orders = orders.filter(code__in=[code.upper() for code in ids]).order_by("-received_at", "-id")
        return list(_with_notes(orders, _extensions(request)))
    orders = orders.exclude(status=Status.MERGED)
    codes = _comma_list(_param(request, "service_code"))
    if codes:
        known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise Open311Error(404, *(f"未知的 service_code：{code}" for code in unknown))
        orders = orders.filter(category__code__in=codes)
    statuses = [status.lower() for status in _comma_list(_param(request, "status"))]
    bad = [status for status in statuses if status not in ("open", "closed")]
    if bad:
        raise Open311Error(400, *(f"status 应为 open 或 closed，而不是 {status}" for status in bad))
    if set(statuses) == {"open"}:
        orders = orders.filter(Q(status__in=Status.OPEN_STATES))
    elif set(statuses) == {"closed"}:
        orders = orders.exclude(status__in=Status.OPEN_STATES)
    start, end = _window(request, now=now)
    page, size = _page(request)
    orders = orders.filter(received_at__gte=start, received_at__lt=end).order_by("-received_at", "-id")
    return list(_with_notes(orders, _extensions(request))[(page - 1) * size : page * size])


def _requests_get(request: HttpRequest, fmt: str) -> HttpResponse:
    extensions = _extensions(request)
    orders = select_requests(request, now=timezone.now())
    return render(fmt, "service_requests", [request_record(order, extensions=extensions) for order in orders])


@open311_view
def request_detail(request: HttpRequest, request_id: str, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD")
    extensions = _extensions(request)
    order = _with_notes(public_orders().filter(code=request_id.upper()), extensions).first()
    if order is not None:
        return render(fmt, "service_requests", [request_record(order, extensions=extensions)])
    submission = unregistered_submission(request_id.upper())
    if submission is None:
        raise Open311Error(404, f"未知的 service_request_id：{request_id}")
    return render(fmt, "service_requests", [submission_record(submission, extensions=extensions)])


@open311_view
def token(request: HttpRequest, token_id: str, *, fmt: str) -> HttpResponse:
    """The tracking code is answered at once, so it is its own token (for clients that poll tokens)."""
    _method(request, "GET", "HEAD")
    code = public_orders().filter(code=token_id.upper()).values_list("code", flat=True).first()
    if code is None:
        submission = unregistered_submission(token_id.upper())
        code = submission.code if submission is not None else None
    if code is None:
        raise Open311Error(404, f"未知的 token：{token_id}")
    return render(fmt, "service_requests", [{"service_request_id": code, "token": code}])


# ------------------------------------------------------------------------------------ POST requests


def api_key(request: HttpRequest, *, recent: bool = False) -> ApiKey:
    """The POST's api_key: a live key with the open311 scope, else 403.

    `recent=True` reads the key row from a 30-second memo; only a POST whose write checks the
    revocation again, exactly, may ask for it (`submissions.accept_open311_submission` does).
    """
    text = _param(request, "api_key")
    if not text:
        raise Open311Error(403, "缺少 api_key")
    key = key_from_token(text, recent=recent)
    if key is None:
        raise Open311Error(403, "api_key 无效或已吊销")
    if API_KEY_SCOPE not in key.scopes:
        raise Open311Error(403, f"该 api_key 没有 {API_KEY_SCOPE} 权限")
    return key


def _form_body(request: HttpRequest) -> None:
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Open311Error(
            400,
            f"请求体应为 application/x-www-form-urlencoded（UTF-8），而不是 {request.content_type or '空'}",
        )


# Open311's names of the fields `check_intake` reports, and its wording of each error code.
_INTAKE_PARAMS = {
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "content": "description",
    "title": "attribute[title]",
}


def _intake_errors(problems: dict[str, list[ValidationError]], field: str) -> list[str]:
    """`check_intake`'s errors of one field in the words Open311 has always answered with."""
    name = _INTAKE_PARAMS[field]
    texts = []
    for error in problems.get(field, []):
        params = error.params or {}
        if error.code == "invalid":
            texts.append(f"{name} 不是有效的数字：{params['value']}")
        elif error.code == "out_of_range":
            texts.append(f"{name} 超出范围（-{params['limit']} 至 {params['limit']}）：{params['value']}")
        elif error.code == "unpaired":
            texts.append("lat 和 long 须同时提供")
        elif error.code == "control_character":
            texts.append(f"{name} 含有控制字符 {params['character']}，请删除后重试")
        elif error.code == "too_long":
            texts.append(f"{name} 过长：共 {params['length']} 字，最多 {params['limit']} 字")
        elif error.code == "required" and field == "content":
            texts.append("缺少 description（诉求内容）")
        # A required title is only ever missing with the description, which has said so already.
    return texts


def _attributes(request: HttpRequest, errors: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in request.POST:
        match = _ATTRIBUTE_RE.match(name)
        if match is None:
            continue
        code = match.group(1)
        if code not in ATTRIBUTE_CODES:
            errors.append(f"未知的属性 attribute[{code}]，可用：{'、'.join(ATTRIBUTE_CODES)}")
            continue
        values[code] = (request.POST.get(name) or "").strip()
    for code, attribute in ATTRIBUTE_CODES.items():
        value = values.get(code, "")
        if not value:
            if attribute["required"]:
                errors.append(f"缺少必填属性 attribute[{code}]（{attribute['datatype_description']}）")
            continue
        allowed = [item["key"] for item in attribute["values"]]
        if attribute["datatype"] == "singlevaluelist" and value not in allowed:
            errors.append(f"attribute[{code}] 的取值 {value!r} 无效，应为：{'、'.join(allowed)}")
    return values


def _fingerprint(key: ApiKey, fields: Iterable[str], *, at: dt.datetime) -> tuple[str, str]:
    """external_id for the request and for the previous window: a keyed hash (no personal data)."""
    digest = blind_index("\x1f".join(fields))[:32]
    bucket = int(at.timestamp() // DUPLICATE_WINDOW.total_seconds())
    return (
        f"{EXTERNAL_ID_PREFIX}:{key.prefix}:{digest}:{bucket}",
        f"{EXTERNAL_ID_PREFIX}:{key.prefix}:{digest}:{bucket - 1}",
    )


def _posted(code: str, notice: str) -> list[dict[str, Any]]:
    return [{"service_request_id": code, "service_notice": notice, "account_id": None}]


def _requests_post(request: HttpRequest, fmt: str) -> HttpResponse:
    """Accept an Open311 POST (channel 网络问政) and answer its tracking code and query password.

    Side effects (through submissions.accept_open311_submission): one Open311Submission, which the
    worker registers as a work order within seconds. A repeat within DUPLICATE_WINDOW stores
    nothing and answers the first submission's code.
    """
    _form_body(request)
    key = api_key(request, recent=True)
    errors: list[str] = []
    code = _param(request, "service_code")
    if not code:
        raise Open311Error(400, "缺少必填参数 service_code")
    category = _category(code, recent=True)
    lat_text, long_text = _param(request, "lat"), _param(request, "long")
    address, address_id = _param(request, "address_string"), _param(request, "address_id")
    description = _param(request, "description")
    attribute_errors: list[str] = []
    attributes = _attributes(request, attribute_errors)
    title = attributes.get("title") or description[:DERIVED_TITLE_LENGTH]
    # The intake rules every channel shares (services.rules.check_intake), worded the Open311 way.
    try:
        checked = services.check_intake(
            title=title, content=description, address=address, latitude=lat_text, longitude=long_text
        )
        problems: dict[str, list[ValidationError]] = {}
    except ValidationError as exc:
        checked, problems = None, exc.error_dict
    errors = _intake_errors(problems, "latitude") + _intake_errors(problems, "longitude")
    if not ((lat_text and long_text) or address or address_id):
        errors.append("缺少位置：须提供 lat 和 long，或 address_string，或 address_id")
    division_code = _division_code(address_id or settings.OPEN311_DIVISION)
    if division_code is None:
        errors.append(
            f"未知的 address_id（应为 GB/T 2260 行政区划代码）：{address_id or settings.OPEN311_DIVISION}"
        )
    errors += _intake_errors(problems, "address")
    errors += _intake_errors(problems, "content")
    html = _HTML_RE.search(description)
    if "content" not in problems and html is not None:
        errors.append(f"description 不能包含 HTML：{html.group()}")
    phone = _param(request, "phone")
    if phone:
        try:
            phone = validators.normalise_phone(phone)
        except ValidationError as exc:
            errors.append(f"phone 无效：{exc.messages[0]}")
    email = _param(request, "email")
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            errors.append(f"email 不是有效的电子邮件地址：{email}")
    first, last = _param(request, "first_name"), _param(request, "last_name")
    for name, value in (("first_name", first), ("last_name", last)):
        if len(value) > NAME_PART_MAX_LENGTH:
            errors.append(f"{name} 过长：最多 {NAME_PART_MAX_LENGTH} 字")
    errors += attribute_errors
    # The title is derived from the description when absent: missing, it is the description's error.
    if not attributes.get("title") and "title" in problems:
        # Derived from the description, whose own error names the bad character already.
        problems["title"] = [error for error in problems["title"] if error.code != "control_character"]
    errors += _intake_errors(problems, "title")
    # (division_code is None only with an error listed; the test tells the type checker so.)
    if errors or checked is None or division_code is None:
        raise Open311Error(400, *errors)

    now = timezone.now()
    fields = (
        _param(request, "device_id"),
        category.code,
        description,
        lat_text,
        long_text,
        address,
        address_id,
        phone,
    )
    try:
        accepted = submissions.accept_open311_submission(
            key=key,
            external_ids=_fingerprint(key, fields, at=now),
            repeat_window=DUPLICATE_WINDOW,
            category_code=category.code,
            request_type=attributes.get("request_type") or DEFAULT_REQUEST_TYPE,
            title=title,
            content=description,
            division_code=division_code,
            address=checked.address,
            latitude=checked.latitude,
            longitude=checked.longitude,
            # Chinese order: family name first.
            requester_name=f"{last}{first}",
            requester_phone=phone,
            at=now,
        )
    except submissions.KeyRevokedError as exc:
        raise Open311Error(403, "api_key 无效或已吊销") from exc
    if accepted.duplicate:
        return render(fmt, "service_requests", _posted(accepted.code, _duplicate_notice(accepted)))
    notice = (
        f"已受理，受理编号 {accepted.code}，查询密码 {accepted.password}（只显示这一次，请转告诉求人妥善保存，"
        "凭受理编号和查询密码可在公众服务网站查询办理进度和答复）。"
    )
    return render(fmt, "service_requests", _posted(accepted.code, notice))


def _duplicate_notice(accepted: submissions.Accepted) -> str:
    return (
        f"重复提交：该诉求已于 {timezone.localtime(accepted.received_at):%Y-%m-%d %H:%M} 受理，"
        f"受理编号 {accepted.code}。"
    )


@open311_view
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD", "POST")
    if request.method == "POST":
        return _requests_post(request, fmt)
    return _requests_get(request, fmt)


# ------------------------------------------------------------------------------------ servicerequestupdates


def _update_record(event: WorkOrderEvent) -> dict[str, Any]:
    order = event.order
    shown = order.merged_into or order
    return {
        "update_id": str(event.pk),
        "service_request_id": order.code,
        "status": "OPEN" if shown.status in Status.OPEN_STATES else "CLOSED",
        "updated_datetime": _w3c(event.at),
        "description": _event_summary(event),
        "media_url": None,
        "external_status_code": event.kind,
    }


def _updates_get(request: HttpRequest, fmt: str) -> HttpResponse:
    now = timezone.now()
    start, end = _window(request, now=now)
    events = (
        WorkOrderEvent.objects.filter(
            is_public=True, at__gte=start, at__lt=end, order__in=public_orders().values("pk")
        )
        .select_related("unit", "order__merged_into")
        .order_by("at", "id")[:MAX_REQUESTS]
    )
    return render(fmt, "service_request_updates", [_update_record(event) for event in events])


@transaction.atomic
def _updates_post(request: HttpRequest, fmt: str) -> HttpResponse:
    _form_body(request)
    key = api_key(request)
    errors = [
        f"缺少必填参数 {name}"
        for name in ("service_request_id", "update_id", "status", "updated_datetime", "description")
        if not _param(request, name)
    ]
    if errors:
        raise Open311Error(400, *errors)
    status = _param(request, "status").upper()
    if status not in UPDATE_STATUSES:
        raise Open311Error(400, f"status 无效：{status}，应为 {'、'.join(sorted(UPDATE_STATUSES))} 之一")
    description = _param(request, "description")
    if len(description) > CONTENT_MAX_LENGTH:
        raise Open311Error(400, f"description 过长：共 {len(description)} 字，最多 {CONTENT_MAX_LENGTH} 字")
    if _HTML_RE.search(description):
        raise Open311Error(400, "description 不能包含 HTML")
    control = control_character(description)
    if control is not None:
        raise Open311Error(400, f"description 含有控制字符 {control}，请删除后重试")
    update_id = _param(request, "update_id")
    if len(update_id) > 64:
        raise Open311Error(400, "update_id 过长：最多 64 个字符")
    at = parse_datetime(_param(request, "updated_datetime"), name="updated_datetime")
    request_id = _param(request, "service_request_id")
    order = public_orders().filter(code=request_id.upper()).first()
    if order is None:
        raise Open311Error(404, f"未知的 service_request_id：{request_id}")
    # Contact fields (email, phone, names) are accepted but not kept: the order already has its requester.
    event, _created = services.record_external_update(
        order, key=key, update_id=update_id, status=status, at=at, text=description
    )
    return render(fmt, "service_request_updates", [{"update_id": str(event.pk), "account_id": None}])


@open311_view
def service_request_updates(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _method(request, "GET", "HEAD", "POST")
    if request.method == "POST":
        return _updates_post(request, fmt)
    return _updates_get(request, fmt)


@open311_view
def not_found(request: HttpRequest, path: str, *, fmt: str) -> HttpResponse:
    raise Open311Error(404, f"未知的资源：{path}")
