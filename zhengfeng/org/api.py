"""GET /api/v1/org/units: the unit directory, for the UI (session) and any valid API key."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from zhengfeng.org.models import ApiKey, Division, Unit, UnitQuerySet, User
from zhengfeng.org.queries import units_for

# Who may call it (any staff session, any live API key): config/api_access.py.
router = Router(tags=["org"])


class UnitOut(Schema):
    code: str
    name: str
    division_code: str
    kind: str
    parent_code: str | None


class UnitFilters(Schema):
    name: str | None = None
    division: str | None = None


def _visible_units(request: HttpRequest) -> UnitQuerySet:
    # django-ninja sets `request.auth` to what the router's authentication returned.
    auth: ApiKey | User | None = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        # The directory is not personal data: any integration key may read all of it.
        return Unit.objects.all()
    return units_for(auth)


@router.get("/units", response=list[UnitOut], summary="单位名录")
def list_units(request: HttpRequest, filters: Query[UnitFilters]) -> list[UnitOut]:
    units = _visible_units(request).filter(is_active=True)
    if filters.name:
        units = units.filter(name__contains=filters.name)
    if filters.division:
        division = Division.objects.filter(code=filters.division).first()
        if division is None:
            raise HttpError(400, f"未知的行政区划代码：{filters.division}")
        units = units.in_division(division)
    rows = units.order_by("division_id", "code").values("code", "name", "division_id", "kind", "parent__code")
    return [
        UnitOut(
            code=row["code"],
            name=row["name"],
            division_code=row["division_id"],
            kind=row["kind"],
            parent_code=row["parent__code"],
        )
        for row in rows
    ]
