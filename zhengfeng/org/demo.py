"""Demo organisation: 清远市 and its eight county-level divisions, their units, people and one login per role.

Idempotent: every record is looked up by its code (division code, unit code, 人员编号, username)
and created through the services only when missing; a second run keeps what is there and creates
nothing. Unit codes are `<division code>-<suffix>` (441800-JWJW, 441802-ZFB; docs/org.md).

The demo USCCs are generated, not real: characters 9–10 are "DM" (demo) followed by a sequence,
with a correct GB 32100 check character so that they pass validation.
"""

from __future__ import annotations

import base64
from typing import Any

from django_otp.oath import TOTP

from zhengfeng.org import services, twofactor
from zhengfeng.org.models import Division, DivisionLevel, Person, Position, Role, Unit, UnitKind, User
from zhengfeng.org.validators import uscc_check_character

# Demo only: every demo account has this password. Never use the demo data in production.
DEMO_PASSWORD = "zhengfeng-demo"  # noqa: S105 (published demo password)
# Demo only, published like the password: the TOTP secret of every demo account that needs two-factor
# (office, inspector, admin). Add it to an authenticator app, or run `zhengfeng demo --otp` for the code.
DEMO_TOTP_SECRET = "ZHENGFENGDEMOTOTPSECRETFORDEMO22"  # noqa: S105 (published demo secret)


def demo_totp_key_hex() -> str:
    return base64.b32decode(DEMO_TOTP_SECRET).hex()


def demo_totp_code() -> str:
    """The code an authenticator app shows now for DEMO_TOTP_SECRET (30-second steps, 6 digits)."""
    totp = TOTP(base64.b32decode(DEMO_TOTP_SECRET), step=30, digits=6)
    return f"{totp.token():06d}"


PROVINCE = ("440000", "广东省")
CITY = ("441800", "清远市")
# (code, full name, short name)
COUNTIES = [
    ("441802", "清城区", "清城"),
    ("441803", "清新区", "清新"),
    ("441821", "佛冈县", "佛冈"),
    ("441823", "阳山县", "阳山"),
    ("441825", "连山壮族瑶族自治县", "连山"),
    ("441826", "连南瑶族自治县", "连南"),
    ("441881", "英德市", "英德"),
    ("441882", "连州市", "连州"),
]

# (suffix, name, short name, kind, parent suffix)
CITY_UNITS = [
    ("JWJW", "市纪委监委", "纪委监委", UnitKind.DISCIPLINE, None),
    ("ZFB", "市正风办", "正风办", UnitKind.CAMPAIGN_OFFICE, "JWJW"),
    ("SWBGS", "市委办公室", "市委办", UnitKind.PARTY, None),
    ("ZFBGS", "市政府办公室", "市府办", UnitKind.GOVERNMENT, None),
    ("ZZB", "市委组织部", "组织部", UnitKind.PARTY, None),
    ("XCB", "市委宣传部", "宣传部", UnitKind.PARTY, None),
    ("ZSJGGW", "市直属机关工委", "直属机关工委", UnitKind.PARTY, None),
    ("CZJ", "市财政局", "财政局", UnitKind.GOVERNMENT, None),
    ("SJJ", "市审计局", "审计局", UnitKind.GOVERNMENT, None),
    ("FGJ", "市发展改革局", "发展改革局", UnitKind.GOVERNMENT, None),
    ("BB", "市编办", "编办", UnitKind.PARTY, None),
    ("FZJ", "市法制局", "法制局", UnitKind.GOVERNMENT, None),
    ("XZFWZX", "市行政服务中心", "行政服务中心", UnitKind.SERVICE_CENTER, None),
    ("GBDST", "市广播电视台", "广播电视台", UnitKind.MEDIA, None),
    # The ten key evaluated units (重点评议单位) of the plan.
    ("SFJ", "市司法局", "司法局", UnitKind.GOVERNMENT, None),
    ("NYJ", "市农业局", "农业局", UnitKind.GOVERNMENT, None),
    ("WGXJ", "市文化广电新闻出版局", "文广新局", UnitKind.GOVERNMENT, None),
    ("WSJSJ", "市卫生计生局", "卫生计生局", UnitKind.GOVERNMENT, None),
    ("LYJ", "市林业局", "林业局", UnitKind.GOVERNMENT, None),
    ("AJJ", "市安全监管局", "安监局", UnitKind.GOVERNMENT, None),
    ("SYJ", "市食品药品监管局", "食药监局", UnitKind.GOVERNMENT, None),
    ("GLJ", "市公路局", "公路局", UnitKind.INSTITUTION, None),
    ("ZJJ", "市质监局", "质监局", UnitKind.GOVERNMENT, None),
    ("GSJ", "市工商局", "工商局", UnitKind.GOVERNMENT, None),
]
KEY_EVALUATED_SUFFIXES = ("SFJ", "NYJ", "WGXJ", "WSJSJ", "LYJ", "AJJ", "SYJ", "GLJ", "ZJJ", "GSJ")

# (suffix, name pattern, short name pattern, kind, parent suffix); {d} = county name, {s} = its short name.
COUNTY_UNITS = [
    ("JWJW", "{d}纪委监委", "{s}纪委监委", UnitKind.DISCIPLINE, None),
    ("ZFB", "{d}正风办", "{s}正风办", UnitKind.CAMPAIGN_OFFICE, "JWJW"),
    ("DWB", "{d}委办公室", "{s}党委办", UnitKind.PARTY, None),
    ("ZFBGS", "{d}政府办公室", "{s}政府办", UnitKind.GOVERNMENT, None),
    ("XZFWZX", "{d}行政服务中心", "{s}行政服务中心", UnitKind.SERVICE_CENTER, None),
    ("CZJ", "{d}财政局", "{s}财政局", UnitKind.GOVERNMENT, None),
    ("ZZB", "{d}委组织部", "{s}组织部", UnitKind.PARTY, None),
    ("XCB", "{d}委宣传部", "{s}宣传部", UnitKind.PARTY, None),
    ("ZSJGGW", "{d}直属机关工委", "{s}直属机关工委", UnitKind.PARTY, None),
    ("SJJ", "{d}审计局", "{s}审计局", UnitKind.GOVERNMENT, None),
    ("FGJ", "{d}发展改革局", "{s}发展改革局", UnitKind.GOVERNMENT, None),
]

# (人员编号, name, phone, unit code, title, department, is leader)
PEOPLE = [
    ("DEMO-0001", "陈建国", "13902630001", "441800-SFJ", "局长", "", True),
    ("DEMO-0002", "李晓明", "13902630002", "441800-SFJ", "联络员", "办公室", False),
    ("DEMO-0003", "黄小芳", "13902630003", "441800-SFJ", "科员", "法律援助科", False),
    ("DEMO-0004", "周志强", "13902630004", "441800-JWJW", "效能监督员", "党风政风监督室", False),
    ("DEMO-0005", "吴文静", "13902630005", "441800-ZFB", "主任", "", True),
    ("DEMO-0006", "郑海涛", "13902630006", "441800-JWJW", "干部", "第一纪检监察室", False),
    ("DEMO-0007", "梁丽华", "13902630007", "441800-XZFWZX", "坐席员", "12345 热线", False),
    ("DEMO-0008", "冯振华", "13902630008", "441802-ZFB", "副主任", "", True),
]

# (login key, username, role, unit code, 人员编号, display name, staff, superuser)
USERS = [
    ("admin", "admin", Role.ADMIN, None, None, "系统管理员", True, True),
    ("office", "office", Role.OFFICE, "441800-ZFB", "DEMO-0005", "吴文静（市正风办）", False, False),
    (
        "inspector",
        "inspector",
        Role.INSPECTOR,
        "441800-JWJW",
        "DEMO-0006",
        "郑海涛（市纪委监委）",
        False,
        False,
    ),
    (
        "operator",
        "operator",
        Role.OPERATOR,
        "441800-XZFWZX",
        "DEMO-0007",
        "梁丽华（12345 热线）",
        False,
        False,
    ),
    ("liaison", "liaison", Role.LIAISON, "441800-SFJ", "DEMO-0002", "李晓明（市司法局联络员）", False, False),
    ("handler", "handler", Role.HANDLER, "441800-SFJ", "DEMO-0003", "黄小芳（市司法局）", False, False),
    ("head", "head", Role.HEAD, "441800-SFJ", "DEMO-0001", "陈建国（市司法局局长）", False, False),
    ("monitor", "monitor", Role.MONITOR, "441800-JWJW", "DEMO-0004", "周志强（效能监督员）", False, False),
    (
        "county_office",
        "qingcheng_office",
        Role.OFFICE,
        "441802-ZFB",
        "DEMO-0008",
        "冯振华（清城区正风办）",
        False,
        False,
    ),
]


def demo_uscc(sequence: int, division_code: str) -> str:
    """A made-up but valid USCC: 11 (机关) + division + "DM" + 7-digit sequence + check character."""
    first17 = f"11{division_code}DM{sequence:07d}"
    return first17 + uscc_check_character(first17)


def unit_specs() -> list[dict[str, Any]]:
    """Every demo unit as keyword arguments for `create_unit` (parent given as a code)."""
    specs: list[dict[str, Any]] = []
    for suffix, name, short_name, kind, parent in CITY_UNITS:
        specs.append(
            {
                "code": f"{CITY[0]}-{suffix}",
                "name": name,
                "short_name": short_name,
                "kind": kind,
                "division": CITY[0],
                "parent": f"{CITY[0]}-{parent}" if parent else None,
            }
        )
    for county_code, county_name, county_short in COUNTIES:
        for suffix, name, short_name, kind, parent in COUNTY_UNITS:
            specs.append(
                {
                    "code": f"{county_code}-{suffix}",
                    "name": name.format(d=county_name, s=county_short),
                    "short_name": short_name.format(d=county_name, s=county_short),
                    "kind": kind,
                    "division": county_code,
                    "parent": f"{county_code}-{parent}" if parent else None,
                }
            )
    for sequence, spec in enumerate(specs, 1):
        spec["uscc"] = demo_uscc(sequence, spec["division"])
    return specs


def _say(stdout: Any, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def load_demo(*, stdout: Any = None) -> dict[str, Any]:
    """Create the demo organisation where missing.

    Returns {"logins": {role key: username}, "created": {kind: number created in this run}}; the
    `zhengfeng demo` command prints the logins. Side effects: the services' audit rows.
    """
    created = {"divisions": 0, "units": 0, "people": 0, "positions": 0, "users": 0}

    divisions = Division.objects.in_bulk([PROVINCE[0], CITY[0], *(code for code, _n, _s in COUNTIES)])
    province = divisions.get(PROVINCE[0])
    if province is None:
        province = services.create_division(code=PROVINCE[0], name=PROVINCE[1], level=DivisionLevel.PROVINCE)
        created["divisions"] += 1
    city = divisions.get(CITY[0])
    if city is None:
        city = services.create_division(code=CITY[0], name=CITY[1], level=DivisionLevel.CITY, parent=province)
        created["divisions"] += 1
    divisions[CITY[0]] = city
    for code, name, _short in COUNTIES:
        if code not in divisions:
            divisions[code] = services.create_division(
                code=code, name=name, level=DivisionLevel.COUNTY, parent=city
            )
            created["divisions"] += 1

    specs = unit_specs()
    units = Unit.objects.in_bulk([spec["code"] for spec in specs], field_name="code")
    for spec in specs:  # parents come before their children in the list
        if spec["code"] in units:
            continue
        arguments = dict(spec)
        arguments["division"] = divisions[spec["division"]]
        arguments["parent"] = units[spec["parent"]] if spec["parent"] else None
        units[spec["code"]] = services.create_unit(**arguments)
        created["units"] += 1

    people = Person.objects.in_bulk([row[0] for row in PEOPLE], field_name="external_id")
    for external_id, name, phone, unit_code, title, department, is_leader in PEOPLE:
        person = people.get(external_id)
        if person is None:
            person = people[external_id] = services.create_person(
                name=name, external_id=external_id, phone=phone
            )
            created["people"] += 1
        unit = units[unit_code]
        if not Position.objects.filter(person=person, unit=unit, title=title, ended_on__isnull=True).exists():
            services.assign_position(
                person, unit=unit, title=title, department=department, is_leader=is_leader
            )
            created["positions"] += 1

    logins: dict[str, str] = {}
    existing = set(
        User.objects.filter(username__in=[row[1] for row in USERS]).values_list("username", flat=True)
    )
    for key, username, role, user_unit, person_id, display_name, is_staff, is_superuser in USERS:
        logins[key] = username
        if username in existing:
            continue
        services.create_user(
            username=username,
            role=role,
            unit=units[user_unit] if user_unit else None,
            person=people[person_id] if person_id else None,
            password=DEMO_PASSWORD,
            display_name=display_name,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        created["users"] += 1
    for user in User.objects.filter(username__in=list(logins.values())).order_by("username"):
        if twofactor.is_required(user) and not twofactor.is_enrolled(user):
            twofactor.install_device(user, key_hex=demo_totp_key_hex())

    _say(
        stdout,
        "组织机构：新建区划 {divisions}、单位 {units}、人员 {people}、职务 {positions}、账号 {users}".format(
            **created
        ),
    )
    return {"logins": logins, "created": created}
