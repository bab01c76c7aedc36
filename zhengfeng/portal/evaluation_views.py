"""Public 公述民评 pages: the key evaluated units of the year and each unit's disclosed staff.

Only staff marked for disclosure appear, and only their name, position, department, duties and
photo: never a phone number, never the parties they visited.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from zhengfeng.evaluation import queries
from zhengfeng.org.queries import unit_by_code


def evaluation_index(request: HttpRequest) -> HttpResponse:
    year = queries.current_year(at=timezone.localdate())
    units = list(queries.public_units(year)) if year else []
    return render(request, "portal/evaluation/index.html", {"year": year, "units": units})


def evaluation_unit(request: HttpRequest, code: str) -> HttpResponse:
    unit = unit_by_code(code)
    if unit is None or not unit.evaluation_years.exists():
        raise Http404("没有这个评议单位")
    staff = list(queries.disclosed_staff(unit))
    return render(request, "portal/evaluation/unit.html", {"unit": unit, "staff": staff})
