import datetime as dt
from decimal import Decimal

import pytest

from zhengfeng.alerts import services
from zhengfeng.alerts.models import Alert, AlertLevel, AlertRule, SmsFrom
from zhengfeng.alerts.tests.conftest import MINUTE, NOW, make_clock
from zhengfeng.assessment.models import Dimension, ScoreEvent
from zhengfeng.core.models import AuditLog
from zhengfeng.core.worker import registered_jobs
from zhengfeng.deadlines.models import Clock, ClockState
from zhengfeng.messaging.models import Channel, OutboxMessage
from zhengfeng.org.models import Role
from zhengfeng.testing.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTHING = {1: 0, 2: 0, 3: 0, 4: 0}


def cutoff(workdays: int) -> dt.datetime:
    return services.overdue_cutoff(NOW, workdays)


def levels_of(clock: Clock) -> list[int]:
    return sorted(Alert.objects.filter(clock=clock).values_list("level", flat=True))


def test_reminder_from_warn_at(unit_a):
    reached = make_clock(unit_a, due_at=NOW + dt.timedelta(days=2), warn_at=NOW - MINUTE)
    not_yet = make_clock(unit_a, due_at=NOW + dt.timedelta(days=2), warn_at=NOW + MINUTE)

    assert services.sweep(NOW) == {1: 1, 2: 0, 3: 0, 4: 0}

    assert levels_of(reached) == [AlertLevel.REMINDER]
    assert levels_of(not_yet) == []
    reached.refresh_from_db()
    assert reached.alert_level == AlertLevel.REMINDER


def test_yellow_on_the_first_overdue_minute(unit_a):
    overdue = make_clock(unit_a, due_at=NOW - MINUTE, warn_at=NOW - dt.timedelta(days=1), level=1)
    due_soon = make_clock(unit_a, due_at=NOW + MINUTE, warn_at=NOW - dt.timedelta(days=1), level=1)

    assert services.sweep(NOW) == {1: 0, 2: 1, 3: 0, 4: 0}

    assert levels_of(overdue) == [AlertLevel.YELLOW]
    assert levels_of(due_soon) == []


def test_notice_after_three_overdue_working_days(unit_a):
    notice = make_clock(unit_a, due_at=cutoff(3) - MINUTE, level=2)
    not_yet = make_clock(unit_a, due_at=cutoff(3) + MINUTE, level=2)

    assert services.sweep(NOW) == {1: 0, 2: 0, 3: 1, 4: 0}

    assert levels_of(notice) == [AlertLevel.NOTICE]
    assert levels_of(not_yet) == []


def test_red_after_five_more_working_days(unit_a):
    red = make_clock(unit_a, due_at=cutoff(8) - MINUTE, level=3)
    not_yet = make_clock(unit_a, due_at=cutoff(8) + MINUTE, level=3)

    assert services.sweep(NOW) == {1: 0, 2: 0, 3: 0, 4: 1}

    assert levels_of(red) == [AlertLevel.RED]
    assert levels_of(not_yet) == []


def test_a_clock_found_far_overdue_gets_every_escalation_step_dated_now(unit_a):
    clock = make_clock(unit_a, due_at=cutoff(10), warn_at=cutoff(11))

    assert services.sweep(NOW) == {1: 0, 2: 1, 3: 1, 4: 1}

    alerts = list(Alert.objects.filter(clock=clock).order_by("level"))
    assert [a.level for a in alerts] == [2, 3, 4]
    assert {a.issued_at for a in alerts} == {NOW}
    clock.refresh_from_db()
    assert clock.alert_level == AlertLevel.RED


def test_paused_and_stopped_clocks_are_left_alone(unit_a):
    make_clock(unit_a, due_at=NOW - dt.timedelta(days=30), state=ClockState.PAUSED)
    make_clock(unit_a, due_at=NOW - dt.timedelta(days=30), state=ClockState.STOPPED)

    assert services.sweep(NOW) == NOTHING


def test_running_twice_changes_nothing(unit_a, liaison_a):
    make_clock(unit_a, due_at=cutoff(10))
    make_clock(unit_a, due_at=NOW - MINUTE)
    make_clock(unit_a, due_at=NOW + dt.timedelta(hours=1), warn_at=NOW - dt.timedelta(hours=1))

    first = services.sweep(NOW)
    services.notify_units(NOW)
    snapshot = (
        Alert.objects.count(),
        ScoreEvent.objects.count(),
        OutboxMessage.objects.count(),
        sorted(Clock.objects.values_list("alert_level", flat=True)),
    )
    audit_rows = AuditLog.objects.count()
    second = services.sweep(NOW)
    assert services.notify_units(NOW) == 0

    assert first == {1: 1, 2: 2, 3: 1, 4: 1}
    assert second == NOTHING
    assert snapshot == (
        5,
        2,
        1,
        [1, 2, 4],
    )
    assert (
        Alert.objects.count(),
        ScoreEvent.objects.count(),
        OutboxMessage.objects.count(),
        sorted(Clock.objects.values_list("alert_level", flat=True)),
    ) == snapshot
    assert AuditLog.objects.count() == audit_rows


def test_score_events_once_per_deducting_step(unit_a):
    clock = make_clock(unit_a, due_at=cutoff(10))

    services.sweep(NOW)
    services.sweep(NOW + dt.timedelta(minutes=5))

    events = list(ScoreEvent.objects.order_by("points"))
    assert [(e.points, e.dimension, e.reason_code, e.unit_id, e.year) for e in events] == [
        (Decimal("-2.00"), Dimension.EFFICIENCY, "alert.red", unit_a.pk, 2026),
        (Decimal("-1.00"), Dimension.EFFICIENCY, "alert.notice", unit_a.pk, 2026),
    ]
    by_level = {a.level: a for a in Alert.objects.filter(clock=clock)}
    assert by_level[AlertLevel.YELLOW].score_event_id is None
    assert by_level[AlertLevel.NOTICE].score_event_id == events[1].pk
    assert by_level[AlertLevel.RED].score_event_id == events[0].pk
    assert events[1].source_type == "alerts.alert"
    assert events[1].source_id == str(by_level[AlertLevel.NOTICE].pk)


def test_a_clock_whose_level_was_lowered_by_hand_keeps_its_first_alerts(unit_a):
    clock = make_clock(unit_a, due_at=cutoff(10))
    services.sweep(NOW)
    first = sorted(Alert.objects.values_list("id", "level", "score_event_id"))
    Clock.objects.filter(pk=clock.pk).update(alert_level=0)

    services.sweep(NOW + dt.timedelta(minutes=5))

    assert sorted(Alert.objects.values_list("id", "level", "score_event_id")) == first
    assert sorted(ScoreEvent.objects.values_list("reason_code", flat=True)) == ["alert.notice", "alert.red"]
    assert Clock.objects.get(pk=clock.pk).alert_level == AlertLevel.RED


def test_a_clock_without_a_unit_gets_its_alerts_but_no_score_events(unit_a):
    clock = make_clock(None, due_at=cutoff(10))

    assert services.sweep(NOW) == {1: 0, 2: 1, 3: 1, 4: 1}

    # Typed as the columns are (django-stubs reads the foreign keys' ids as never None).
    rows: list[tuple[int, int | None, int | None]] = list(
        Alert.objects.filter(clock=clock).values_list("level", "unit_id", "score_event_id")
    )
    assert rows == [
        (AlertLevel.RED, None, None),
        (AlertLevel.NOTICE, None, None),
        (AlertLevel.YELLOW, None, None),
    ]
    assert ScoreEvent.objects.count() == 0


def test_a_rule_for_a_kind_overrides_the_default(unit_a):
    AlertRule.objects.create(
        kind="report.quarterly",
        name="季度报送",
        remind=False,
        notice_after_workdays=1,
        red_after_workdays=1,
        dimension=Dimension.IMPLEMENTATION,
        yellow_points=Decimal("-0.5"),
        notice_points=Decimal("-1"),
        red_points=Decimal("-3"),
    )
    report = make_clock(unit_a, kind="report.quarterly", due_at=cutoff(2) - MINUTE, warn_at=NOW - MINUTE)
    hotline = make_clock(unit_a, kind="hotline.reply", due_at=cutoff(2) - MINUTE)

    services.sweep(NOW)

    assert levels_of(report) == [2, 3, 4]
    assert levels_of(hotline) == [2]
    assert sorted(ScoreEvent.objects.values_list("dimension", "points")) == [
        (Dimension.IMPLEMENTATION, Decimal("-3.00")),
        (Dimension.IMPLEMENTATION, Decimal("-1.00")),
        (Dimension.IMPLEMENTATION, Decimal("-0.50")),
    ]


def test_an_inactive_rule_silences_its_kind(unit_a):
    AlertRule.objects.create(kind="funds.disclosure", name="资金公开", is_active=False)
    make_clock(unit_a, kind="funds.disclosure", due_at=cutoff(10))

    assert services.sweep(NOW) == NOTHING


def test_documents_are_numbered_per_office_series_and_year(unit_a, county_unit):
    make_clock(unit_a, due_at=NOW - MINUTE)
    make_clock(county_unit, due_at=NOW - MINUTE)
    services.sweep(NOW)
    make_clock(unit_a, due_at=cutoff(3) - MINUTE, level=2)
    services.sweep(NOW + MINUTE)

    numbers = sorted(Alert.objects.values_list("doc_number", flat=True))
    assert numbers == ["清城正风督〔2026〕1号", "清正风督〔2026〕1号", "清正风通〔2026〕1号"]


def test_texts_name_unit_deadline_and_consequence(unit_a):
    make_clock(unit_a, due_at=dt.datetime(2026, 3, 10, 9, 30, tzinfo=NOW.tzinfo), label="工单QY001答复")

    services.sweep(NOW)

    yellow = Alert.objects.get(level=AlertLevel.YELLOW)
    assert yellow.title == "关于对市甲局“工单QY001答复”逾期未办结的催办通知"
    assert yellow.body.splitlines() == [
        "你单位承办的“工单QY001答复”办理时限已于2026年3月10日09:30届满，截至2026年3月11日10:00仍未办结。"
        "根据“正风”行动工作要求，现予以催办（黄牌预警），请接到本通知后立即办理，并将办理情况反馈“正风”办。",
        "逾期满 3 个工作日仍未办结的，将予以通报批评。",
    ]
    assert yellow.due_at == dt.datetime(2026, 3, 10, 9, 30, tzinfo=NOW.tzinfo)


def test_liaison_and_head_get_one_message_per_run_and_sms_where_the_rule_says(unit_a, unit_b, liaison_a):
    head = UserFactory.create(
        username="head_a", role=Role.HEAD, unit=unit_a, person=PersonFactory(phone="13812345678")
    )
    UserFactory(username="handler_a", role=Role.HANDLER, unit=unit_a)
    make_clock(unit_a, due_at=cutoff(3) - MINUTE)
    make_clock(unit_a, due_at=NOW - MINUTE)
    make_clock(unit_b, due_at=NOW + dt.timedelta(hours=2), warn_at=NOW - MINUTE)

    services.sweep(NOW)
    assert services.notify_units(NOW) == 3

    inapp = list(OutboxMessage.objects.filter(channel=Channel.INAPP).order_by("user_id"))
    assert [(m.user_id, m.text) for m in inapp] == [
        (liaison_a.pk, "市甲局有新的预警督办：黄牌（催办） 2 条、通报批评 1 条。请登录正风平台查看并签收。"),
        (head.pk, "市甲局有新的预警督办：黄牌（催办） 2 条、通报批评 1 条。请登录正风平台查看并签收。"),
    ]
    sms = list(OutboxMessage.objects.filter(channel=Channel.SMS))
    assert len(sms) == 1
    assert "黄牌（催办） 2 条" in sms[0].text


def test_each_alert_is_notified_once_across_runs(unit_a, liaison_a):
    make_clock(unit_a, due_at=NOW - MINUTE)
    services.sweep(NOW)
    assert services.notify_units(NOW) == 1
    make_clock(unit_a, due_at=NOW - MINUTE, label="工单QY999答复")
    services.sweep(NOW + MINUTE)

    assert services.notify_units(NOW + MINUTE) == 1
    assert services.notify_units(NOW + MINUTE) == 0
    assert list(OutboxMessage.objects.order_by("id").values_list("text", flat=True)) == [
        "市甲局有新的预警督办：黄牌（催办） 1 条。请登录正风平台查看并签收。",
        "市甲局有新的预警督办：黄牌（催办） 1 条。请登录正风平台查看并签收。",
    ]


def test_no_sms_when_the_rule_says_never(unit_a):
    AlertRule.objects.filter(kind="*").update(sms_from_level=SmsFrom.NEVER)
    UserFactory(role=Role.HEAD, unit=unit_a, person=PersonFactory(phone="13812345678"))
    make_clock(unit_a, due_at=NOW - MINUTE)

    services.sweep(NOW)
    services.notify_units(NOW)

    assert list(OutboxMessage.objects.values_list("channel", flat=True)) == [Channel.INAPP]


def test_one_audit_row_per_run_with_the_counts(unit_a):
    make_clock(unit_a, due_at=cutoff(10))
    make_clock(unit_a, due_at=NOW - MINUTE)
    before = AuditLog.objects.count()

    services.sweep(NOW)

    rows = list(AuditLog.objects.filter(action="alerts.swept"))
    assert len(rows) == 1
    assert rows[0].data == {
        "at": NOW.isoformat(),
        "counts": {"reminder": 0, "yellow": 2, "notice": 1, "red": 1},
        "score_events": 2,
    }
    assert AuditLog.objects.count() == before + 1


def test_the_sweep_is_a_worker_job_every_five_minutes(unit_a):
    clock = make_clock(unit_a, due_at=NOW - MINUTE)
    job = registered_jobs()["alerts.sweep"]

    assert job.every == dt.timedelta(minutes=5)
    assert job.func(NOW) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert levels_of(clock) == [AlertLevel.YELLOW]
    assert Alert.objects.get().notified_at == NOW


def test_a_naive_time_is_refused():
    with pytest.raises(Exception, match="缺少时区"):
        services.sweep(dt.datetime(2026, 3, 11, 10, 0))  # noqa: DTZ001 (the point of the test)
