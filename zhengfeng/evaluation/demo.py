"""Demo 公述民评: the 2015 year of 清远市 with its ten key units, their disclosed staff, and enforcement
actions of November 2015 whose invitations were answered, so that scores show.

Idempotent: the year is looked up by (division, year), staff by (unit, name), actions by their
external id (`DEMO-2015-nnn`) and replies by the gateway id, so a second run creates nothing. Every
name and phone number here is made up (phones `1390263nnnn`, never real).
"""

from __future__ import annotations

import datetime as dt
from io import TextIOBase
from typing import Any

from django.db import transaction
from django.utils import timezone

from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import (
    ActionSource,
    ActionType,
    DisclosedStaff,
    EnforcementAction,
    EvaluationYear,
)
from zhengfeng.messaging import services as messaging
from zhengfeng.messaging.models import OutboxMessage, OutboxStatus
from zhengfeng.org.models import Division, Person, Unit

CITY = "441800"
KEY_UNITS = ("SFJ", "NYJ", "WGXJ", "WSJSJ", "LYJ", "AJJ", "SYJ", "GLJ", "ZJJ", "GSJ")

# unit suffix → [(name, title, department, duties, disclosed)]
STAFF = {
    "SFJ": [
        ("黄小芳", "科员", "法律援助科", "法律援助案件受理、审查和指派", True),
        ("张伟明", "科长", "律师工作科", "律师执业活动监督检查", True),
        ("刘志坚", "副科长", "基层工作科", "人民调解工作指导", False),
    ],
    "NYJ": [
        ("陈国栋", "大队长", "农业综合执法大队", "农药、种子、化肥市场执法检查", True),
        ("林秀英", "科员", "农业综合执法大队", "农产品质量安全监督抽查", True),
    ],
    "WGXJ": [
        ("何家豪", "科长", "文化市场管理科", "娱乐场所、网吧经营活动监督检查", True),
        ("罗美玲", "科员", "文化市场综合执法支队", "出版物市场执法检查", True),
    ],
    "WSJSJ": [
        ("郭晓东", "监督员", "卫生监督所", "公共场所卫生监督检查", True),
        ("谢丽娟", "科长", "医政科", "医疗机构执业行为监督", True),
    ],
    "LYJ": [
        ("邓振宇", "科长", "森林公安局", "林政案件查处", True),
        ("冯桂芳", "科员", "林政资源管理科", "林木采伐许可现场核查", True),
    ],
    "AJJ": [
        ("曾建华", "科长", "监督管理一科", "工矿商贸企业安全生产执法检查", True),
        ("彭海燕", "科员", "执法监察支队", "危险化学品经营单位监督检查", True),
    ],
    "SYJ": [
        ("蔡志明", "科长", "餐饮服务监管科", "餐饮服务食品安全监督检查", True),
        ("许晓静", "科员", "药品流通监管科", "药品零售企业监督检查", True),
    ],
    "GLJ": [
        ("韩国强", "站长", "路政管理支队", "公路路政巡查和超限运输治理", True),
        ("唐丽萍", "科员", "养护管理科", "公路施工作业监督检查", True),
    ],
    "ZJJ": [
        ("梁文斌", "科长", "特种设备安全监察科", "电梯、锅炉等特种设备监督检查", True),
        ("宋雅琴", "科员", "稽查支队", "产品质量监督抽查", True),
    ],
    "GSJ": [
        ("董志华", "科长", "市场规范管理科", "市场主体经营行为监督检查", True),
        ("袁慧敏", "科员", "消费者权益保护科", "消费投诉现场核查", True),
    ],
}

SUBJECTS = (
    "清城区某某餐饮店",
    "清新区某某药店",
    "某某建材有限公司",
    "某某农资经营部",
    "某某网吧",
    "某某诊所",
)
# Replies cycle through these: mostly 满意, some 基本满意, a few 不满意, some never answered.
# (No unrecognised reply: its re-ask would be a real SMS to a made-up number today.)
REPLIES = ("1", "满意", "2", "1", "非常满意！", "基本满意吧", "3", "1。谢谢", None, "１")
ACTIONS_PER_UNIT = 4


def _say(stdout: TextIOBase | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _phone(number: int) -> str:
    return f"1390263{number:04d}"


def load_demo(*, stdout: TextIOBase | None = None) -> dict[str, Any]:
    """Create the demo 2015 year, staff, actions and replies where missing. Returns {"created": {...}}."""
    created = {"years": 0, "staff": 0, "actions": 0, "replies": 0}
    city = Division.objects.filter(code=CITY).first()
    units = Unit.objects.select_related("division").in_bulk(
        [f"{CITY}-{s}" for s in KEY_UNITS], field_name="code"
    )
    if city is None or len(units) != len(KEY_UNITS):
        _say(stdout, "公述民评：缺少演示组织机构（先载入 org 演示数据），跳过")
        return {"created": created}
    key_units = [units[f"{CITY}-{s}"] for s in KEY_UNITS]

    year = EvaluationYear.objects.filter(division=city, year=2015).first()
    if year is None:
        year = services.create_year(
            division=city, year=2015, title="2015年清远市“公述民评”", key_units=key_units
        )
        created["years"] += 1

    people = {p.name: p for p in Person.objects.filter(external_id__startswith="DEMO-")}
    staff: dict[str, list[DisclosedStaff]] = {}
    for suffix, rows in STAFF.items():
        unit = units[f"{CITY}-{suffix}"]
        have = {m.name: m for m in DisclosedStaff.objects.filter(unit=unit)}
        for order, (name, title, department, duties, disclosed) in enumerate(rows):
            if name not in have:
                have[name] = services.create_staff(
                    unit=unit,
                    name=name,
                    title=title,
                    department=department,
                    duties=duties,
                    person=people.get(name),
                    is_disclosed=disclosed,
                    sort_order=order,
                )
                created["staff"] += 1
        staff[suffix] = [have[row[0]] for row in rows]

    done = set(
        EnforcementAction.objects.filter(
            source=ActionSource.IMPORT, external_id__startswith="DEMO-2015-"
        ).values_list("external_id", flat=True)
    )
    kinds = list(ActionType)[:4]
    sequence = 0
    for unit_index, suffix in enumerate(KEY_UNITS):
        unit = units[f"{CITY}-{suffix}"]
        for n in range(ACTIONS_PER_UNIT):
            sequence += 1
            external_id = f"DEMO-2015-{sequence:03d}"
            if external_id in done:
                continue
            acted_at = dt.datetime(
                2015, 11, 2 + n * 5, 9 + unit_index % 6, 30, tzinfo=timezone.get_default_timezone()
            )
            members = staff[suffix]
            checked = services.check_action(
                unit=unit,
                staff=[members[n % len(members)]],
                action_type=kinds[(unit_index + n) % len(kinds)],
                acted_at=acted_at,
                subject_name=SUBJECTS[sequence % len(SUBJECTS)],
                subject_phone=_phone(sequence),
                external_id=external_id,
            )
            with transaction.atomic():
                action = services.write_checked_action(checked, source=ActionSource.IMPORT)
                # Demo history: these invitations went out in November 2015, half an hour after the
                # visit. The worker cannot send in the past, so the demo records them as sent then
                # (and no SMS reaches the made-up numbers today).
                OutboxMessage.objects.filter(
                    pk=action.evaluation.message_id, status=OutboxStatus.PENDING
                ).update(status=OutboxStatus.SENT, sent_at=acted_at + dt.timedelta(minutes=30), attempts=1)
            created["actions"] += 1
            text = REPLIES[sequence % len(REPLIES)]
            if text is not None:
                _, new = messaging.receive_inbound_sms(
                    provider_id=f"demo-eval-{sequence:03d}",
                    phone=_phone(sequence),
                    to_number="106900001234",
                    text=text,
                    received_at=acted_at + dt.timedelta(minutes=30 + 7 + sequence % 50),
                )
                created["replies"] += int(new)
    services.process_replies()
    _say(
        stdout,
        "公述民评：新建年度 {years}、执法监督人员 {staff}、执法记录 {actions}、回复短信 {replies}".format(
            **created
        ),
    )
    return {"created": created}
