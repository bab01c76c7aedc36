import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import Answer, EnforcementAction, Evaluation, FlagState
from zhengfeng.evaluation.queries import scores
from zhengfeng.evaluation.tests.conftest import NOW, PHONE, invite, process, reply
from zhengfeng.messaging.models import OutboxMessage
from zhengfeng.org import services as org_services

pytestmark = pytest.mark.django_db

SENT = NOW + dt.timedelta(minutes=30)
ACTIONS = "/api/v1/evaluation/actions"


def answered(unit, staff, text, n):
    phone = f"1390000{n:04d}"
    evaluation = invite(unit, staff, phone=phone)
    if text:
        reply(text, at=SENT + dt.timedelta(minutes=1), phone=phone)
    return evaluation


@pytest.fixture
def fixture(year, unit_a, unit_b, zhang, li, wang, admin_user):
    """By hand: 张三 3 answers (1, 2, 3) + 1 unanswered + 1 flagged 3; 李四 with 张三 on one action (1);
    王五 one answer 2 that is flagged and then cleared."""
    answered(unit_a, zhang, "1", 1)
    answered(unit_a, zhang, "2", 2)
    answered(unit_a, zhang, "3", 3)
    answered(unit_a, zhang, "", 4)
    flagged = answered(unit_a, zhang, "3", 5)
    answered(unit_a, [zhang, li], "1", 6)
    cleared = answered(unit_b, wang, "基本满意", 7)
    process(SENT + dt.timedelta(minutes=2))
    services.flag_evaluation(flagged, reason="对象手机号为本单位人员号码")
    services.flag_evaluation(cleared, reason="回复过快")
    services.review_flag(cleared, confirm=False, reason="核实为本人回复", by=admin_user)
    return year


def test_scores_per_staff_member_by_hand(fixture):
    rows = [row.as_api() for row in scores(2015, by="staff", everything=True)]

    assert rows == [
        {
            "unit_code": "441800-A",
            "staff_name": "张三",
            "invited": 6,
            "answered": 5,
            "satisfied": 2,
            "basic": 1,
            "unsatisfied": 1,
            "flagged": 1,
            "score": 65.0,
        },  # (100+100+60+0)/4
        {
            "unit_code": "441800-A",
            "staff_name": "李四",
            "invited": 1,
            "answered": 1,
            "satisfied": 1,
            "basic": 0,
            "unsatisfied": 0,
            "flagged": 0,
            "score": 100.0,
        },
        {
            "unit_code": "441800-B",
            "staff_name": "王五",
            "invited": 1,
            "answered": 1,
            "satisfied": 0,
            "basic": 1,
            "unsatisfied": 0,
            "flagged": 0,
            "score": 60.0,
        },
    ]


def test_scores_per_unit_and_rounding(fixture):
    services.update_year(fixture, points_basic="66.67")

    rows = [row.as_api() for row in scores(2015, by="unit", everything=True)]

    # Unit A counts each evaluation once: 1, 2, 3, 1 → (100 + 66.67 + 0 + 100) / 4 = 66.6675 → 66.67
    assert rows == [
        {
            "unit_code": "441800-A",
            "staff_name": None,
            "invited": 6,
            "answered": 5,
            "satisfied": 2,
            "basic": 1,
            "unsatisfied": 1,
            "flagged": 1,
            "score": 66.67,
        },
        {
            "unit_code": "441800-B",
            "staff_name": None,
            "invited": 1,
            "answered": 1,
            "satisfied": 0,
            "basic": 1,
            "unsatisfied": 0,
            "flagged": 0,
            "score": 66.67,
        },
    ]


def test_no_counted_answers_means_no_score(year, unit_a, zhang):
    invite(unit_a, zhang)

    assert [(r.staff_name, r.invited, r.score) for r in scores(2015, everything=True)] == [("张三", 1, None)]


def test_confirmed_flags_stay_out(fixture, admin_user):
    flagged = Evaluation.objects.get(flag_state=FlagState.PENDING)
    services.review_flag(flagged, confirm=True, reason="确认为刷票", by=admin_user)

    (row,) = [r for r in scores(2015, by="unit", everything=True) if r.unit_code == "441800-A"]

    assert (row.flagged, row.unsatisfied, row.score) == (1, 1, Decimal("65.00"))


# --- API -------------------------------------------------------------------------------------------


@pytest.fixture
def key():
    return org_services.create_api_key(name="执法系统", scopes=["evaluation"])[1]


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def post(api_client, body, key, **kwargs):
    data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    with time_machine.travel(NOW, tick=False):
        return api_client.post(
            ACTIONS, data=data, content_type="application/json", headers=bearer(key), **kwargs
        )


BODY = {
    "unit_code": "441800-A",
    "staff_name": "张三",
    "action_type": "执法检查",
    "acted_at": "2015-11-20T09:30:00+08:00",
    "subject_name": "某某餐饮店",
    "subject_phone": "+86 138-1234-5678",
}


def test_post_action_creates_it_and_the_invitation(api_client, year, zhang, key):
    response = post(api_client, BODY, key)

    assert response.status_code == 201
    action = EnforcementAction.objects.get()
    assert response.json() == {"id": action.pk, "status": "scheduled"}
    assert action.api_key is not None
    assert (action.source, action.subject_phone, action.api_key.name) == ("api", PHONE, "执法系统")
    assert list(action.staff.all()) == [zhang]
    assert OutboxMessage.objects.get().next_attempt_at == NOW + dt.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"staff_name": "张四"}, "市甲局没有名为“张四”的在岗执法监督人员"),
        ({"unit_code": "441800-X"}, "未知的单位编码：441800-X"),
        ({"subject_phone": "1381234"}, "执法对象的手机号码应为 11 位，当前为 7 位：1381234"),
        ({"acted_at": "20 Nov"}, "acted_at 不是有效的日期时间：20 Nov"),
        (
            {"acted_at": "0001-01-01T00:00:00+00:00"},
            "执法时间 0001-01-01 00:00:00 不在合理范围内（2000-01-01 至 2015-11-21 10:00）",
        ),
        (
            {"acted_at": "9999-12-31T23:59:59+00:00"},
            "执法时间 9999-12-31 23:59:59 不在合理范围内（2000-01-01 至 2015-11-21 10:00）",
        ),
        (
            {"action_type": "抽查"},
            "未知的执法类型“抽查”；可用：执法检查（inspection）、监督检查（supervision）、"
            "行政处罚（penalty）、行政强制（coercion）、许可核查（licensing）、其他执法监督（other）",
        ),
        ({"subject_name": ""}, "缺少字段：subject_name"),
        ({"subject_name": 5}, "字段应为字符串：subject_name"),
        ({"extra": "x"}, "未知字段：extra"),
    ],
)
def test_post_action_errors_are_400_and_save_nothing(api_client, year, zhang, key, changes, detail):
    response = post(api_client, {**BODY, **changes}, key)

    assert (response.status_code, response.json()) == (400, {"detail": detail})
    assert EnforcementAction.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_post_action_ambiguous_staff(api_client, year, unit_a, zhang, key):
    services.create_staff(unit=unit_a, name="张三", title="科员")

    response = post(api_client, BODY, key)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("市甲局有 2 名名为“张三”的在岗执法监督人员")


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", b"\xff\xfe"])
def test_post_action_malformed_json(api_client, year, zhang, key, body):
    response = post(api_client, body, key)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(("请求体不是有效的 JSON", "请求体应为 JSON 对象"))


def test_post_action_needs_a_key_with_the_scope(api_client, year, zhang, city_office):
    other = org_services.create_api_key(name="热线", scopes=["hotline"])[1]

    assert post(api_client, BODY, "zf_nope_nope").status_code == 401
    assert post(api_client, BODY, other).json() == {"detail": "接口密钥没有 evaluation 权限"}
    assert post(api_client, BODY, other).status_code == 403
    api_client.force_login(city_office)
    assert api_client.post(ACTIONS, data=BODY, content_type="application/json").status_code == 401


def test_get_scores_with_a_key_and_by_unit(api_client, fixture, key):
    response = api_client.get(
        "/api/v1/evaluation/scores", {"year": "2015", "by": "unit"}, headers=bearer(key)
    )

    assert response.status_code == 200
    assert [(row["unit_code"], row["staff_name"], row["score"]) for row in response.json()] == [
        ("441800-A", None, 65.0),
        ("441800-B", None, 60.0),
    ]


def test_get_scores_is_scoped_for_sessions(api_client, fixture, county_office, city_office, liaison_a):
    api_client.force_login(county_office)
    assert api_client.get("/api/v1/evaluation/scores", {"year": "2015"}).json() == []
    api_client.force_login(city_office)
    assert len(api_client.get("/api/v1/evaluation/scores", {"year": "2015"}).json()) == 3
    api_client.force_login(liaison_a)
    assert api_client.get("/api/v1/evaluation/scores", {"year": "2015"}).status_code == 403
    api_client.logout()
    assert api_client.get("/api/v1/evaluation/scores", {"year": "2015"}).status_code == 401


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"year": "abc"}, "参数 year 应为年份，例如 2015，而不是 'abc'"),
        ({}, "参数 year 应为年份，例如 2015，而不是 ''"),
        ({"year": "2016"}, "没有 2016 年的公述民评"),
        ({"year": "2015", "by": "person"}, "参数 by 只能是 staff 或 unit，而不是 'person'"),
    ],
)
def test_get_scores_bad_parameters(api_client, year, key, params, detail):
    response = api_client.get("/api/v1/evaluation/scores", params, headers=bearer(key))

    assert (response.status_code, response.json()) == (400, {"detail": detail})


def test_public_staff_list_shows_only_disclosed_staff(api_client, year, unit_a, zhang, li):
    response = api_client.get("/api/v1/evaluation/staff", {"unit_code": "441800-A"})

    assert response.status_code == 200
    assert response.json() == [{"name": "张三", "position": "执法大队队长", "unit_code": "441800-A"}]
    assert api_client.get("/api/v1/evaluation/staff", {"unit_code": "nope"}).json() == {
        "detail": "未知的单位编码：nope"
    }
    assert api_client.get("/api/v1/evaluation/staff").status_code == 400


def test_answer_choice_values_are_stable():
    assert Answer.values == ["satisfied", "basic", "unsatisfied"]


def test_flag_hooks_accumulate_reasons_and_review_once(year, unit_a, zhang, city_office):
    evaluation = invite(unit_a, zhang)

    assert services.flag_evaluation(evaluation, reason="回复过快") is True
    assert services.flag_evaluation(evaluation, reason="回复过快") is False
    assert services.flag_evaluation(evaluation, reason="对象号码为本单位人员") is True
    assert evaluation.flag_reason == "回复过快；对象号码为本单位人员"

    services.review_flag(evaluation, confirm=False, reason="已核实", by=city_office)
    assert (evaluation.flag_state, evaluation.reviewed_by) == (FlagState.CLEARED, city_office)
    assert services.flag_evaluation(evaluation, reason="新规则") is False
    with pytest.raises(ValidationError) as error:
        services.review_flag(evaluation, confirm=True, reason="再议", by=city_office)
    assert error.value.messages == [f"评议 #{evaluation.pk} 不在待复核状态（已排除）"]


@pytest.mark.parametrize("year", ["99999999999999999999", "²⁰¹⁵", "20150"])
def test_scores_year_beyond_four_ascii_digits_is_a_400(api_client, key, year):
    # A 20-digit year overflowed the database's integer and "²" passed str.isdigit(): both were a 500.
    response = api_client.get(f"/api/v1/evaluation/scores?year={year}", headers=bearer(key))
    assert response.status_code == 400
    assert response.json() == {"detail": f"参数 year 应为年份，例如 2015，而不是 {year!r}"}
