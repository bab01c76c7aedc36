"""Public hotline pages: file a request (网络问政) and track it by its code and query password.

No login and no captcha: filing is limited per IP address and per browser session, tracking per IP
address and per tracking code (atomic counters of `core.ratelimit`; the address from `core.http.client_ip`;
see docs/hotline.md). Neither page ever
shows the requester's name, phone or ID number.
"""

from __future__ import annotations

import secrets
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from zhengfeng.core import ratelimit
from zhengfeng.core.http import client_ip
from zhengfeng.hotline import queries, services
from zhengfeng.hotline.models import (
    ADDRESS_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Category,
    Channel,
    ReplyStatus,
    RequestType,
    Status,
    WorkOrder,
)
from zhengfeng.org import validators
from zhengfeng.org.models import Division

WINDOW_SECONDS = 3600
FILINGS_PER_IP = 5
FILINGS_PER_SESSION = 5
TRACKS_PER_IP = 20
# Failed passwords per tracking code and hour: a 6-digit password must not be guessable.
FAILURES_PER_CODE = 10
NONCE_KEY = "hotline_filing_nonce"
FILED_KEY = "hotline_filed_at"
TRACK_ERROR = "受理编号或查询密码不正确。"
FILING_LIMITED = "提交过于频繁：每小时最多提交 5 件诉求。请稍后再试，或拨打 12345 热线。"
TRACK_LIMITED = "查询过于频繁，请一小时后再试，或拨打 12345 热线查询。"


# ------------------------------------------------------------------------------------ rate limits


def _ip_key(request: HttpRequest) -> str:
    return f"portal:file:ip:{client_ip(request)}"


def _session_filings(request: HttpRequest) -> list[float]:
    cutoff = timezone.now().timestamp() - WINDOW_SECONDS
    return [at for at in request.session.get(FILED_KEY, []) if at > cutoff]


def _filing_limited(request: HttpRequest) -> bool:
    return (
        ratelimit.is_full(_ip_key(request), limit=FILINGS_PER_IP, window_seconds=WINDOW_SECONDS)
        or len(_session_filings(request)) >= FILINGS_PER_SESSION
    )


def _too_many(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/hotline/limited.html", {"message": message}, status=429)


# ------------------------------------------------------------------------------------ filing


def _divisions() -> list[tuple[str, str]]:
    root = settings.OPEN311_DIVISION
    rows = Division.objects.filter(Q(code=root) | Q(parent_id=root)).order_by("code")
    return [(division.code, division.name) for division in rows]


def _categories() -> list[tuple[str, str]]:
    rows = Category.objects.filter(is_active=True).order_by("code").values_list("code", "path")
    return [("", "不确定（由热线工作人员分类）"), *rows]


class FilingForm(forms.Form):
    request_type = forms.ChoiceField(
        label="诉求类型", choices=RequestType.choices, initial=RequestType.COMPLAINT
    )
    category = forms.ChoiceField(label="诉求分类", required=False)
    division = forms.ChoiceField(label="发生地")
    address = forms.CharField(label="详细地址", max_length=ADDRESS_MAX_LENGTH, required=False)
    title = forms.CharField(
        label="标题",
        max_length=TITLE_MAX_LENGTH,
        error_messages={"max_length": "标题过长：共 %(show_value)d 字，最多 %(limit_value)d 字"},
    )
    content = forms.CharField(
        error_messages={"max_length": "诉求内容过长：共 %(show_value)d 字，最多 %(limit_value)d 字"},
        label="诉求内容",
        max_length=CONTENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    requester_name = forms.CharField(label="姓名", max_length=40, required=False)
    requester_phone = forms.CharField(label="手机号码", max_length=20, required=False)
    is_anonymous = forms.BooleanField(label="匿名反映（不回访、不发短信，也无法核实情况）", required=False)
    is_confidential = forms.BooleanField(label="要求对承办单位保密我的身份", required=False)
    allow_unit_contact = forms.BooleanField(label="同意承办单位直接联系我", required=False)
    nonce = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `fields` holds copies of the declared fields above: both are ChoiceFields.
        cast(forms.ChoiceField, self.fields["division"]).choices = _divisions()
        cast(forms.ChoiceField, self.fields["category"]).choices = _categories()

    def clean_requester_phone(self) -> str:
        phone = self.cleaned_data["requester_phone"].strip()
        return validators.normalise_phone(phone) if phone else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # An anonymous request keeps no name or phone: the service drops them (receive_work_order).
        if not data.get("is_anonymous") and "requester_phone" in data and not data["requester_phone"]:
            self.add_error(
                "requester_phone", "请填写手机号码，以便告知办理结果和回访；不愿留名请选择匿名反映"
            )
        return data


def _new_nonce(request: HttpRequest) -> str:
    nonce = secrets.token_urlsafe(16)
    request.session[NONCE_KEY] = nonce
    return nonce


@require_http_methods(["GET", "POST"])
def file_request(request: HttpRequest) -> HttpResponse:
    """Show the form; on a valid POST register the order and show its code and password once."""
    if request.method == "GET":
        form = FilingForm(initial={"nonce": _new_nonce(request)})
        return render(request, "portal/hotline/file.html", {"form": form})
    if _filing_limited(request):
        return _too_many(request, FILING_LIMITED)
    form = FilingForm(request.POST)
    # One submission per form: a reload or a double click must not register the request twice.
    if form.is_valid() and form.cleaned_data["nonce"] != request.session.get(NONCE_KEY):
        form.add_error(None, "该表单已经提交过或已失效，请勿重复提交；如需再次反映，请重新填写。")
    if not form.is_valid():
        data = request.POST.copy()  # the form's data
        data["nonce"] = _new_nonce(request)
        form.data = data
        return render(request, "portal/hotline/file.html", {"form": form}, status=400)
    # The check above spares the form's work; this slot decides, atomically, under parallel filings.
    if not ratelimit.take(_ip_key(request), limit=FILINGS_PER_IP, window_seconds=WINDOW_SECONDS):
        return _too_many(request, FILING_LIMITED)
    values = form.cleaned_data
    try:
        intake = services.receive_work_order(
            by=None,
            channel=Channel.WEB,
            request_type=values["request_type"],
            title=values["title"],
            content=values["content"],
            division=values["division"],
            category=values["category"] or None,
            address=values["address"],
            requester_name=values["requester_name"],
            requester_phone=values["requester_phone"],
            is_anonymous=values["is_anonymous"],
            is_confidential=values["is_confidential"],
            allow_unit_contact=values["allow_unit_contact"],
        )
    except ValidationError as exc:
        ratelimit.give_back(_ip_key(request), window_seconds=WINDOW_SECONDS)
        form.add_error(None, exc)
        return render(request, "portal/hotline/file.html", {"form": form}, status=400)
    request.session.pop(NONCE_KEY, None)
    request.session[FILED_KEY] = [*_session_filings(request), timezone.now().timestamp()]
    response = render(
        request, "portal/hotline/filed.html", {"order": intake.order, "password": intake.password}
    )
    # The password is on this page only: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------------------------ tracking


class TrackForm(forms.Form):
    code = forms.CharField(label="受理编号", max_length=24)
    password = forms.CharField(label="查询密码", max_length=32, widget=forms.PasswordInput)


def _public_view(order: WorkOrder) -> dict[str, Any]:
    """What the requester may read: status, unit, deadline, public timeline, the reply; no personal data."""
    # A merged order shows the order it was merged into.
    shown = WorkOrder.objects.select_related("category", "main_unit").get(pk=order.merged_into_id or order.pk)
    events = queries.timeline(order, public_only=True)
    if shown.pk != order.pk:
        events += queries.timeline(shown, public_only=True)
    replies = shown.replies.filter(status__in=(ReplyStatus.SUBMITTED, ReplyStatus.PASSED)).order_by(
        "drafted_at"
    )
    return {
        "order": order,
        "shown": shown,
        "merged": shown.pk != order.pk,
        "is_open": shown.status in Status.OPEN_STATES,
        # Stable: at the same instant the requester's own order comes first.
        "events": sorted(events, key=lambda event: event.at),
        "replies": list(replies),
    }


@require_http_methods(["GET", "POST"])
def track_request(request: HttpRequest) -> HttpResponse:
    """Code + password → the public view; any mismatch gets the same message (no code enumeration)."""
    if request.method == "GET":
        return render(request, "portal/hotline/track.html", {"form": TrackForm()})
    form = TrackForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/hotline/track.html", {"form": form, "error": TRACK_ERROR}, status=400)
    code = form.cleaned_data["code"].strip().upper()
    ip_key, code_key = f"portal:track:ip:{client_ip(request)}", f"portal:track:code:{code}"
    if not ratelimit.take(ip_key, limit=TRACKS_PER_IP, window_seconds=WINDOW_SECONDS):
        return _too_many(request, TRACK_LIMITED)
    # A slot per guess, given back when the password was right: parallel guesses cannot exceed the limit.
    if not ratelimit.take(code_key, limit=FAILURES_PER_CODE, window_seconds=WINDOW_SECONDS):
        return _too_many(request, TRACK_LIMITED)
    order = queries.track(code, form.cleaned_data["password"])
    if order is not None:
        ratelimit.give_back(code_key, window_seconds=WINDOW_SECONDS)
    else:
        return render(
            request, "portal/hotline/track.html", {"form": TrackForm(), "error": TRACK_ERROR}, status=400
        )
    response = render(request, "portal/hotline/tracked.html", _public_view(order))
    response["Cache-Control"] = "no-store"
    return response
