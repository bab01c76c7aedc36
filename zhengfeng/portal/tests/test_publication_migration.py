"""The data migration into the core publication engine: every row of portal.Publication and
evaluation.ResultPublication arrives in core.Publication with its fields, status and withdrawal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from zhengfeng.core.models import Publication
from zhengfeng.evaluation.models import EvaluationYear
from zhengfeng.testing.factories import UserFactory

BEFORE = [
    ("core", "0003_cache_table"),
    ("portal", "0001_initial"),
    ("evaluation", "0002_part2_votes_rules_clues_publication"),
]
AFTER = [
    ("core", "0004_publication"),
    ("portal", "0003_delete_publication"),
    ("evaluation", "0004_delete_resultpublication"),
]
T1 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC)
T3 = dt.datetime(2026, 4, 3, 9, 0, tzinfo=dt.UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_publications_move_into_the_engine(city):
    office = UserFactory.create(username="office")
    clerk = UserFactory.create(username="clerk")
    evaluation_year = EvaluationYear.objects.create(division=city, year=2015, title="2015年清远市“公述民评”")
    old = migrate(BEFORE)
    try:
        hotline = old.get_model("portal", "Publication")
        results = old.get_model("evaluation", "ResultPublication")
        hotline.objects.create(
            kind="hotline_units",
            period="2026-03",
            title="清远市12345热线各单位办理情况（2026年3月）",
            division_code="441800",
            scope_label="清远市",
            data={"rows": [{"unit": "市甲局", "values": [6]}]},
            status="withdrawn",
            publish_at=T2,
            created_at=T1,
            created_by_id=office.pk,
            withdrawn_at=T3,
            withdrawn_by_id=clerk.pk,
            withdraw_reason="数据口径有误",
        )
        hotline.objects.create(
            kind="hotline_radio",
            period="2026Q1",
            title="清远市行风热线上线单位办理情况（2026年第一季度）",
            division_code="",
            scope_label="全市",
            data={"rows": []},
            publish_at=T3,
            created_at=T1,
            created_by_id=office.pk,
        )
        results.objects.create(
            year_id=evaluation_year.pk,
            division_code="441800",
            title="2015年清远市“公述民评”结果",
            data={"year": 2015, "rows": []},
            published_at=T2,
            published_by_id=clerk.pk,
        )
    finally:
        migrate(AFTER)
        # Back to every app's latest migration (core has some after AFTER's): the next test in this
        # process must find the whole schema.
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    rows = [
        (
            p.kind,
            p.period,
            p.title,
            p.division_code,
            p.scope_label,
            p.data,
            p.status,
            p.publish_at,
            p.created_at,
            p.created_by_id,
            p.withdrawn_at,
            p.withdrawn_by_id,
            p.withdraw_reason,
        )
        for p in Publication.objects.order_by("kind")
    ]
    assert rows == [
        (
            "evaluation_results",
            "2015",
            "2015年清远市“公述民评”结果",
            "441800",
            "",
            {"year": 2015, "rows": []},
            "published",
            T2,
            T2,
            clerk.pk,
            None,
            None,
            "",
        ),
        (
            "hotline_radio",
            "2026Q1",
            "清远市行风热线上线单位办理情况（2026年第一季度）",
            "",
            "全市",
            {"rows": []},
            "published",
            T3,
            T1,
            office.pk,
            None,
            None,
            "",
        ),
        (
            "hotline_units",
            "2026-03",
            "清远市12345热线各单位办理情况（2026年3月）",
            "441800",
            "清远市",
            {"rows": [{"unit": "市甲局", "values": [6]}]},
            "withdrawn",
            T2,
            T1,
            office.pk,
            T3,
            clerk.pk,
            "数据口径有误",
        ),
    ]
