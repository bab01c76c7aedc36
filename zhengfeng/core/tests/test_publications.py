"""The publication engine: publish, scheduled publish, withdraw with a reason, history, one live
publication per kind + period + division, one audit row per write."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengfeng.core import publications
from zhengfeng.core.models import AuditLog, Publication, PublicationStatus

pytestmark = pytest.mark.django_db

KIND = "core_test_table"
publications.register_kind(KIND, "测试表格", audit_prefix="core_test.table")

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def publisher():
    # The kernel knows the user model only through Django (core imports no other app).
    return get_user_model().objects.create_superuser(username="publisher", password="x")


def publish(by, *, period="2026Q1", division_code="441800", **kwargs):
    return publications.publish(
        by=by,
        kind=KIND,
        period=period,
        title=f"测试表格（{period}）",
        division_code=division_code,
        data={"rows": [{"unit": "市甲局", "values": [1]}]},
        at=NOW,
        **kwargs,
    )


def test_publish_stores_the_frozen_table_and_one_audit_row(publisher):
    publication = publish(publisher, scope_label="清远市", audit_data={"rows": 1})

    assert (publication.kind, publication.period, publication.division_code, publication.scope_label) == (
        KIND,
        "2026Q1",
        "441800",
        "清远市",
    )
    assert publication.data == {"rows": [{"unit": "市甲局", "values": [1]}]}
    assert (publication.status, publication.publish_at, publication.created_at) == ("published", NOW, NOW)
    assert publication.created_by == publisher
    log = AuditLog.objects.get()
    assert (log.action, log.target_id, log.division_code, log.data) == (
        "core_test.table_published",
        str(publication.pk),
        "441800",
        {"rows": 1},
    )


def test_a_scheduled_publication_is_hidden_until_its_time(publisher):
    later = NOW + dt.timedelta(days=2)
    publication = publish(publisher, publish_at=later)

    assert publication.publish_at == later
    assert list(publications.public(KIND, at=NOW)) == []
    assert list(publications.public(KIND, at=later - dt.timedelta(seconds=1))) == []
    assert list(publications.public(KIND, at=later)) == [publication]
    with time_machine.travel(later, tick=False):
        assert list(publications.public(KIND)) == [publication]


def test_public_reads_only_the_kinds_asked_for(publisher):
    publication = publish(publisher)

    assert list(publications.public(KIND, at=NOW)) == [publication]
    assert list(publications.public("another_kind", at=NOW)) == []
    assert publications.detail(publication.pk, KIND) == publication
    assert publications.detail(publication.pk, "another_kind") is None


def test_naive_publish_time_and_unknown_kind_are_refused(publisher):
    with pytest.raises(ValidationError) as exc:
        publish(publisher, publish_at=dt.datetime(2026, 4, 2, 9, 0))  # noqa: DTZ001 (the naive time under test)
    assert exc.value.messages == ["公开时间须带时区"]
    with pytest.raises(ValidationError) as exc:
        publications.publish(
            by=publisher, kind="nobody_registered_this", period="2026", title="x", division_code="", data={}
        )
    assert exc.value.messages[0].startswith("未知的发布类别 'nobody_registered_this'")
    assert (Publication.objects.count(), AuditLog.objects.count()) == (0, 0)


def test_one_live_publication_per_kind_period_and_division(publisher):
    publish(publisher)

    with pytest.raises(ValidationError) as exc:
        publish(publisher)
    assert exc.value.messages == ["“测试表格（2026Q1）”已经发布；如需更正，请先撤回原发布"]
    # Another period or another division is another key.
    publish(publisher, period="2026Q2")
    publish(publisher, division_code="441802")
    assert Publication.objects.count() == 3
    assert AuditLog.objects.filter(action="core_test.table_published").count() == 3


def test_withdraw_needs_a_reason_and_keeps_the_row(publisher):
    publication = publish(publisher)
    withdrawer = get_user_model().objects.create_superuser(username="withdrawer", password="x")

    for reason in ("", "   "):
        with pytest.raises(ValidationError) as exc:
            publications.withdraw(publication, by=withdrawer, reason=reason)
        assert exc.value.messages == ["撤回须说明理由"]
    with pytest.raises(ValidationError) as exc:
        publications.withdraw(publication, by=withdrawer, reason="长" * 1001)
    assert exc.value.messages == ["撤回理由最多 1000 字，现为 1001 字"]
    later = NOW + dt.timedelta(hours=1)

    publications.withdraw(publication, by=withdrawer, reason=" 数据有误 ", at=later, audit_data={"voided": 2})

    assert (
        publication.status,
        publication.withdrawn_at,
        publication.withdrawn_by,
        publication.withdraw_reason,
    ) == (
        PublicationStatus.WITHDRAWN,
        later,
        withdrawer,
        "数据有误",
    )
    assert list(publications.public(KIND, at=later)) == []
    assert publications.detail(publication.pk, KIND) == publication
    log = AuditLog.objects.get(action="core_test.table_withdrawn")
    assert (log.actor, log.target_id, log.data) == (
        withdrawer,
        str(publication.pk),
        {"reason": "数据有误", "voided": 2},
    )
    with pytest.raises(ValidationError) as exc:
        publications.withdraw(publication, by=withdrawer, reason="再撤")
    assert exc.value.messages == ["“测试表格（2026Q1）”已撤回，不能再次撤回"]
    assert AuditLog.objects.filter(action="core_test.table_withdrawn").count() == 1


def test_history_keeps_the_withdrawn_one_and_the_one_that_followed(publisher):
    first = publish(publisher)
    publications.withdraw(first, by=publisher, reason="更正", at=NOW + dt.timedelta(hours=1))
    second = publications.publish(
        by=publisher,
        kind=KIND,
        period="2026Q1",
        title="测试表格（2026Q1）",
        division_code="441800",
        data={"rows": []},
        at=NOW + dt.timedelta(hours=2),
    )
    publish(publisher, division_code="441802")

    history = list(publications.history(kind=KIND, period="2026Q1", division_code="441800"))

    assert history == [first, second]
    assert [p.status for p in history] == ["withdrawn", "published"]
    assert list(publications.public(KIND, at=timezone.now()).filter(division_code="441800")) == [second]


def test_the_database_holds_the_rules_too(publisher):
    publication = publish(publisher)

    # A withdrawal without a reason is refused by the table itself, not only by the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.WITHDRAWN)


def test_registering_a_kind_twice_differently_is_a_bug():
    assert publications.register_kind(KIND, "测试表格", audit_prefix="core_test.table").code == KIND
    with pytest.raises(ValueError, match="already registered differently"):
        publications.register_kind(KIND, "别的名字", audit_prefix="core_test.table")
    assert publications.kind_label(KIND) == "测试表格"
    assert publications.kind_label("unknown") == "unknown"
