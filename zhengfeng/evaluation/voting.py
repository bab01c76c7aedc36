"""Writes of the online evaluation of units (网上评议): SMS verification codes and votes.

The flow (docs/evaluation.md §8): the citizen asks for a code (`request_code`), which goes out at
once through the outbox (a verification code is not held back by the quiet hours), then votes with
it (`cast_vote`). Every limit is checked here, so the portal view, an API or a test all behave alike.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index, mask_phone, sm3_hex
from zhengfeng.evaluation.models import Answer, EvaluationYear, OnlineVote, VoteVerification
from zhengfeng.messaging import services as messaging
from zhengfeng.org.models import Unit
from zhengfeng.org.validators import normalise_mobile

CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
# One code per number per minute, and a handful a day: enough for a lost SMS, useless for a bot.
RESEND_AFTER = dt.timedelta(seconds=60)
CODES_PER_NUMBER_PER_DAY = 5
RATE_WINDOW = dt.timedelta(hours=1)
COMMENT_MAX = 500
CODE_SMS = "您正在参加{title}网上评议，验证码{code}，10分钟内有效。如非本人操作请忽略。"


def _code_hash(token: str, code: str) -> str:
    # Keyed by SECRET_KEY and the verification's token: a leaked table does not give the codes.
    return salted_hmac("zhengfeng.evaluation.vote_code", f"{token}:{code}", algorithm="sha256").hexdigest()


def ip_network(ip: str | None) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of an address: rule (e) counts votes per network."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _clean_ip(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None


def _clean_device(device_id: str) -> str:
    device = (device_id or "").strip()
    if not device or len(device) > 64:
        raise ValidationError("无法识别您的设备，请允许浏览器保存 Cookie 后刷新页面重试")
    return device


def _check_open(evaluation_year: EvaluationYear, now: dt.datetime) -> None:
    if evaluation_year.voting_open(now):
        return
    if not (evaluation_year.vote_opens_at and evaluation_year.vote_closes_at):
        raise ValidationError(f"{evaluation_year.title}未开放网上评议")
    opens = timezone.localtime(evaluation_year.vote_opens_at)
    closes = timezone.localtime(evaluation_year.vote_closes_at)
    raise ValidationError(
        f"网上评议开放时间为 {opens:%Y-%m-%d %H:%M} 至 {closes:%Y-%m-%d %H:%M}，现在不在开放时间内"
    )


def _clean_phone(phone: str) -> str:
    try:
        return normalise_mobile(str(phone or ""))
    except ValidationError as exc:
        raise ValidationError(exc.messages[0]) from exc


def request_code(
    *,
    evaluation_year: EvaluationYear,
    phone: str,
    ip: str | None,
    device_id: str,
    now: dt.datetime | None = None,
) -> VoteVerification:
    """Send a 6-digit code to `phone` so that it may vote; returns the verification (its `token`
    goes into the vote form).

    Refused, with the reason in Chinese: voting closed; an invalid number; a code to the same number
    less than a minute ago or more than 5 in 24 hours; more than EVALUATION_VOTE_IP_LIMIT codes from
    the IP address or EVALUATION_VOTE_DEVICE_LIMIT from the device cookie in the last hour.
    Side effects: one VoteVerification (code hashed); one outbox SMS sent now even in the quiet
    hours; audit rows `evaluation.vote_code_sent` (phone masked) and messaging's `messaging.queued`.
    """
    now = now or timezone.now()
    _check_open(evaluation_year, now)
    number = _clean_phone(phone)
    device = _clean_device(device_id)
    address = _clean_ip(ip)
    index = blind_index(number)
    sent = VoteVerification.objects.filter(year=evaluation_year, phone_index=index)
    last = sent.order_by("-created_at").first()
    if last is not None and now - last.created_at < RESEND_AFTER:
        wait = int((RESEND_AFTER - (now - last.created_at)).total_seconds()) + 1
        raise ValidationError(f"验证码已发送至 {mask_phone(number)}，请 {wait} 秒后再重新获取")
    if sent.filter(created_at__gt=now - dt.timedelta(days=1)).count() >= CODES_PER_NUMBER_PER_DAY:
        raise ValidationError(
            f"{mask_phone(number)} 今天获取验证码已达 {CODES_PER_NUMBER_PER_DAY} 次，请明天再试"
        )
    recent = VoteVerification.objects.filter(created_at__gt=now - RATE_WINDOW)
    if address and recent.filter(ip=address).count() >= settings.EVALUATION_VOTE_IP_LIMIT:
        raise ValidationError(f"来自 {address} 的请求过于频繁，请一小时后再试")
    if recent.filter(device_id=device).count() >= settings.EVALUATION_VOTE_DEVICE_LIMIT:
        raise ValidationError("本设备的请求过于频繁，请一小时后再试")
    if messaging.is_opted_out(number):
        # An opted-out number (TD/退订) gets no SMS at all; say so instead of letting them wait.
        raise ValidationError(f"{mask_phone(number)} 已退订短信，无法接收验证码")
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        message = messaging.queue_sms(
            to=number,
            text=CODE_SMS.format(title=evaluation_year.title, code=code),
            source=evaluation_year,
            division_code=evaluation_year.division_id,
            # A code that arrives tomorrow morning is useless: send it now, quiet hours or not.
            respect_quiet_hours=False,
        )
        verification = VoteVerification.objects.create(
            year=evaluation_year,
            token=token,
            phone=number,
            phone_index=index,
            code_hash=_code_hash(token, code),
            message=message,
            ip=address,
            device_id=device,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        audit.record(
            "evaluation.vote_code_sent",
            by=None,
            target=verification,
            division_code=evaluation_year.division_id,
            data={"to": mask_phone(number), "ip": address or "", "device": device[:12]},
        )
    return verification


def clean_rating(value: Any) -> str:
    text = str(value or "").strip()
    for choice in Answer:
        if text in (choice.value, choice.label):
            return choice.value
    raise ValidationError(f"未知的评价“{text}”；可选：满意、基本满意、不满意")


def cast_vote(
    *,
    token: str,
    code: str,
    unit: Unit,
    rating: str,
    comment: str = "",
    ip: str | None,
    user_agent: str,
    device_id: str,
    now: dt.datetime | None = None,
) -> OnlineVote:
    """Record one verified citizen's evaluation of one key unit, with the evidence.

    Checks, each a Chinese message: the verification exists and was not used yet (a double submit is
    refused here), the code has not expired and has been tried fewer than 5 times, the code is right
    (a wrong code counts as a try, saved even though the vote is refused), voting is open, the unit
    is a key unit of the year, a known rating, a comment of at most 500 characters, and the number
    has not evaluated this unit this year (unique blind index).
    Side effects: the OnlineVote (IP, its /24, user agent hash, device id, verification); the
    verification marked used; audit row `evaluation.vote_cast` (phone masked).
    """
    now = now or timezone.now()
    device = _clean_device(device_id)
    verification = VoteVerification.objects.select_related("year").filter(token=str(token or "")).first()
    if verification is None:
        raise ValidationError("验证信息无效，请重新获取验证码")
    if verification.used_at is not None:
        raise ValidationError("该验证码已用于提交评议，请勿重复提交")
    evaluation_year = verification.year
    _check_open(evaluation_year, now)
    if now >= verification.expires_at:
        raise ValidationError("验证码已过期（有效期 10 分钟），请重新获取")
    if verification.attempts >= MAX_ATTEMPTS:
        raise ValidationError(f"验证码错误次数已达 {MAX_ATTEMPTS} 次，请重新获取")
    typed = "".join(str(code or "").split())
    if not constant_time_compare(_code_hash(verification.token, typed), verification.code_hash):
        # Counted in its own statement, committed although the vote is refused.
        VoteVerification.objects.filter(pk=verification.pk, attempts__lt=MAX_ATTEMPTS).update(
            attempts=verification.attempts + 1
        )
        left = MAX_ATTEMPTS - verification.attempts - 1
        if left <= 0:
            raise ValidationError(f"验证码“{typed}”错误，已达 {MAX_ATTEMPTS} 次，请重新获取验证码")
        raise ValidationError(f"验证码“{typed}”错误，还可尝试 {left} 次")
    if not evaluation_year.key_units.filter(pk=unit.pk).exists():
        raise ValidationError(f"{unit.name}不是{evaluation_year.title}的评议单位")
    answer = clean_rating(rating)
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise ValidationError(f"意见建议过长（{len(text)} 字，最多 {COMMENT_MAX} 字）")
    if OnlineVote.objects.filter(
        year=evaluation_year, unit=unit, phone_index=verification.phone_index
    ).exists():
        raise ValidationError(
            f"{mask_phone(verification.phone)} 今年已评议过{unit.name}，每个号码每年只能评议一次"
        )
    address = _clean_ip(ip)
    try:
        with transaction.atomic():
            # Conditional: of two simultaneous submits with one code, exactly one gets here.
            if (
                VoteVerification.objects.filter(pk=verification.pk, used_at__isnull=True).update(
                    used_at=now, verified_at=now
                )
                != 1
            ):
                raise ValidationError("该验证码已用于提交评议，请勿重复提交")
            vote = OnlineVote.objects.create(
                year=evaluation_year,
                unit=unit,
                division_code=unit.division_id,
                rating=answer,
                comment=text,
                phone=verification.phone,
                phone_index=verification.phone_index,
                verification=verification,
                ip=address,
                ip_network=ip_network(address),
                user_agent_hash=sm3_hex((user_agent or "").encode()) if user_agent else "",
                device_id=device,
                created_at=now,
            )
            audit.record(
                "evaluation.vote_cast",
                by=None,
                target=vote,
                division_code=vote.division_code,
                data={
                    "unit": unit.code,
                    "rating": answer,
                    "from": mask_phone(verification.phone),
                    "network": vote.ip_network,
                    "device": device[:12],
                },
            )
    except IntegrityError as exc:
        raise ValidationError(
            f"{mask_phone(verification.phone)} 今年已评议过{unit.name}，每个号码每年只能评议一次"
        ) from exc
    return vote
