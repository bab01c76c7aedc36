"""Ledger pages: who reads and who keeps, scoping by unit and county, forms, Excel, query counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from zhengfeng.ledger.ledgers import services
from zhengfeng.ledger.models import Ledger, LedgerStep, ProgressEntry, StepStatus
from zhengfeng.ledger.tests.test_ledger_excel import write_sheet
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import UserFactory

PDF = b"%PDF-1.4 minutes"


@pytest.fixture
def ledgers(task_one, unit_a, unit_b, county_unit, other_county_unit):
    """Task 1 ledgers of A, B and one unit in each county: {unit code: ledger}."""
    return {
        unit.code: services.create_ledger(task=task_one, unit=unit, goals=f"{unit.name}目标")
        for unit in (unit_a, unit_b, county_unit, other_county_unit)
    }


@pytest.fixture
def ledger_a(ledgers):
    return ledgers["441800-A"]


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("ledger:my_ledgers"))
    assert (response.status_code, response.url.startswith(reverse("login"))) == (302, True)


@pytest.mark.parametrize("role", [Role.MONITOR, Role.OPERATOR])
def test_roles_without_ledgers_are_refused(client, unit_a, role):
    user = UserFactory(role=role, unit=unit_a)
    assert login(client, user).get(reverse("ledger:ledger_list")).status_code == 403
    assert client.get(reverse("ledger:my_ledgers")).status_code == 403


def test_my_ledgers_lists_the_units_tasks_and_sets_up_a_ledger(client, liaison_a, task_one, task_two):
    response = login(client, liaison_a).get(reverse("ledger:my_ledgers"))
    assert response.status_code == 200
    assert [(row.task.number, row.role_label, row.ledger) for row in response.context["rows"]] == [
        (1, "牵头", None),
        (2, "协助配合", None),
    ]
    response = client.post(reverse("ledger:ledger_create", args=[task_two.pk]))
    ledger = Ledger.objects.get()
    assert (ledger.task, ledger.unit_id) == (task_two, liaison_a.unit_id)
    assert response.url == reverse("ledger:ledger_edit", args=[ledger.pk])


def test_liaison_cannot_see_or_keep_another_units_ledger(client, liaison_a, ledgers):
    other = ledgers["441800-B"]
    login(client, liaison_a)
    assert client.get(reverse("ledger:ledger_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("ledger:step_add", args=[other.pk]), {"text": "越权"}).status_code == 404
    assert client.get(reverse("ledger:ledger_edit", args=[other.pk])).status_code == 404
    response = client.get(reverse("ledger:ledger_list"))
    assert [ledger.unit.code for ledger in response.context["page"]] == ["441800-A"]
    assert LedgerStep.objects.count() == 0


def test_handler_reads_and_head_keeps(client, unit_a, ledger_a):
    handler = UserFactory(role=Role.HANDLER, unit=unit_a)
    login(client, handler)
    assert client.get(reverse("ledger:ledger_detail", args=[ledger_a.pk])).context["can_keep"] is False
    assert client.post(reverse("ledger:step_add", args=[ledger_a.pk]), {"text": "一步"}).status_code == 403
    head = UserFactory(role=Role.HEAD, unit=unit_a)
    response = login(client, head).post(
        reverse("ledger:step_add", args=[ledger_a.pk]), {"text": "一步", "due_on": "2026-03-20"}
    )
    assert response.url == reverse("ledger:ledger_detail", args=[ledger_a.pk])
    step = LedgerStep.objects.get()
    assert step.clock is not None
    assert step.clock.due_at is not None
    assert (step.text, step.due_on, step.clock.due_at.date()) == (
        "一步",
        dt.date(2026, 3, 20),
        dt.date(2026, 3, 20),
    )


def test_county_office_sees_its_county_only(client, county_office, ledgers):
    response = login(client, county_office).get(reverse("ledger:ledger_list"))
    assert [ledger.unit.code for ledger in response.context["page"]] == ["441802-A"]
    city_ledger = ledgers["441800-A"]
    assert client.get(reverse("ledger:ledger_detail", args=[city_ledger.pk])).status_code == 404
    county_ledger = ledgers["441802-A"]
    response = client.get(reverse("ledger:ledger_detail", args=[county_ledger.pk]))
    assert (response.status_code, response.context["can_keep"]) == (200, False)
    assert client.post(reverse("ledger:step_add", args=[county_ledger.pk]), {"text": "x"}).status_code == 403


def test_city_office_and_inspector_read_everything_in_the_city(client, city_office, inspector, ledgers):
    for user in (city_office, inspector):
        response = login(client, user).get(reverse("ledger:ledger_list"))
        assert [ledger.unit.code for ledger in response.context["page"]] == [
            "441800-A",
            "441800-B",
            "441802-A",
            "441803-A",
        ]
    assert client.get(reverse("ledger:ledger_edit", args=[ledgers["441800-A"].pk])).status_code == 403


def test_office_list_filters_and_htmx_partial(client, city_office, ledgers, unit_b):
    step = services.add_step(ledgers["441800-B"], text="已过期", due_on=dt.date(2026, 2, 27))
    services.set_step_status(services.add_step(ledgers["441802-A"], text="完成"), StepStatus.DONE)
    login(client, city_office)
    url = reverse("ledger:ledger_list")

    def units(**params):
        return [ledger.unit.code for ledger in client.get(url, params).context["page"]]

    assert units(status="overdue") == ["441800-B"]
    assert units(status="in_progress") == ["441802-A"]
    assert units(status="not_started") == ["441800-A", "441800-B", "441803-A"]
    assert units(unit=unit_b.pk) == ["441800-B"]
    assert units(task=2) == []
    response = client.get(url, {"status": "overdue"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.startswith('\n<div id="ledger-table">') or body.lstrip().startswith('<div id="ledger-table">')
    assert "<h1>" not in body
    assert "逾期 1" in body
    assert step.clock is not None
    assert step.clock.due_at is not None
    assert step.clock.due_at.date() == dt.date(2026, 2, 27)


def test_office_list_query_count_does_not_grow(
    client, city_office, task_one, unit_a, unit_b, county_unit, django_assert_num_queries
):
    services.add_step(
        services.create_ledger(task=task_one, unit=unit_a), text="一", due_on=dt.date(2026, 3, 9)
    )
    login(client, city_office)
    url = reverse("ledger:ledger_list")
    client.get(url)
    # +1 since issue #10: the office user's two-factor device (django-otp re-reads it per request).
    with django_assert_num_queries(10) as one:
        assert client.get(url).status_code == 200
    for unit in (unit_b, county_unit):
        ledger = services.create_ledger(task=task_one, unit=unit)
        services.add_step(ledger, text="一", due_on=dt.date(2026, 3, 9))
        services.add_progress(ledger, text="进展")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"]) == 3


def test_my_ledgers_query_count_does_not_grow(
    client, liaison_a, task_one, task_two, unit_a, django_assert_num_queries
):
    services.create_ledger(task=task_one, unit=unit_a)
    login(client, liaison_a)
    url = reverse("ledger:my_ledgers")
    client.get(url)
    with django_assert_num_queries(7) as one:
        client.get(url)
    ledger = services.create_ledger(task=task_two, unit=unit_a)
    services.add_step(ledger, text="一", due_on=dt.date(2026, 3, 9))
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert [row.ledger.step_count for row in response.context["rows"]] == [0, 1]


def test_detail_query_count_does_not_grow(client, liaison_a, ledger_a, media, django_assert_num_queries):
    step = services.add_step(ledger_a, text="步骤1", due_on=dt.date(2026, 3, 4))
    services.add_progress(ledger_a, text="进展1", step=step, files=[SimpleUploadedFile("a.pdf", PDF)])
    login(client, liaison_a)
    url = reverse("ledger:ledger_detail", args=[ledger_a.pk])
    client.get(url)
    with django_assert_num_queries(8) as one:
        client.get(url)
    for number in (2, 3):
        step = services.add_step(ledger_a, text=f"步骤{number}", due_on=dt.date(2026, 3, 9 + number))
        services.add_progress(
            ledger_a, text=f"进展{number}", step=step, files=[SimpleUploadedFile(f"{number}.pdf", PDF)]
        )
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert [(step.text, label) for step, _badge, label in response.context["steps"]] == [
        ("步骤1", "即将到期"),
        ("步骤2", "计时中"),
        ("步骤3", "计时中"),
    ]


def test_detail_shows_overdue_badges(client, liaison_a, ledger_a):
    services.add_step(ledger_a, text="逾期步骤", due_on=dt.date(2026, 2, 27))
    body = login(client, liaison_a).get(reverse("ledger:ledger_detail", args=[ledger_a.pk])).content.decode()
    assert '<span class="badge level-4">已逾期</span>' in body


def test_progress_form_with_a_bad_attachment_shows_the_error(client, liaison_a, ledger_a, media):
    login(client, liaison_a)
    response = client.post(
        reverse("ledger:progress_add", args=[ledger_a.pk]),
        {"text": "召开会议", "files": [SimpleUploadedFile("病毒.exe", b"MZ")]},
    )
    assert response.status_code == 400
    assert "附件“病毒.exe”的类型不允许" in response.content.decode()
    assert ProgressEntry.objects.count() == 0
    response = client.post(
        reverse("ledger:progress_add", args=[ledger_a.pk]),
        {"text": "召开会议", "files": [SimpleUploadedFile("纪要.pdf", PDF)]},
    )
    assert response.status_code == 302
    assert ProgressEntry.objects.get().attachments.get().name == "纪要.pdf"


def test_attachments_download_in_scope_only(client, liaison_a, liaison_b, ledger_a, media):
    entry = services.add_progress(ledger_a, text="纪要", files=[SimpleUploadedFile("纪要.pdf", PDF)])
    attachment = entry.attachments.get()
    url = reverse("ledger:attachment_download", args=[attachment.pk])
    response = login(client, liaison_a).get(url)
    assert (response.status_code, b"".join(response.streaming_content)) == (200, PDF)
    # A PDF opens in the browser, under our Content-Type and nosniff (core.uploads.file_response).
    assert (
        response["Content-Type"],
        response["Content-Disposition"],
        response["X-Content-Type-Options"],
    ) == (
        "application/pdf",
        "inline; filename*=utf-8''%E7%BA%AA%E8%A6%81.pdf",
        "nosniff",
    )
    assert login(client, liaison_b).get(url).status_code == 404


def test_step_done_and_ledger_status_through_the_pages(client, liaison_a, ledger_a):
    step = services.add_step(ledger_a, text="步骤", due_on=dt.date(2026, 3, 9))
    login(client, liaison_a)
    client.post(reverse("ledger:step_done", args=[step.pk]))
    step.refresh_from_db()
    assert step.clock is not None
    assert (step.status, step.clock.state) == ("done", "stopped")
    client.post(reverse("ledger:ledger_status", args=[ledger_a.pk]), {"status": "done"})
    ledger_a.refresh_from_db()
    assert ledger_a.status == "done"


def test_unit_export_is_an_xlsx_of_the_units_ledgers(client, liaison_a, ledgers, ledger_plan):
    response = login(client, liaison_a).get(reverse("ledger:ledger_export"))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet["A1"].value == "市甲局2026年“正风”行动工作台帐"
    assert [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["市甲局"]


def test_county_office_export_holds_its_county_only(client, county_office, ledgers):
    response = login(client, county_office).get(reverse("ledger:ledger_export"))
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet["A1"].value == "清城区2026年“正风”行动工作台帐"
    assert [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["清城区甲局"]


def test_import_page_shows_row_errors_and_writes_nothing(client, liaison_a, ledger_plan):
    login(client, liaison_a)
    bad = write_sheet([[None, None, "9", None, None, "步骤", None, "明天", None, None, None]])
    response = client.post(
        reverse("ledger:ledger_import"),
        {"file": SimpleUploadedFile("台帐.xlsx", bad), "plan": ledger_plan.pk},
    )
    assert response.status_code == 400
    assert response.context["errors"] == ["第 3 行：方案中没有任务 9"]
    assert "第 3 行：方案中没有任务 9" in response.content.decode()
    assert Ledger.objects.count() == 0
    good = write_sheet([[None, None, "1", "目标", None, "步骤", None, "2026-03-20", None, None, None]])
    response = client.post(reverse("ledger:ledger_import"), {"file": SimpleUploadedFile("台帐.xlsx", good)})
    assert response.status_code == 302
    clock = LedgerStep.objects.get().clock
    assert clock is not None
    assert clock.due_at is not None
    assert clock.due_at.date() == dt.date(2026, 3, 20)


def test_only_keepers_import(client, unit_a, city_office, ledger_plan):
    assert (
        login(client, UserFactory(role=Role.HANDLER, unit=unit_a))
        .get(reverse("ledger:ledger_import"))
        .status_code
        == 403
    )
    assert login(client, city_office).get(reverse("ledger:ledger_import")).status_code == 403


def test_keeper_forms_render_and_save(client, liaison_a, ledger_a, ledger_plan):
    step = services.add_step(ledger_a, text="步骤", due_on=dt.date(2026, 3, 9))
    login(client, liaison_a)
    for url in (
        reverse("ledger:ledger_edit", args=[ledger_a.pk]),
        reverse("ledger:step_edit", args=[step.pk]),
        reverse("ledger:ledger_import"),
    ):
        assert client.get(url).status_code == 200
    response = client.post(
        reverse("ledger:ledger_edit", args=[ledger_a.pk]),
        {"goals": "新目标", "measures": "措施", "time_requirements": "年底前", "responsible_persons": "张三"},
    )
    assert response.status_code == 302
    ledger_a.refresh_from_db()
    assert (ledger_a.goals, ledger_a.persons_label) == ("新目标", "张三")
    response = client.post(
        reverse("ledger:step_edit", args=[step.pk]), {"text": "步骤", "due_on": "2026-03-01"}
    )
    assert response.status_code == 200
    assert "调整后的完成时限 2026-03-01 须晚于今天" in response.content.decode()


def test_an_invalid_step_is_refused_with_each_field_named_and_nothing_saved(client, unit_a, ledger_a):
    head = UserFactory(role=Role.HEAD, unit=unit_a)
    response = login(client, head).post(
        reverse("ledger:step_add", args=[ledger_a.pk]), {"text": "", "due_on": "2026-13-40"}, follow=True
    )

    assert [str(message) for message in response.context["messages"]] == [
        "工作步骤：这个字段是必填项。；完成时限：输入一个有效的日期。"
    ]
    assert LedgerStep.objects.count() == 0
