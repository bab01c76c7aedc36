"""Organisation pages: the unit directory within the user's scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from zhengfeng.core.http import HtmxHttpRequest
from zhengfeng.org.queries import units_for


@login_required
def unit_list(request: HtmxHttpRequest) -> HttpResponse:
    units = units_for(request.user).filter(is_active=True)
    query = request.GET.get("q", "").strip()
    if query:
        units = units.filter(name__contains=query)
    page = Paginator(units.order_by("division_id", "code"), 50).get_page(request.GET.get("page"))
    template = "org/unit_list.html#unit-table" if request.htmx else "org/unit_list.html"
    return render(request, template, {"page": page, "query": query})
