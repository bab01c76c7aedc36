"""Ledger services: step clocks started and stopped, status transitions, attachments, audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengfeng.core.models import AuditLog
from zhengfeng.deadlines import services as deadlines
from zhengfeng.deadlines.models import BudgetUnit, Clock, ClockEvent
from zhengfeng.ledger.ledgers import services
from zhengfeng.ledger.models import (
    Ledger,
    LedgerStatus,
    LedgerStep,
    ProgressAttachment,
    ProgressEntry,
    StepStatus,
)
from zhengfeng.ledger.plans import services as plan_services
from zhengfeng.ledger.tests.conftest import LEDGER_NOW
from zhengfeng.testing.factories import PersonFactory, PositionFactory

TZ = LEDGER_NOW.tzinfo
PDF = b"%PDF-1.4 test document"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def ledger(task_one, unit_a, liaison_a):
    return services.create_ledger(task=task_one, unit=unit_a, goals="目标", by=liaison_a)


def test_create_ledger_copies_the_division_and_audits(ledger, liaison_a, unit_a):
    assert (ledger.division_code, ledger.status, ledger.goals) == ("441800", LedgerStatus.NOT_STARTED, "目标")
    row = AuditLog.objects.get(action="ledger.created")
    assert (row.actor, row.division_code, row.data["unit"], row.data["task"]) == (
        liaison_a,
        "441800",
        "441800-A",
        1,
    )


def test_create_ledger_needs_a_responsibility_and_is_once_per_task(
    ledger, task_two, unit_b, unit_a, task_one
):
    with pytest.raises(ValidationError) as exc:
        services.create_ledger(task=task_two, unit=unit_b)
    assert exc.value.messages == ["市乙局不承担任务 2（优化政务服务），不能建立台帐"]
    with pytest.raises(ValidationError, match="市甲局已有任务 1 的台帐"):
        services.create_ledger(task=task_one, unit=unit_a)
    assert Ledger.objects.count() == 1


def test_responsible_person_must_work_in_the_unit(ledger, unit_a, unit_b):
    outsider = PositionFactory.create(unit=unit_b).person
    with pytest.raises(ValidationError) as exc:
        services.update_ledger(
            ledger,
            goals="目标",
            measures="",
            time_requirements="",
            responsible_persons="",
            responsible_person=outsider,
        )
    assert exc.value.messages == [f"{outsider.name} 不在 市甲局 任职，不能作为责任人"]
    insider = PositionFactory.create(unit=unit_a, person=PersonFactory(name="王五")).person
    changed = services.update_ledger(
        ledger,
        goals="目标",
        measures="措施",
        time_requirements="",
        responsible_persons="",
        responsible_person=insider,
    )
    assert changed == ["measures", "responsible_person"]
    assert ledger.persons_label == "王五"


def test_a_dated_step_gets_a_clock_due_at_close_of_business(ledger, liaison_a):
    step = services.add_step(ledger, text="召开动员会", due_on=dt.date(2026, 3, 10), by=liaison_a)
    assert step.clock_id is not None
    clock = Clock.objects.get(pk=step.clock_id)
    assert (clock.kind, clock.source_type, clock.source_id) == (
        "ledger_step",
        "ledger.ledgerstep",
        str(step.pk),
    )
    assert (clock.state, clock.unit_id, clock.division_code) == ("running", ledger.unit_id, "441800")
    assert clock.due_at == local(2026, 3, 10, 17, 30)
    assert clock.warn_at == local(2026, 3, 7, 17, 30)
    # A fixed-date clock: no budget, the date is the START event's.
    assert (clock.budget_unit, clock.budget, clock.started_at) == ("fixed_date", 0, LEDGER_NOW)
    assert list(clock.events.values_list("kind", "data")) == [("start", {"due_on": "2026-03-10"})]
    assert AuditLog.objects.filter(action__in=["clock.started", "ledger.step_added"]).count() == 2


def test_a_due_date_on_a_day_off_moves_to_the_next_working_day(ledger):
    step = services.add_step(ledger, text="自查自纠", due_on=dt.date(2026, 3, 7))  # a Saturday
    assert step.clock is not None
    assert step.clock.due_at == local(2026, 3, 9, 17, 30)


def test_a_step_recorded_after_its_due_date_is_overdue_at_once(ledger):
    step = services.add_step(ledger, text="上报方案", due_on=dt.date(2026, 2, 27))
    assert step.clock is not None
    assert step.clock.due_at == local(2026, 2, 27, 17, 30)
    assert Clock.objects.overdue(at=LEDGER_NOW).get() == step.clock


def test_a_step_without_due_date_has_no_clock(ledger):
    step = services.add_step(ledger, text="长期坚持")
    assert step.clock is None
    assert Clock.objects.count() == 0


def test_step_texts_are_unique_and_required(ledger):
    services.add_step(ledger, text="召开动员会")
    with pytest.raises(ValidationError, match="本台帐已有工作步骤“召开动员会”"):
        services.add_step(ledger, text=" 召开动员会 ")
    with pytest.raises(ValidationError, match="工作步骤不能为空"):
        services.add_step(ledger, text="  ")
    assert LedgerStep.objects.count() == 1


def test_completing_a_step_stops_its_clock_and_starts_the_ledger(ledger, liaison_a, frozen):
    step = services.add_step(ledger, text="召开动员会", due_on=dt.date(2026, 3, 10))
    frozen.move_to(local(2026, 3, 5, 10, 0))
    services.set_step_status(step, StepStatus.DONE, by=liaison_a)
    step.refresh_from_db()
    ledger.refresh_from_db()
    assert (step.status, step.completed_at) == (StepStatus.DONE, local(2026, 3, 5, 10, 0))
    assert step.clock is not None
    assert (step.clock.state, step.clock.stopped_at, step.clock.is_late) == (
        "stopped",
        local(2026, 3, 5, 10),
        False,
    )
    assert (
        ClockEvent.objects.filter(clock=step.clock).values_list("kind", flat=True).order_by("id")[1] == "stop"
    )
    assert ledger.status == LedgerStatus.IN_PROGRESS
    assert AuditLog.objects.get(action="ledger.step_done").data["late"] is False


def test_a_late_step_stays_late_and_cannot_be_reopened(ledger, frozen):
    step = services.add_step(ledger, text="召开动员会", due_on=dt.date(2026, 3, 3))
    frozen.move_to(local(2026, 3, 4, 9, 0))
    services.set_step_status(step, StepStatus.DONE)
    assert step.clock is not None
    assert step.clock.is_late is True
    with pytest.raises(ValidationError, match="已完成，不能重新打开"):
        services.set_step_status(step, StepStatus.OPEN)
    with pytest.raises(ValidationError, match="已完成，完成时限不能再修改"):
        services.update_step(step, text=step.text, due_on=dt.date(2026, 4, 1))


def test_moving_a_due_date_restarts_the_clock(ledger, frozen):
    step = services.add_step(ledger, text="召开动员会", due_on=dt.date(2026, 3, 10))
    frozen.move_to(local(2026, 3, 3, 9, 0))
    assert services.update_step(step, text="召开动员部署会", due_on=dt.date(2026, 3, 20)) == [
        "text",
        "due_on",
    ]
    step.refresh_from_db()
    assert step.clock is not None
    assert step.clock.due_at == local(2026, 3, 20, 17, 30)
    assert list(
        ClockEvent.objects.filter(clock=step.clock).values_list("kind", flat=True).order_by("id")
    ) == [
        "start",
        "restart",
    ]
    assert ClockEvent.objects.filter(clock=step.clock).latest("id").data == {"due_on": "2026-03-20"}
    with pytest.raises(ValidationError, match="调整后的完成时限 2026-03-03 须晚于今天"):
        services.update_step(step, text=step.text, due_on=dt.date(2026, 3, 3))
    with pytest.raises(ValidationError, match="完成时限已设定，不能清除"):
        services.update_step(step, text=step.text, due_on=None)


def test_removing_a_step_stops_its_clock(ledger):
    step = services.add_step(ledger, text="召开动员会", due_on=dt.date(2026, 3, 10))
    clock_id = step.clock_id
    services.remove_step(step)
    assert LedgerStep.objects.count() == 0
    assert clock_id is not None
    assert Clock.objects.get(pk=clock_id).state == "stopped"
    kept = services.add_step(ledger, text="另一步")
    services.add_progress(ledger, text="已开展", step=kept)
    with pytest.raises(ValidationError, match="已有工作进展，不能删除"):
        services.remove_step(kept)


def test_ledger_status_transitions(ledger, liaison_a):
    step = services.add_step(ledger, text="召开动员会")
    with pytest.raises(ValidationError, match=r"还有未完成的工作步骤（召开动员会）"):
        services.set_ledger_status(ledger, LedgerStatus.DONE, by=liaison_a)
    services.set_step_status(step, StepStatus.DONE, by=liaison_a)
    services.set_ledger_status(ledger, LedgerStatus.DONE, by=liaison_a)
    ledger.refresh_from_db()
    assert (ledger.status, ledger.completed_at) == (LedgerStatus.DONE, LEDGER_NOW)
    with pytest.raises(ValidationError, match="台帐已完成，不能新增工作步骤"):
        services.add_step(ledger, text="再加一步")
    with pytest.raises(ValidationError, match="重新打开已完成的台帐须说明原因"):
        services.set_ledger_status(ledger, LedgerStatus.IN_PROGRESS)
    with pytest.raises(ValidationError, match="台帐状态不能从“已完成”改为“未开始”"):
        services.set_ledger_status(ledger, LedgerStatus.NOT_STARTED)
    services.set_ledger_status(ledger, LedgerStatus.IN_PROGRESS, reason="补充整改", by=liaison_a)
    ledger.refresh_from_db()
    assert (ledger.status, ledger.completed_at) == (LedgerStatus.IN_PROGRESS, None)
    changes = [
        (row.data["from"], row.data["to"], row.data["reason"])
        for row in AuditLog.objects.filter(action="ledger.status_changed").order_by("id")
    ]
    assert changes == [
        ("not_started", "in_progress", ""),
        ("in_progress", "done", ""),
        ("done", "in_progress", "补充整改"),
    ]


def test_progress_with_attachments_is_stored_under_media(ledger, liaison_a, media):
    files = [SimpleUploadedFile("会议纪要.pdf", PDF), SimpleUploadedFile("现场.PNG", PNG)]
    entry = services.add_progress(ledger, text="召开了动员会", files=files, by=liaison_a)
    assert (entry.noted_on, entry.author_name, entry.created_by) == (
        dt.date(2026, 3, 2),
        "liaison_a",
        liaison_a,
    )
    names = [(a.name, a.size) for a in entry.attachments.order_by("id")]
    assert names == [("会议纪要.pdf", len(PDF)), ("现场.PNG", len(PNG))]
    stored = entry.attachments.order_by("id").first()
    assert stored is not None
    assert stored.file.name.startswith(f"ledger/441800/{ledger.pk}/")
    assert (media / stored.file.name).read_bytes() == PDF
    ledger.refresh_from_db()
    assert ledger.status == LedgerStatus.IN_PROGRESS
    assert AuditLog.objects.get(action="ledger.progress_added").data["attachments"] == [
        "会议纪要.pdf",
        "现场.PNG",
    ]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("tool.exe", b"MZ"),
            "附件“tool.exe”的类型不允许（允许：pdf、ofd、doc、docx、xls、xlsx、jpg、jpeg、png、zip、txt）",
        ),
        (
            SimpleUploadedFile("大文件.pdf", PDF + b"x" * (2 * 1024 * 1024)),
            "附件“大文件.pdf”大小为 2.0 MB，超过 pdf 文件的上限 1.0 MB",
        ),
        (
            SimpleUploadedFile("假的.pdf", b"MZ\x90\x00"),
            "附件“假的.pdf”的内容不是 PDF 文件，与扩展名 .pdf 不符",
        ),
        (SimpleUploadedFile("空.docx", b""), "附件“空.docx”是空文件"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_saved(ledger, media, settings, upload, message):
    settings.UPLOAD_MAX_BYTES = {**settings.UPLOAD_MAX_BYTES, "document": 1024 * 1024}
    good = SimpleUploadedFile("好的.pdf", PDF)
    with pytest.raises(ValidationError) as exc:
        services.add_progress(ledger, text="进展", files=[good, upload])
    assert exc.value.messages == [message]
    assert (ProgressEntry.objects.count(), ProgressAttachment.objects.count()) == (0, 0)
    assert not media.exists() or not any(media.rglob("*.*"))
    ledger.refresh_from_db()
    assert ledger.status == LedgerStatus.NOT_STARTED


def test_progress_cannot_be_dated_in_the_future_or_point_at_another_ledger(ledger, task_one, unit_b):
    with pytest.raises(ValidationError, match="进展日期 2026-03-03 晚于今天"):
        services.add_progress(ledger, text="进展", noted_on=dt.date(2026, 3, 3))
    other = services.create_ledger(task=task_one, unit=unit_b)
    step = services.add_step(other, text="乙的步骤")
    with pytest.raises(ValidationError, match="工作步骤“乙的步骤”不属于本台帐"):
        services.add_progress(ledger, text="进展", step=step)


def test_a_task_with_ledgers_cannot_be_deleted(ledger, task_one):
    with pytest.raises(ValidationError, match="任务 1 已有单位建立工作台帐，不能删除"):
        plan_services.delete_task(task_one)
    assert Ledger.objects.count() == 1


def test_moving_the_due_date_of_a_natural_day_clock_from_before_the_fixed_date_kind(ledger, frozen):
    """Step clocks started before `fixed_date` existed count natural days up to the date."""
    step = services.add_step(ledger, text="召开动员会")
    step.clock = deadlines.start_clock(
        source_type="ledger.ledgerstep",
        source_id=step.pk,
        kind="ledger_step",
        label="召开动员会",
        unit=ledger.unit,
        division_code=ledger.division_code,
        budget_unit=BudgetUnit.NATURAL_DAYS,
        budget=8,
        warn_before=3,
        started_at=LEDGER_NOW,
    )
    step.due_on = dt.date(2026, 3, 10)
    step.save(update_fields=["clock", "due_on"])
    assert step.clock.due_at == local(2026, 3, 10, 17, 30)
    frozen.move_to(local(2026, 3, 3, 9, 0))

    services.update_step(step, text=step.text, due_on=dt.date(2026, 3, 20))

    step.refresh_from_db()
    assert (step.clock.budget_unit, step.clock.due_at) == ("natural_days", local(2026, 3, 20, 17, 30))
    assert ClockEvent.objects.filter(clock=step.clock).latest("id").data == {"budget": 17}
