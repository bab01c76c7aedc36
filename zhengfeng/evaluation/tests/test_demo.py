import pytest

from zhengfeng.evaluation import demo
from zhengfeng.evaluation.models import DisclosedStaff, EnforcementAction, Evaluation, EvaluationYear
from zhengfeng.evaluation.queries import scores
from zhengfeng.org import demo as org_demo

pytestmark = pytest.mark.django_db


def test_demo_is_complete_and_idempotent():
    org_demo.load_demo()

    first = demo.load_demo()
    second = demo.load_demo()

    assert first["created"] == {"years": 1, "staff": 21, "actions": 40, "replies": 36}
    assert second["created"] == {"years": 0, "staff": 0, "actions": 0, "replies": 0}
    year = EvaluationYear.objects.get()
    assert sorted(u.code.split("-")[1] for u in year.key_units.all()) == sorted(demo.KEY_UNITS)
    for unit in year.key_units.all():
        assert DisclosedStaff.objects.filter(unit=unit, is_disclosed=True).count() >= 2
    assert EnforcementAction.objects.count() == 40
    assert Evaluation.objects.exclude(answer="").count() == 36
    rows = scores(2015, by="unit", everything=True)
    assert len(rows) == 10
    assert all(row.score is not None for row in rows)
    assert sum(row.answered for row in rows) == 36
