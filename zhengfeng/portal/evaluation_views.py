"""Public 公述民评 pages: the key evaluated units of the year, each unit's disclosed staff, the online
evaluation (网上评议) and the published results.

Only staff marked for disclosure appear, and only their name, position, department, duties and
photo: never a phone number, never the parties they visited. The results pages read only the frozen
table of a publication (unit names and figures).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from zhengfeng.core import publications, uploads
from zhengfeng.core.crypto import mask_phone
from zhengfeng.core.http import client_ip
from zhengfeng.core.models import PublicationStatus
from zhengfeng.evaluation import queries, voting
from zhengfeng.evaluation.models import Answer
from zhengfeng.org.queries import unit_by_code

DEVICE_COOKIE = "zf_device"
DEVICE_SALT = "zhengfeng.evaluation.device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600


def evaluation_index(request: HttpRequest) -> HttpResponse:
    year = queries.current_year(at=timezone.localdate())
    units = list(queries.public_units(year)) if year else []
    context = {
        "year": year,
        "units": units,
        "voting": queries.voting_year(at=timezone.now()),
        "has_results": queries.public_results().exists(),
    }
    return render(request, "portal/evaluation/index.html", context)


def evaluation_unit(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_by_code(code)
    if unit is None or not unit.evaluation_years.exists():
        raise Http404("没有这个评议单位")
    staff = list(queries.disclosed_staff(unit))
    return render(request, "portal/evaluation/unit.html", {"unit": unit, "staff": staff})


def evaluation_staff_photo(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """A disclosed staff member's photo (media is never served directly; core.uploads serves it)."""
    unit = unit_by_code(code)
    if unit is None or not unit.evaluation_years.exists():
        raise Http404("没有这个评议单位")
    member = queries.disclosed_staff(unit).filter(pk=pk).exclude(photo="").first()
    if member is None:
        raise Http404("没有这张照片")
    extension = member.photo.name.rsplit(".", 1)[-1]
    return uploads.file_response(member.photo, name=f"{member.name}.{extension}")


def _device_id(request: HttpRequest) -> str:
    # A signed random id: the rate limit and rule (e) count per device; a forged one is ignored.
    return request.get_signed_cookie(DEVICE_COOKIE, default="", salt=DEVICE_SALT) or ""


def evaluation_vote(request: HttpRequest) -> HttpResponse:
    """Two steps on one page: get a code for the number, then vote with it (CSRF-protected POSTs)."""
    now = timezone.now()
    evaluation_year = queries.voting_year(at=now)
    device = _device_id(request)
    units = list(queries.public_units(evaluation_year)) if evaluation_year else []
    post = request.POST
    context: dict[str, Any] = {
        "year": evaluation_year,
        "units": units,
        "ratings": Answer.choices,
        "errors": [],
        "values": {name: post.get(name, "") for name in ("unit", "rating", "comment")},
        "token": "",
        "masked_phone": "",
        "done": request.GET.get("done") == "1",
    }
    if request.method == "POST" and evaluation_year is not None:
        ip = client_ip(request)
        try:
            if post.get("step") == "vote":
                unit = next((u for u in units if u.code == post.get("unit", "")), None)
                if unit is None:
                    context["token"] = post.get("token", "")
                    raise ValidationError(f"请选择评议单位（{post.get('unit', '') or '未选择'}）")
                voting.cast_vote(
                    token=post.get("token", ""),
                    code=post.get("code", ""),
                    unit=unit,
                    rating=post.get("rating", ""),
                    comment=post.get("comment", ""),
                    ip=ip,
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    device_id=device,
                )
                return redirect(f"{reverse('portal:evaluation_vote')}?done=1")
            verification = voting.request_code(
                evaluation_year=evaluation_year, phone=post.get("phone", ""), ip=ip, device_id=device
            )
            context["token"] = verification.token
            context["masked_phone"] = mask_phone(verification.phone)
        except ValidationError as exc:
            context["errors"] = exc.messages
            if post.get("step") == "vote":
                context["token"] = post.get("token", "")
                context["masked_phone"] = post.get("masked_phone", "")
    response = render(
        request, "portal/evaluation/vote.html", context, status=400 if context["errors"] else 200
    )
    if not device:
        response.set_signed_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(16),
            salt=DEVICE_SALT,
            max_age=DEVICE_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def results_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/evaluation/results_list.html", {"publications": queries.public_results()[:100]}
    )


def results_detail(request: HttpRequest, pk: int) -> HttpResponse:
    publication = publications.detail(pk, queries.RESULTS_KIND)
    if publication is None:
        raise Http404("没有这项发布")
    if publication.status == PublicationStatus.WITHDRAWN:
        return render(
            request, "portal/evaluation/results_withdrawn.html", {"publication": publication}, status=410
        )
    return render(
        request,
        "portal/evaluation/results_detail.html",
        {"publication": publication, "data": publication.data},
    )
