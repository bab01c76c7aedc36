"""Signed webhooks of the SMS gateway: inbound SMS and delivery receipts (contract: docs/sms-gateway.md).

Thin: check the signature on the raw body, parse and validate the JSON, call the service, answer JSON.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zhengfeng.messaging import services
from zhengfeng.messaging.transports import sign

logger = logging.getLogger(__name__)

INBOUND_FIELDS = ("id", "from", "to", "text", "received_at")
RECEIPT_FIELDS = ("id", "status", "reported_at")


class BadPayloadError(Exception):
    pass


def _signature_ok(request: HttpRequest) -> bool:
    secret = settings.SMS_WEBHOOK_SECRET
    if not secret:
        # Never accept unsigned input, not even in development.
        logger.warning("SMS webhook %s refused: SMS_WEBHOOK_SECRET is not set", request.path)
        return False
    provided = request.headers.get("X-Signature", "").strip().lower()
    if not hmac.compare_digest(provided.encode(), sign(request.body, secret).encode()):
        logger.warning("SMS webhook %s refused: bad or missing X-Signature", request.path)
        return False
    return True


def _parse(request: HttpRequest, fields: tuple[str, ...]) -> dict[str, Any]:
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayloadError(f"请求体不是有效的 JSON：{exc}") from exc
    if not isinstance(data, dict):
        raise BadPayloadError("请求体应为 JSON 对象")
    missing = [field for field in fields if field not in data or data[field] is None]
    if missing:
        raise BadPayloadError(f"缺少字段：{', '.join(missing)}")
    not_text = [field for field in fields if not isinstance(data[field], str | int)]
    if not_text:
        raise BadPayloadError(f"字段应为字符串：{', '.join(not_text)}")
    return data


def _parse_time(value: Any, field: str) -> dt.datetime:
    try:
        parsed = parse_datetime(str(value).strip()) if value else None
    except ValueError:  # well-formed but not a date, e.g. 2026-13-45T10:00:00
        parsed = None
    if parsed is None:
        raise BadPayloadError(f"{field} 不是有效的时间（ISO 8601，如 2025-03-01T09:30:00+08:00）：{value}")
    # Gateways in China commonly send local time without an offset: read it in TIME_ZONE.
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse(
        {"ok": False, "error": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def refusal(request: HttpRequest, status: int, message: str) -> JsonResponse:
    """core.input_guard's refusal of a webhook call (settings.INPUT_REFUSAL_FORMATS), in the gateway's
    error shape."""
    return _error(status, message)


@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest) -> JsonResponse:
    if not _signature_ok(request):
        return _error(403, "签名无效")
    try:
        data = _parse(request, INBOUND_FIELDS)
        received_at = _parse_time(data["received_at"], "received_at")
        inbound, _created = services.receive_inbound_sms(
            provider_id=str(data["id"]),
            phone=str(data["from"]),
            to_number=str(data["to"]),
            text=str(data["text"]),
            received_at=received_at,
        )
    except BadPayloadError as exc:
        return _error(400, str(exc))
    except ValidationError as exc:
        return _error(400, "；".join(exc.messages))
    # The same answer for a repeated id, so a retrying gateway cannot tell and need not care.
    return JsonResponse({"ok": True, "id": inbound.provider_id})


@csrf_exempt
@require_POST
def delivery_receipt(request: HttpRequest) -> JsonResponse:
    if not _signature_ok(request):
        return _error(403, "签名无效")
    try:
        data = _parse(request, RECEIPT_FIELDS)
        try:
            message_id = int(data["id"])
        except ValueError as exc:
            raise BadPayloadError(f"id 应为本系统的短信编号（整数）：{data['id']}") from exc
        if not 0 < message_id < 2**63:  # beyond the database's integer: an OverflowError, not a lookup
            raise BadPayloadError(f"没有编号为 {message_id} 的短信")
        message = services.record_delivery_receipt(
            message_id=message_id,
            status=str(data["status"]),
            reported_at=_parse_time(data["reported_at"], "reported_at"),
            error=str(data.get("error") or ""),
        )
    except BadPayloadError as exc:
        return _error(400, str(exc))
    except ValidationError as exc:
        return _error(400, "；".join(exc.messages))
    return JsonResponse({"ok": True, "id": str(message.pk)})
