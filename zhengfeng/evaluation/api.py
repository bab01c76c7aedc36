"""JSON API of the evaluation app, mounted at /api/v1/evaluation/ in config/api.py.

- `GET staff?unit_code=` — public (the disclosed staff are published on the portal anyway).
- `POST actions` — API key with scope `evaluation`. The body is parsed here rather than by a Ninja
  schema so that every bad input (malformed JSON, a missing field, a wrong type) is a 400 naming the
  problem, like the unknown staff or unit errors, instead of Ninja's generic 422.
- `GET scores?year=&by=` — a session of an office, inspector or admin user (scoped to its division),
  or an API key with scope `evaluation` (everything).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from zhengfeng.evaluation import queries, services
from zhengfeng.evaluation.models import ActionSource, EvaluationYear
from zhengfeng.org.models import ApiKey, User
from zhengfeng.org.queries import unit_by_code

# Who may call each endpoint (public, session roles, API key scope `evaluation`): config/api_access.py.
router = Router(tags=["evaluation"])

ACTION_FIELDS = ("unit_code", "staff_name", "action_type", "acted_at", "subject_name", "subject_phone")


class StaffOut(Schema):
    name: str
    position: str
    unit_code: str


class ActionCreated(Schema):
    id: int
    status: str


class ScoreOut(Schema):
    unit_code: str
    staff_name: str | None
    invited: int
    answered: int
    satisfied: int
    basic: int
    unsatisfied: int
    flagged: int
    score: float | None


class ErrorOut(Schema):
    detail: str


def _bad(message: str) -> HttpError:
    return HttpError(400, message)


@router.get("/staff", response={200: list[StaffOut], 400: ErrorOut}, summary="公开的执法监督人员")
def list_staff(request: HttpRequest, unit_code: str = "") -> list[dict[str, str]]:
    code = unit_code.strip()
    if not code:
        raise _bad("缺少参数 unit_code（单位编码）")
    unit = unit_by_code(code)
    if unit is None:
        raise _bad(f"未知的单位编码：{code}")
    return [
        {"name": member.name, "position": member.title, "unit_code": unit.code}
        for member in queries.disclosed_staff(unit)
    ]


def _parse_acted_at(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise _bad("acted_at 应为 ISO 8601 日期时间字符串，例如 2015-11-20T10:00:00+08:00")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise _bad(f"acted_at 不是有效的日期时间：{value}") from exc
    # Without an offset the time is read in TIME_ZONE (Asia/Shanghai), as for inbound SMS.
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _action_payload(request: HttpRequest) -> dict[str, Any]:
    try:
        payload = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"请求体不是有效的 JSON：{exc}") from exc
    if not isinstance(payload, dict):
        raise _bad("请求体应为 JSON 对象")
    missing = [name for name in ACTION_FIELDS if name not in payload or payload[name] in (None, "")]
    if missing:
        raise _bad(f"缺少字段：{', '.join(missing)}")
    wrong = [name for name in ACTION_FIELDS if not isinstance(payload[name], str)]
    if wrong:
        raise _bad(f"字段应为字符串：{', '.join(wrong)}")
    unknown = sorted(set(payload) - set(ACTION_FIELDS))
    if unknown:
        raise _bad(f"未知字段：{', '.join(unknown)}")
    return payload


def _auth(request: HttpRequest) -> ApiKey | User | None:
    # django-ninja sets `request.auth` to what the router's authentication returned.
    auth: ApiKey | User | None = getattr(request, "auth", None)
    return auth


@router.post(
    "/actions",
    response={201: ActionCreated, 400: ErrorOut},
    summary="登记执法监督记录（发送评议短信）",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": list(ACTION_FIELDS),
                        # minLength: an empty field is refused (a 400), so the document says so.
                        "properties": {name: {"type": "string", "minLength": 1} for name in ACTION_FIELDS},
                    }
                }
            },
        }
    },
)
def create_action(request: HttpRequest) -> Status:
    payload = _action_payload(request)
    unit = unit_by_code(payload["unit_code"].strip())
    if unit is None:
        raise _bad(f"未知的单位编码：{payload['unit_code']}")
    acted_at = _parse_acted_at(payload["acted_at"])
    try:
        staff = services.find_staff(unit, payload["staff_name"])
        action = services.record_action(
            unit=unit,
            staff=[staff],
            action_type=payload["action_type"],
            acted_at=acted_at,
            subject_name=payload["subject_name"],
            subject_phone=payload["subject_phone"],
            source=ActionSource.API,
            api_key=auth if isinstance(auth := _auth(request), ApiKey) else None,
        )
    except ValidationError as exc:
        raise _bad("；".join(exc.messages)) from exc
    return Status(201, {"id": action.pk, "status": action.evaluation.status})


@router.get(
    "/scores",
    response={200: list[ScoreOut], 400: ErrorOut},
    summary="评议得分（按人员或按单位）",
)
def list_scores(request: HttpRequest, year: str = "", by: str = "staff") -> list[dict[str, Any]]:
    # Four ASCII digits: int() refuses "²" and a 20-digit year overflows the database's integer.
    if not re.fullmatch(r"[0-9]{4}", year.strip()):
        raise _bad(f"参数 year 应为年份，例如 2015，而不是 {year!r}")
    if by not in ("staff", "unit"):
        raise _bad(f"参数 by 只能是 staff 或 unit，而不是 {by!r}")
    number = int(year)
    if not EvaluationYear.objects.filter(year=number).exists():
        raise _bad(f"没有 {number} 年的公述民评")
    auth = _auth(request)
    # A key reads everything; a session reads its user's scope.
    user = auth if isinstance(auth, User) else None
    rows = queries.scores(number, user=user, by=by, everything=isinstance(auth, ApiKey))
    return [row.as_api() for row in rows]
