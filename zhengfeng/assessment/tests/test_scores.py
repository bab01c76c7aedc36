import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from zhengfeng.assessment import queries, services
from zhengfeng.assessment.models import Dimension, ScoreEvent
from zhengfeng.core.models import AuditLog

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 6, 30, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def record(
    unit, points, *, dimension=Dimension.HOTLINE, source_id="1", reason_code="hotline.late", at=AT, by=None
):
    return services.record_score_event(
        unit=unit,
        dimension=dimension,
        points=points,
        reason="工单答复超期",
        reason_code=reason_code,
        source_type="hotline.workorder",
        source_id=source_id,
        occurred_at=at,
        by=by,
    )


def test_record_is_idempotent_by_source(unit_a, city_office):
    event, created = record(unit_a, "-0.5", by=city_office)
    again, created_again = record(unit_a, "-0.5", by=city_office)

    assert (created, created_again) == (True, False)
    assert again.pk == event.pk
    assert ScoreEvent.objects.count() == 1
    assert (event.year, event.division_code, event.points, event.created_by) == (
        2026,
        "441800",
        Decimal("-0.5"),
        city_office,
    )
    assert AuditLog.objects.filter(action="score.recorded").count() == 1


def test_the_year_follows_local_time(unit_a):
    new_year_morning = dt.datetime(2025, 12, 31, 17, 0, tzinfo=dt.UTC)  # 2026-01-01 01:00 in Shanghai

    event, _ = record(unit_a, -1, at=new_year_morning)

    assert event.year == 2026


@pytest.mark.parametrize(
    ("points", "dimension", "message"),
    [
        (0, Dimension.HOTLINE, "分值 0 无效"),
        ("abc", Dimension.HOTLINE, "分值 'abc' 不是有效的数字"),
        ("-0.001", Dimension.HOTLINE, "最多两位小数"),
        ("NaN", Dimension.HOTLINE, "分值 'NaN' 无效"),
        (-1, "weather", "未知的考核项目 'weather'"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(unit_a, points, dimension, message):
    with pytest.raises(ValidationError, match=message):
        record(unit_a, points, dimension=dimension)

    assert ScoreEvent.objects.count() == 0
    assert AuditLog.objects.count() == 0


def test_a_naive_time_is_refused(unit_a):
    with pytest.raises(ValidationError, match="缺少时区"):
        record(unit_a, -1, at=dt.datetime(2026, 6, 30, 9, 0))  # noqa: DTZ001 (the point of the test)


def test_void_keeps_the_row_and_stops_it_counting(unit_a, inspector):
    event, _ = record(unit_a, -2)

    services.void_score_event(event, reason="工单系误派，责任不在该单位", by=inspector)

    event.refresh_from_db()
    assert (event.void_reason, event.voided_by) == ("工单系误派，责任不在该单位", inspector)
    assert event.voided_at is not None
    assert list(queries.explain(unit_a, 2026)) == []
    assert list(queries.explain(unit_a, 2026, include_voided=True)) == [event]
    row = AuditLog.objects.get(action="score.voided")
    assert row.data == {"reason": "工单系误派，责任不在该单位", "points": "-2.00", "unit": unit_a.pk}


def test_void_needs_a_reason_and_happens_once(unit_a, inspector):
    event, _ = record(unit_a, -2)

    with pytest.raises(ValidationError, match="作废原因不能为空"):
        services.void_score_event(event, reason="  ", by=inspector)
    services.void_score_event(event, reason="误派", by=inspector)
    with pytest.raises(ValidationError, match=f"计分记录 #{event.pk} 已于 .* 作废，不能重复作废"):
        services.void_score_event(event, reason="再次", by=inspector)

    assert AuditLog.objects.filter(action="score.voided").count() == 1


def test_unit_totals_sum_per_dimension_in_one_query(
    unit_a, unit_b, county_unit, city_office, django_assert_num_queries
):
    record(unit_a, "-1", source_id="1")
    record(unit_a, "-0.5", source_id="2")
    record(unit_a, "2", dimension=Dimension.EVALUATION, source_id="3", reason_code="evaluation.bonus")
    voided, _ = record(unit_a, "-5", source_id="4")
    services.void_score_event(voided, reason="复核撤销", by=city_office)
    record(unit_a, "-3", source_id="5", at=AT.replace(year=2025))
    record(unit_b, "-2", source_id="6")

    with django_assert_num_queries(1):
        totals = queries.unit_totals(2026, user=city_office)

    by_unit = {t.unit_name: t for t in totals}
    # Highest total first; ties by unit code.
    assert [t.unit_name for t in totals] == ["市甲局", "清城区甲局", "市正风办", "市乙局"]
    assert (by_unit["市甲局"].total, by_unit["市甲局"].event_count) == (Decimal("0.50"), 3)
    assert by_unit["市甲局"].by_dimension[Dimension.HOTLINE] == Decimal("-1.50")
    assert by_unit["市甲局"].by_dimension[Dimension.EVALUATION] == Decimal("2.00")
    assert by_unit["市甲局"].by_dimension[Dimension.ACCOUNTABILITY] == Decimal("0")
    assert (by_unit["市乙局"].total, by_unit["市乙局"].event_count) == (Decimal("-2.00"), 1)
    assert (by_unit["清城区甲局"].total, by_unit["清城区甲局"].event_count) == (Decimal("0"), 0)


def test_unit_totals_are_scoped(unit_a, unit_b, liaison_a, county_office, county_unit):
    record(unit_a, "-1", source_id="1")
    record(county_unit, "-2", source_id="2")

    assert [(t.unit_name, t.total) for t in queries.unit_totals(2026, user=liaison_a)] == [
        ("市甲局", Decimal("-1.00"))
    ]
    assert [t.unit_name for t in queries.unit_totals(2026, user=county_office)] == [
        "清城区正风办",
        "清城区甲局",
    ]


def test_explain_lists_the_events_oldest_first(unit_a):
    later, _ = record(unit_a, "-1", source_id="2", at=AT + dt.timedelta(days=1))
    earlier, _ = record(unit_a, "-1", source_id="1")

    assert list(queries.explain(unit_a, 2026)) == [earlier, later]


def test_bulk_events_skip_repeats_and_refuse_unknown_fields(unit_a):
    at = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    event = {
        "unit_id": unit_a.pk,
        "division_code": unit_a.division_id,
        "year": 2026,
        "dimension": Dimension.HOTLINE,
        "points": Decimal("-0.5"),
        "reason_code": "alert.yellow",
        "reason": "黄牌（催办）：工单超期",
        "source_type": "alerts.alert",
        "source_id": "7",
        "occurred_at": at,
    }

    services.record_score_events_in_bulk([event, {**event, "source_id": "8"}])
    services.record_score_events_in_bulk([event])

    assert sorted(ScoreEvent.objects.values_list("source_id", "points")) == [
        ("7", Decimal("-0.50")),
        ("8", Decimal("-0.50")),
    ]
    with pytest.raises(ValueError, match="未知的计分字段：colour"):
        services.record_score_events_in_bulk([{**event, "colour": "red"}])
