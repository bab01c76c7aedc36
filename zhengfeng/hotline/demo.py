"""Demo hotline data: the taxonomy, dispatch rules for the demo units and a few hundred work orders
spread over the last three months in every state, all created through the services (`at=` travels
in time) with a fixed random seed.

Real messages (2020 TipDM Cup, problem C) are read from the shared data folder next to the
repository when it is there, at demo time only; they are never copied into the repository.
Without it a dozen built-in categories and generated texts are used.

Idempotent: orders carry the external ids DEMO-0001 …; an order that exists is skipped, and
categories, rules and the demo unit staff are looked up before being created.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from zhengfeng.alerts.models import AlertLevel
from zhengfeng.alerts.services import sweep as sweep_alerts
from zhengfeng.hotline import services
from zhengfeng.hotline.category_import import import_categories, read_category_csv
from zhengfeng.hotline.models import Category, DispatchRule, Status, WorkOrder
from zhengfeng.org import services as org_services
from zhengfeng.org.models import Division, Role, Unit, User

SEED = 20261127
ORDER_COUNT = 300
DAYS_BACK = 90
DATA_DIR = Path(settings.BASE_DIR).parent / "shared" / "data" / "tipdm2020c"

BUILTIN_CATEGORIES = [
    ("城乡建设", "市政设施", "路灯故障"),
    ("城乡建设", "市政设施", "道路破损"),
    ("城乡建设", "物业管理", "物业收费"),
    ("环境保护", "噪声污染", "施工噪声"),
    ("环境保护", "大气污染", "露天焚烧"),
    ("交通运输", "公共交通", "公交线路"),
    ("教育文体", "教育", "入学招生"),
    ("劳动和社会保障", "劳动关系", "拖欠工资"),
    ("卫生计生", "医疗服务", "服务态度"),
    ("商贸旅游", "市场监管", "食品安全"),
    ("农村农业", "农村建设", "村道硬化"),
    ("政法", "治安管理", "治安隐患"),
]
# Level-1 category → the city unit that handles it (派单目录 of the demo).
CITY_RULES = {
    "城乡建设": "FGJ",
    "农村农业": "NYJ",
    "政法": "SFJ",
    "教育文体": "WGXJ",
    "劳动和社会保障": "CZJ",
    "民政": "ZFBGS",
    "党务政务": "ZFBGS",
    "经济管理": "FGJ",
    "卫生计生": "WSJSJ",
    "商贸旅游": "GSJ",
    "环境保护": "LYJ",
    "交通运输": "GLJ",
    "纪检监察": "ZFBGS",
    "国土资源": "LYJ",
    "科技与信息产业": "ZJJ",
}
# In the counties the government office takes 城乡建设 and 农村农业 (属地管理).
COUNTY_RULES = ("城乡建设", "农村农业")
CO_UNIT = "AJJ"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
]
PLACES = ["凤城街道", "东城街道", "洲心街道", "横荷街道", "源潭镇", "龙塘镇", "石角镇", "飞来峡镇"]
GENERATED = [
    ("{p}路灯不亮", "{p}主干道路灯连续多晚不亮，夜间行人出行不便，存在安全隐患，请尽快维修。"),
    ("{p}小区物业乱收费", "{p}某小区物业未经业主同意上调停车费，请有关部门核查。"),
    ("{p}工地夜间施工噪音扰民", "{p}工地晚上十点后仍在施工，噪音很大，影响居民休息。"),
    ("咨询{p}小学入学条件", "孩子明年上小学，想了解{p}公办小学的入学条件和所需材料。"),
    ("{p}餐馆卫生状况差", "{p}一家餐馆后厨卫生条件差，怀疑存在食品安全问题。"),
    ("{p}村道路面破损严重", "{p}村道多处坑洼，雨天积水，车辆难以通行。"),
    ("{p}公交班次太少", "{p}到市区的公交班次太少，上下班高峰等车时间过长。"),
    ("建议在{p}增设公共自行车点", "{p}居民较多，建议增设公共自行车租赁点，方便市民出行。"),
    ("反映{p}办事窗口工作人员态度差", "在{p}便民服务中心办理业务时，窗口工作人员态度冷漠、推诿。"),
    ("{p}露天焚烧垃圾", "{p}附近经常有人露天焚烧垃圾，烟雾很大。"),
    ("{p}企业拖欠农民工工资", "{p}一建筑企业拖欠二十多名工人三个月工资，请求帮助追讨。"),
    ("表扬{p}派出所民警", "{p}派出所民警热心帮助寻回走失老人，特此表扬。"),
]
REPLIES = [
    "经核查，您反映的问题属实，我单位已安排人员处理完毕，感谢您的监督。",
    "您好，您反映的问题已转相关科室现场核查，已责令整改，后续将加强巡查。",
    "经调查，相关情况已向您电话说明，如有疑问请致电我单位咨询。",
]
TYPES = [("complaint", 30), ("help", 25), ("inquiry", 15), ("suggestion", 12), ("report", 12), ("praise", 6)]
CHANNELS = [
    ("phone", 45),
    ("web", 15),
    ("wechat", 8),
    ("mailbox", 6),
    ("letter", 4),
    ("visit", 4),
    ("weibo", 3),
    ("radio", 5),
    ("monitor", 5),
    ("enterprise", 5),
]


def _say(stdout: Any, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _messages() -> list[tuple[str, str, str]]:
    """(title, content, reply) from the shared data set when present; [] otherwise."""
    found: list[tuple[str, str, str]] = []
    for name, reply_column in (("messages_with_replies.csv", "答复意见"), ("messages_with_votes.csv", None)):
        path = DATA_DIR / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                title = (row.get("留言主题") or "").strip()[:200]
                content = (row.get("留言详情") or "").strip()[:4000]
                if title and content:
                    found.append(
                        (title, content, (row.get(reply_column) or "").strip()[:4000] if reply_column else "")
                    )
    return found


def _load_categories(stdout: Any) -> None:
    source = DATA_DIR / "categories.csv"
    if source.exists():
        result = import_categories(read_category_csv(source), source="tipdm2020c/categories.csv")
    else:
        result = import_categories(BUILTIN_CATEGORIES, source="demo")
    _say(stdout, f"热线分类：新建 {result.created} 个")


def _staff(unit: Unit) -> dict[str, User]:
    """A liaison, handler and head for a demo unit (existing users of that role first; no login)."""
    staff: dict[str, User] = {}
    for role in (Role.LIAISON, Role.HANDLER, Role.HEAD):
        user = User.objects.filter(unit=unit, role=role, is_active=True).order_by("id").first()
        if user is None:
            user = org_services.create_user(
                username=f"hl-{unit.code.lower()}-{role}",
                role=role,
                unit=unit,
                display_name=f"{unit.short_name or unit.name}{Role(role).label}",
            )
        staff[role] = user
    return staff


def _load_rules() -> list[Unit]:
    units = []
    for category in Category.objects.filter(level=1):
        suffix = CITY_RULES.get(category.name, "ZFBGS")
        unit = Unit.objects.filter(code=f"441800-{suffix}").first()
        if unit is None:
            continue
        rule, _ = DispatchRule.objects.get_or_create(category=category, division=None, unit=unit)
        if category.name == "城乡建设":
            co = Unit.objects.filter(code=f"441800-{CO_UNIT}").first()
            if co is not None:
                rule.co_units.add(co)
        units.append(unit)
        if category.name in COUNTY_RULES:
            for division in Division.objects.filter(parent_id="441800"):
                county_unit = Unit.objects.filter(code=f"{division.code}-ZFBGS").first()
                if county_unit is not None:
                    DispatchRule.objects.get_or_create(category=category, division=division, unit=county_unit)
                    units.append(county_unit)
    return units


class _StopStoryError(Exception):
    """The next step would happen after now: the order stays in its current state."""


def _working_time(rng: random.Random, day: dt.date) -> dt.datetime:
    hour = rng.choice([8, 9, 9, 10, 10, 11, 14, 15, 15, 16, 16, 17, 19, 21])
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, rng.randrange(60))))


def load_demo(*, stdout: Any = None, count: int = ORDER_COUNT) -> dict[str, Any]:
    operator = User.objects.filter(username="operator", role=Role.OPERATOR).first()
    if operator is None or not Division.objects.filter(code="441800").exists():
        _say(stdout, "热线演示数据：缺少演示组织（org.demo），跳过")
        return {}
    _load_categories(stdout)
    units = _load_rules()
    staff = {unit.pk: _staff(unit) for unit in units}
    leaves = list(Category.objects.filter(level=3).select_related("parent__parent")) or list(
        Category.objects.filter(level=2)
    )
    divisions = list(Division.objects.filter(parent_id="441800").order_by("code"))
    messages = _messages()
    rng = random.Random(SEED)  # noqa: S311 (reproducible demo data, not security)
    now = timezone.now()
    start = timezone.localdate(now) - dt.timedelta(days=DAYS_BACK)
    existing = set(
        WorkOrder.objects.filter(external_id__startswith="DEMO-").values_list("external_id", flat=True)
    )
    created = 0
    recent: list[WorkOrder] = []
    for number in range(1, count + 1):
        # Every random draw happens for every order, so skipped orders do not shift the others.
        order_rng = random.Random(rng.random())  # noqa: S311 (reproducible demo data)
        external_id = f"DEMO-{number:04d}"
        day = start + dt.timedelta(days=int(DAYS_BACK * (number - 1) / max(count, 1)))
        at = _working_time(order_rng, day)
        if external_id in existing or at > now:
            continue
        _make_order(order_rng, number, at, now, operator, staff, leaves, divisions, messages, recent)
        created += 1
    # What the worker's alerts sweep would do within minutes, done now so the demo opens with its 催办
    # and deductions in place (no other loader runs it). It covers every running clock, ledger ones too.
    issued = sweep_alerts(now)
    ladder = "，".join(f"{AlertLevel(level).label} {count} 条" for level, count in issued.items())
    _say(stdout, f"热线工单：新建 {created} 件；预警扫描：{ladder}")
    return {"created": created}


def _make_order(
    rng: random.Random,
    number: int,
    at: dt.datetime,
    now: dt.datetime,
    operator: User,
    staff: dict[int, dict[str, User]],
    leaves: list[Category],
    divisions: list[Division],
    messages: list[tuple[str, str, str]],
    recent: list[WorkOrder],
) -> None:
    """One order's story, step by step; it stops where the next step would lie in the future."""
    request_type = _weighted(rng, TYPES)
    channel = _weighted(rng, CHANNELS)
    division = rng.choice(divisions) if divisions and rng.random() < 0.4 else None
    place = rng.choice(PLACES)
    if messages:
        title, content, reply_text = rng.choice(messages)
    else:
        title_t, content_t = rng.choice(GENERATED)
        title, content, reply_text = title_t.format(p=place), content_t.format(p=place), ""
    anonymous = rng.random() < 0.1
    intake = services.receive_work_order(
        by=operator,
        at=at,
        channel=channel,
        request_type=request_type,
        urgency="urgent" if rng.random() < 0.05 else "normal",
        is_complex=channel == "radio" and rng.random() < 0.3,
        concerns_conduct=rng.random() < 0.05,
        category=rng.choice(leaves) if leaves else None,
        title=title,
        content=content,
        division=division.code if division else "441800",
        address=f"{division.name if division else '清远市'}{place}",
        requester_name="" if anonymous else rng.choice(SURNAMES) + rng.choice(GIVEN),
        requester_phone=f"139{rng.randrange(10**8):08d}",
        is_anonymous=anonymous,
        is_confidential=rng.random() < 0.05,
        allow_unit_contact=rng.random() < 0.5,
        external_id=f"DEMO-{number:04d}",
    )
    order = intake.order
    clock = [at]

    def step(hours: float) -> dt.datetime:
        clock[0] = clock[0] + dt.timedelta(hours=hours)
        if clock[0] > now:
            raise _StopStoryError
        return clock[0]

    def act(action: str, by: User, hours: float, **data: Any) -> None:
        services.transition(order, action, by=by, at=step(hours), **data)

    try:
        if request_type == "inquiry" and rng.random() < 0.5:
            act("answer", operator, 0.2, text=reply_text or "已根据政策规定当场解答。")
            return
        roll = rng.random()
        if roll < 0.02:
            act("void", operator, 0.5, reason="无效来电（骚扰电话）")
            return
        if roll < 0.05 and recent:
            act("merge", operator, 0.5, into=rng.choice(recent[-10:]))
            return
        if roll < 0.08:
            raise _StopStoryError  # left with the hotline, not yet dispatched
        act("dispatch", operator, rng.uniform(0.2, 3))
        recent.append(order)
        order.refresh_from_db()
        main = order.main_unit
        if main is None:  # never: a dispatch sets the main unit
            raise _StopStoryError
        people = staff.get(main.pk) or _staff(main)
        if rng.random() < 0.06:
            act(
                "request_return",
                people[Role.LIAISON],
                rng.uniform(1, 6),
                reason="该事项不属于本单位职责",
                evidence=ContentFile(b"demo", name="三定方案摘录.txt"),
            )
            if rng.random() < 0.2:
                raise _StopStoryError  # the hotline has not reviewed the return yet
            if rng.random() < 0.5:
                others = [u for u in staff if u != main.pk]
                new_unit = Unit.objects.get(pk=rng.choice(others))
                act("review_return", operator, rng.uniform(2, 20), decision="reassign", main_unit=new_unit)
                people = staff[new_unit.pk]
                act("sign", people[Role.LIAISON], rng.uniform(0.5, 8))
            else:
                act(
                    "review_return",
                    operator,
                    rng.uniform(2, 20),
                    decision="overrule",
                    note="经核对权责清单，属该单位职责",
                )
        else:
            if rng.random() < 0.04:
                raise _StopStoryError  # never signed: overdue sign-for
            act("sign", people[Role.LIAISON], rng.choice([1, 2, 4, 20, 30, 80]) * rng.uniform(0.5, 1))
        if rng.random() < 0.08:
            # Only a request the rules allow: before the deadline, and at most the original limit in total.
            signed = (
                order.assignments.filter(role="main", status="signed").select_related("reply_clock").first()
            )
            wait = rng.uniform(20, 60)
            due = signed.reply_clock.due_at if signed and signed.reply_clock else None
            if signed is not None and due is not None and clock[0] + dt.timedelta(hours=wait) < due:
                act(
                    "request_extension",
                    people[Role.HANDLER],
                    wait,
                    days=min(rng.choice([3, 5]), signed.reply_limit_days or 1),
                    reason="需多部门协调",
                )
                act("decide_extension", people[Role.HEAD], rng.uniform(1, 5), approve=True)
                act(
                    "decide_extension",
                    operator,
                    rng.uniform(1, 10),
                    approve=rng.random() < 0.8,
                    note="同意" if rng.random() < 0.8 else "理由不充分",
                )
        for _round in range(2):
            if rng.random() < 0.05:
                raise _StopStoryError  # still being handled (possibly overdue)
            act("note", people[Role.HANDLER], rng.uniform(2, 30), text="已联系诉求人并现场核查。")
            act(
                "draft_reply",
                people[Role.HANDLER],
                rng.choice([20, 48, 100, 200, 400]) * rng.uniform(0.3, 1),
                text=reply_text or rng.choice(REPLIES),
            )
            if rng.random() < 0.05:
                act(
                    "approve_reply",
                    people[Role.HEAD],
                    rng.uniform(1, 10),
                    approve=False,
                    note="答复依据不充分，请补充",
                )
                act("draft_reply", people[Role.HANDLER], rng.uniform(2, 20), text=rng.choice(REPLIES))
            act("approve_reply", people[Role.HEAD], rng.uniform(1, 20), approve=True)
            if rng.random() < 0.04:
                act("review_reply", operator, rng.uniform(2, 20), approve=False, note="答复未回应诉求要点")
                act("draft_reply", people[Role.HANDLER], rng.uniform(5, 40), text=rng.choice(REPLIES))
                act("approve_reply", people[Role.HEAD], rng.uniform(1, 10), approve=True)
            act("review_reply", operator, rng.uniform(1, 20), approve=True)
            order.refresh_from_db()
            if order.status != Status.AWAITING_CALLBACK:
                return
            satisfaction = _weighted(rng, [("satisfied", 70), ("basically", 18), ("dissatisfied", 12)])
            reopen = satisfaction == "dissatisfied" and _round == 0 and rng.random() < 0.5
            act(
                "callback",
                operator,
                rng.uniform(4, 48),
                satisfaction=satisfaction,
                resolved=satisfaction != "dissatisfied" or rng.random() < 0.3,
                false_completion=reopen and rng.random() < 0.3,
                reopen=reopen,
                note="" if not reopen else "诉求人表示问题仍未解决",
            )
            if not reopen:
                return
    except _StopStoryError:
        return
