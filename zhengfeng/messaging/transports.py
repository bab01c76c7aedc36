"""Gateways that deliver one outbox message (after healthchecks' Transport / TransportError).

`send(message)` returns the provider's message id ("" when it has none) or raises `TransportError`.
`permanent=True` means retrying cannot help (a rejected number, a 4xx answer): the row fails at once.
Anything else is retried with backoff. The SMS gateway is chosen by `settings.SMS_BACKEND`, read on
every call so tests can switch it with the `settings` fixture.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from zhengfeng.core.crypto import mask_phone

if TYPE_CHECKING:
    from zhengfeng.messaging.models import OutboxMessage

logger = logging.getLogger(__name__)


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: OutboxMessage) -> str: ...


class ConsoleTransport:
    """Development: log the message (phone masked, logs are not a place for personal data)."""

    def send(self, message: OutboxMessage) -> str:
        logger.info("SMS #%s → %s: %s", message.pk, mask_phone(message.phone), message.text)
        return ""


class FileTransport:
    """Append one JSON object per line to SMS_FILE_PATH (pilots without a gateway; demos)."""

    _lock = threading.Lock()

    def send(self, message: OutboxMessage) -> str:
        path = Path(settings.SMS_FILE_PATH)
        line = json.dumps(
            {
                "id": message.pk,
                "to": message.phone,
                "text": message.text,
                "sent_at": timezone.now().isoformat(),
                "source_type": message.source_type,
                "source_id": message.source_id,
            },
            ensure_ascii=False,
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            raise TransportError(f"无法写入短信文件 {path}: {exc}") from exc
        return f"file-{message.pk}"


# What the locmem gateway accepted, in order; tests read and clear it.
outbox: list[dict[str, Any]] = []
# Outcomes the fake carrier will produce for the next sends (an exception to raise, or a provider id).
_scripted: list[TransportError | str] = []
_locmem_lock = threading.Lock()


def script_locmem(*outcomes: TransportError | str) -> None:
    """Make the next sends through the locmem gateway fail (TransportError) or answer an id (str)."""
    with _locmem_lock:
        _scripted.extend(outcomes)


def reset_locmem() -> None:
    with _locmem_lock:
        outbox.clear()
        _scripted.clear()


class LocmemTransport:
    """Tests: keep sent SMS in the module-level `outbox` list; behave as scripted by `script_locmem`."""

    def send(self, message: OutboxMessage) -> str:
        with _locmem_lock:
            outcome = _scripted.pop(0) if _scripted else None
            if isinstance(outcome, TransportError):
                raise outcome
            provider_id = outcome if outcome is not None else f"locmem-{message.pk}"
            outbox.append(
                {"id": message.pk, "to": message.phone, "text": message.text, "provider_id": provider_id}
            )
        return provider_id


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of the raw body: the signature of both the gateway call and our webhooks."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HttpTransport:
    """A generic signed JSON gateway (contract in docs/sms-gateway.md).

    2xx → accepted (`message_id` from the JSON answer, if any); 408, 429 and 5xx, timeouts and
    connection errors → temporary; any other 4xx → permanent.
    """

    def send(self, message: OutboxMessage) -> str:
        timestamp = str(int(time.time()))
        body = json.dumps(
            {"id": str(message.pk), "to": message.phone, "text": message.text, "timestamp": timestamp},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (URL comes from settings, not from users)
            settings.SMS_HTTP_URL,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Timestamp": timestamp,
                "X-Signature": sign(body, settings.SMS_HTTP_SECRET),
                # The row's id, the same on every try of this message (a resend after a worker died
                # between the gateway's acceptance and our record): the gateway sends each key once.
                "Idempotency-Key": str(message.pk),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=float(settings.SMS_HTTP_TIMEOUT)) as response:  # noqa: S310 (as above)
                answer = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read()[:200].decode("utf-8", "replace")
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
            raise TransportError(f"短信网关返回 HTTP {exc.code}: {detail}", permanent=permanent) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransportError(f"短信网关无法连接或超时: {reason}") from exc
        try:
            data = json.loads(answer or b"{}")
        except ValueError:
            data = {}
        return str(data.get("message_id", ""))[:100] if isinstance(data, dict) else ""


class EmailTransport:
    """E-mail through Django's EMAIL_BACKEND; a refused recipient is permanent, the rest temporary."""

    def send(self, message: OutboxMessage) -> str:
        try:
            send_mail(message.subject, message.text, None, [message.email], fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"邮件服务器拒收地址 {message.email}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"邮件发送失败: {exc}") from exc
        return ""


class InAppTransport:
    """In-app messages are delivered by becoming visible in the recipient's inbox."""

    def send(self, message: OutboxMessage) -> str:
        return ""


SMS_TRANSPORTS: dict[str, type[Transport]] = {
    "console": ConsoleTransport,
    "file": FileTransport,
    "locmem": LocmemTransport,
    "http": HttpTransport,
}


def transport_for(channel: str) -> Transport:
    if channel == "sms":
        return SMS_TRANSPORTS[settings.SMS_BACKEND]()
    if channel == "email":
        return EmailTransport()
    return InAppTransport()
