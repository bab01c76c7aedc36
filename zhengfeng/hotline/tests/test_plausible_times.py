"""The JSON API and the import refuse an order received outside the plausible window (core.moments)."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline.models import Category, WorkOrder
from zhengfeng.org.services import create_api_key

NOW = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in 清远
INTAKE = {
    "request_type": "help",
    "title": "路面塌陷",
    "content": "人民路有坑",
    "division": "441802",
    "category": "01",
    "requester_phone": "13900000001",
}


@pytest.fixture
def key(db):
    Category.objects.create(code="01", name="城乡建设", level=1, path="城乡建设")
    return create_api_key(name="12345 平台", scopes=["hotline"])[1]


@pytest.mark.parametrize(
    ("received_at", "shown"),
    [
        ("9999-12-31T23:59:59+00:00", "9999-12-31 23:59:59"),
        ("0001-01-01T00:00:00+00:00", "0001-01-01 00:00:00"),
        ("1999-12-31T23:59:59+08:00", "1999-12-31 23:59:59"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_api_refuses_an_implausible_received_at(api_client, qingcheng, key, received_at, shown):
    body = {**INTAKE, "external_id": "12345-2026-0009", "received_at": received_at}

    response = api_client.post(
        "/api/v1/hotline/orders",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    assert (response.status_code, response.json()) == (
        400,
        {"detail": f"受理时间 {shown} 不在合理范围内（2000-01-01 至 2026-11-17 10:00）"},
    )
    assert (WorkOrder.objects.count(), AuditLog.objects.filter(action="hotline.received").count()) == (0, 0)


@time_machine.travel(NOW, tick=False)
def test_import_refuses_an_implausible_received_at(tmp_path, qingcheng, key):
    path = tmp_path / "orders.csv"
    path.write_text(
        "外部编号,受理时间,诉求类型,标题,诉求内容,区划代码\n"
        "GD-1,9999-12-31 23:59:59,求助,路面塌陷,人民路有坑,441802\n"
        "GD-2,0001-01-01 00:00:00,求助,路面塌陷,人民路有坑,441802\n",
        encoding="utf-8",
    )

    err = io.StringIO()
    with pytest.raises(CommandError, match="导入失败：2 处错误，未写入任何数据"):
        call_command("hotline", "import", str(path), stdout=io.StringIO(), stderr=err)

    message = err.getvalue()
    assert "第 2 行：受理时间 9999-12-31 23:59:59 不在合理范围内（2000-01-01 至 2026-11-17 10:00）" in message
    assert "第 3 行：受理时间 0001-01-01 00:00:00 不在合理范围内（2000-01-01 至 2026-11-17 10:00）" in message
    assert WorkOrder.objects.count() == 0


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"received_to": "9999-12-31"}, "received_to 9999-12-31 不在合理范围内（2000-01-01 至 2026-11-17）"),
        (
            {"received_from": "0001-01-01"},
            "received_from 0001-01-01 不在合理范围内（2000-01-01 至 2026-11-17）",
        ),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_order_list_refuses_implausible_dates(api_client, key, params, detail):
    response = api_client.get("/api/v1/hotline/orders", params, HTTP_AUTHORIZATION=f"Bearer {key}")

    assert (response.status_code, response.json()) == (400, {"detail": detail})
