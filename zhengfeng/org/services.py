"""Writes for the organisation: divisions, units, people and positions, users and API keys.

Every function here is atomic and writes one audit row per change, in the same transaction. The
`clean_*` helpers validate a single value without writing; the importer uses them to check a whole
file before anything is saved, so a line is refused for the same reason a form would refuse it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengfeng.core import audit
from zhengfeng.core.crypto import blind_index
from zhengfeng.org.models import (
    ApiKey,
    Division,
    DivisionLevel,
    Person,
    Position,
    Role,
    Unit,
    UnitKind,
    User,
)
from zhengfeng.org.validators import normalise_mobile, normalise_uscc, validate_division_code, validate_uscc

KNOWN_API_SCOPES = frozenset(
    {"org", "open311", "hotline", "evaluation", "approvals", "funds", "trading", "sms"}
)

# Codes travel in URLs, file names and spreadsheets: ASCII letters, digits and - _ . only.
_CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._\-]*$")

# Division level from the number of significant digits in the code (GB/T 2260).
_LEVEL_BY_LENGTH = {6: None, 9: DivisionLevel.TOWN, 12: DivisionLevel.VILLAGE}


class _Unset:
    """Marks "leave this field as it is" where None is a meaningful new value (no parent, no USCC)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# --- Validation of single values (no writes) ---------------------------------------------------


def _required(value: Any, label: str, max_length: int) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError(f"{label}不能为空")
    if len(text) > max_length:
        raise ValidationError(f"{label}最多 {max_length} 个字符，当前 {len(text)} 个：{text}")
    return text


def _optional(value: Any, label: str, max_length: int) -> str:
    text = str(value or "").strip()
    if len(text) > max_length:
        raise ValidationError(f"{label}最多 {max_length} 个字符，当前 {len(text)} 个：{text}")
    return text


def clean_code(value: Any, label: str = "单位编码", max_length: int = 40) -> str:
    code = _required(value, label, max_length)
    if not _CODE_RE.match(code):
        raise ValidationError(f"{label}只能由字母、数字和 - _ . 组成：{code}")
    return code


def clean_unit_name(value: Any) -> str:
    return _required(value, "单位名称", 100)


def clean_short_name(value: Any) -> str:
    return _optional(value, "简称", 40)


def clean_kind(value: Any) -> str:
    """Accept the code (`government`) or the label (`政府工作部门`); empty means 政府工作部门."""
    text = str(value or "").strip()
    if not text:
        return UnitKind.GOVERNMENT
    for kind in UnitKind:
        if text in (kind.value, kind.label):
            return kind.value
    labels = "、".join(kind.label for kind in UnitKind)
    raise ValidationError(f"未知的单位类别：{text}（可用：{labels}）")


def clean_uscc(value: Any) -> str | None:
    """Empty → None (the column is unique, so "no code" must be NULL, not an empty string)."""
    code = normalise_uscc(str(value or ""))
    if not code:
        return None
    validate_uscc(code)
    return code


def clean_person_name(value: Any) -> str:
    return _required(value, "姓名", 40)


def clean_phone(value: Any) -> str:
    """Empty stays empty; anything else must be a mainland mobile number (returned as 11 digits)."""
    text = str(value or "").strip()
    return normalise_mobile(text) if text else ""


def clean_title(value: Any) -> str:
    return _required(value, "职务", 60)


def clean_department(value: Any) -> str:
    return _optional(value, "科室", 60)


def clean_role(value: Any) -> str:
    text = str(value or "").strip()
    for role in Role:
        if text in (role.value, role.label):
            return role.value
    raise ValidationError(f"未知的角色：{text}（可用：{'、'.join(role.value for role in Role)}）")


def hash_api_secret(secret: str) -> str:
    # Keys are 256-bit random strings: a plain SHA-256 is enough (nothing to brute-force).
    return hashlib.sha256(secret.encode()).hexdigest()


# --- Divisions ---------------------------------------------------------------------------------


def check_division(
    *, code: str, name: str, level: int, parent: Division | None
) -> tuple[str, str, DivisionLevel]:
    """Validate a new division; returns the cleaned (code, name, level).

    The code must start with the parent's prefix, since scoping relies on code prefixes.
    """
    code = str(code or "").strip()
    validate_division_code(code)
    name = _required(name, "区划名称", 60)
    level = DivisionLevel(level)
    expected = _LEVEL_BY_LENGTH[len(code)]
    if expected is not None and level != expected:
        raise ValidationError(f"{len(code)} 位的区划代码 {code} 应为{expected.label}，而不是{level.label}")
    if expected is None and level not in (DivisionLevel.PROVINCE, DivisionLevel.CITY, DivisionLevel.COUNTY):
        raise ValidationError(f"6 位的区划代码 {code} 只能是省、市或县级，而不是{level.label}")
    if parent is not None:
        if parent.level >= level:
            raise ValidationError(f"上级区划 {parent} 的层级应高于 {name}（{code}）")
        if not code.startswith(parent.prefix) or code == parent.code:
            raise ValidationError(f"区划代码 {code} 不在上级区划 {parent} 之下（应以 {parent.prefix} 开头）")
    return code, name, level


def create_division(
    *, code: str, name: str, level: int, parent: Division | None = None, by: User | None = None
) -> Division:
    """Add a GB/T 2260 division under `parent` (checked by `check_division`).

    Side effects: audit row `division.created`.
    """
    code, name, level = check_division(code=code, name=name, level=level, parent=parent)
    if Division.objects.filter(code=code).exists():
        raise ValidationError(f"区划代码 {code} 已存在")
    with transaction.atomic():
        division = Division.objects.create(code=code, name=name, level=level, parent=parent)
        audit.record(
            "division.created",
            by=by,
            target=division,
            division_code=code,
            data={"code": code, "name": name, "level": int(level), "parent": parent.code if parent else None},
        )
    return division


# --- Units -------------------------------------------------------------------------------------


def _check_unit_uniqueness(
    *, code: str | None, name: str, division: Division, uscc: str | None, exclude: int | None
) -> None:
    others = Unit.objects.exclude(pk=exclude) if exclude is not None else Unit.objects.all()
    if code is not None and others.filter(code=code).exists():
        raise ValidationError(f"单位编码 {code} 已存在")
    same_name = others.filter(division=division, name=name).first()
    if same_name is not None:
        raise ValidationError(f"{division.name}已有名为 {name} 的单位（编码 {same_name.code}）")
    if uscc is not None:
        holder = others.filter(uscc=uscc).first()
        if holder is not None:
            raise ValidationError(f"统一社会信用代码 {uscc} 已被 {holder.name}（编码 {holder.code}）使用")


def check_unit_parent(unit: Unit | None, parent: Unit | None) -> None:
    """A unit's parent may not be the unit itself or one of its descendants."""
    if parent is None or unit is None or unit.pk is None:
        return
    ancestor: Unit | None = parent
    seen: set[int] = set()
    while ancestor is not None and ancestor.pk not in seen:
        if ancestor.pk == unit.pk:
            raise ValidationError(f"上级单位 {parent.code} 不能是 {unit.code} 本身或其下级单位")
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


def create_unit(
    *,
    code: str,
    name: str,
    division: Division,
    kind: str = UnitKind.GOVERNMENT,
    short_name: str = "",
    parent: Unit | None = None,
    uscc: str | None = None,
    by: User | None = None,
) -> Unit:
    """Add a unit. Codes, names within a division and USCCs are unique.

    Side effects: audit row `unit.created` (division = the unit's division).
    """
    code = clean_code(code)
    name = clean_unit_name(name)
    kind = clean_kind(kind)
    short_name = clean_short_name(short_name)
    uscc = clean_uscc(uscc)
    _check_unit_uniqueness(code=code, name=name, division=division, uscc=uscc, exclude=None)
    with transaction.atomic():
        unit = Unit.objects.create(
            code=code,
            name=name,
            short_name=short_name,
            kind=kind,
            division=division,
            parent=parent,
            uscc=uscc,
        )
        audit.record(
            "unit.created",
            by=by,
            target=unit,
            division_code=division.code,
            data={
                "code": code,
                "name": name,
                "short_name": short_name,
                "kind": kind,
                "division": division.code,
                "parent": parent.code if parent else None,
                "uscc": uscc,
            },
        )
    return unit


def update_unit(
    unit: Unit,
    *,
    name: str | None = None,
    short_name: str | None = None,
    kind: str | None = None,
    division: Division | None = None,
    parent: Unit | None = UNSET,
    uscc: str | None = UNSET,
    is_active: bool | None = None,
    by: User | None = None,
) -> list[str]:
    """Change the given fields of `unit` (None / UNSET = keep). Returns the changed field names.

    Nothing is written when nothing changes. Side effects: audit row `unit.updated` with each
    changed field's old and new value.
    """
    new: dict[str, Any] = {}
    if name is not None:
        new["name"] = clean_unit_name(name)
    if short_name is not None:
        new["short_name"] = clean_short_name(short_name)
    if kind is not None:
        new["kind"] = clean_kind(kind)
    if division is not None:
        new["division"] = division
    if parent is not UNSET:
        check_unit_parent(unit, parent)
        new["parent"] = parent
    if uscc is not UNSET:
        new["uscc"] = clean_uscc(uscc)
    if is_active is not None:
        new["is_active"] = bool(is_active)
    changes = {
        field: (getattr(unit, field), value) for field, value in new.items() if getattr(unit, field) != value
    }
    if not changes:
        return []
    _check_unit_uniqueness(
        code=None,
        name=new.get("name", unit.name),
        division=new.get("division", unit.division),
        uscc=new.get("uscc", unit.uscc),
        exclude=unit.pk,
    )

    def plain(value: Any) -> Any:
        return value.code if isinstance(value, Division | Unit) else value

    with transaction.atomic():
        for field, (_old, value) in changes.items():
            setattr(unit, field, value)
        unit.save(update_fields=list(changes))
        audit.record(
            "unit.updated",
            by=by,
            target=unit,
            division_code=unit.division_id,
            data={
                "code": unit.code,
                "changes": {f: [plain(old), plain(val)] for f, (old, val) in changes.items()},
            },
        )
    return list(changes)


# --- People and positions ----------------------------------------------------------------------


def set_person_phone(person: Person, phone: str) -> None:
    """Validate and store a mobile number encrypted, with its blind index (caller saves and audits)."""
    if phone:
        number = normalise_mobile(phone)
        person.phone = number
        person.phone_index = blind_index(number)
    else:
        person.phone = ""
        person.phone_index = ""


def create_person(
    *, name: str, external_id: str | None = None, phone: str = "", by: User | None = None
) -> Person:
    """Add a person (cadre or staff member); the phone is stored encrypted with its blind index.

    Side effects: audit row `person.created` (the phone itself is never written to the log).
    """
    name = clean_person_name(name)
    external_id = clean_code(external_id, "人员编号") if external_id else None
    phone = clean_phone(phone)
    if external_id is not None and Person.objects.filter(external_id=external_id).exists():
        raise ValidationError(f"人员编号 {external_id} 已存在")
    with transaction.atomic():
        person = Person(name=name, external_id=external_id)
        set_person_phone(person, phone)
        person.save()
        audit.record(
            "person.created",
            by=by,
            target=person,
            data={"external_id": external_id, "name": name, "phone": bool(phone)},
        )
    return person


def update_person(
    person: Person, *, name: str | None = None, phone: str | None = None, by: User | None = None
) -> list[str]:
    """Change name and/or phone (None = keep, "" = clear the phone). Returns the changed fields.

    Side effects: audit row `person.updated` naming the changed fields (no phone numbers).
    """
    changed: list[str] = []
    new_name = clean_person_name(name) if name is not None else person.name
    new_phone = clean_phone(phone) if phone is not None else person.phone
    if new_name != person.name:
        changed.append("name")
    if new_phone != person.phone:
        changed.append("phone")
    if not changed:
        return []
    with transaction.atomic():
        old_name = person.name
        person.name = new_name
        set_person_phone(person, new_phone)
        person.save(update_fields=["name", "phone", "phone_index"])
        data: dict[str, Any] = {"external_id": person.external_id, "fields": changed}
        if "name" in changed:
            data["name"] = [old_name, new_name]
        audit.record("person.updated", by=by, target=person, data=data)
    return changed


def assign_position(
    person: Person,
    *,
    unit: Unit,
    title: str,
    department: str = "",
    is_leader: bool = False,
    started_on: dt.date | None = None,
    by: User | None = None,
) -> Position:
    """Give `person` a current position in `unit`.

    Side effects: audit row `position.assigned` (division = the unit's division).
    """
    title = clean_title(title)
    department = clean_department(department)
    if Position.objects.filter(person=person, unit=unit, title=title, ended_on__isnull=True).exists():
        raise ValidationError(f"{person.name} 已在 {unit.name} 担任 {title}")
    with transaction.atomic():
        position = Position.objects.create(
            person=person,
            unit=unit,
            title=title,
            department=department,
            is_leader=is_leader,
            started_on=started_on,
        )
        audit.record(
            "position.assigned",
            by=by,
            target=position,
            division_code=unit.division_id,
            data={
                "person": person.pk,
                "external_id": person.external_id,
                "unit": unit.code,
                "title": title,
                "department": department,
                "is_leader": is_leader,
            },
        )
    return position


def update_position(
    position: Position,
    *,
    department: str | None = None,
    is_leader: bool | None = None,
    by: User | None = None,
) -> list[str]:
    """Change the department or leader flag of a position. Returns the changed fields.

    Side effects: audit row `position.updated`.
    """
    new: dict[str, Any] = {}
    if department is not None:
        new["department"] = clean_department(department)
    if is_leader is not None:
        new["is_leader"] = bool(is_leader)
    changes = {f: [getattr(position, f), v] for f, v in new.items() if getattr(position, f) != v}
    if not changes:
        return []
    with transaction.atomic():
        for field, (_old, value) in changes.items():
            setattr(position, field, value)
        position.save(update_fields=list(changes))
        audit.record(
            "position.updated",
            by=by,
            target=position,
            division_code=position.unit.division_id,
            data={"changes": changes},
        )
    return list(changes)


def end_position(position: Position, *, on: dt.date | None = None, by: User | None = None) -> None:
    """Mark a current position as ended (the row stays, for history).

    Side effects: audit row `position.ended`.
    """
    if position.ended_on is not None:
        raise ValidationError(f"职务 {position.title} 已于 {position.ended_on} 离任")
    ended_on = on or timezone.localdate()
    if position.started_on is not None and ended_on < position.started_on:
        raise ValidationError(f"离任日期 {ended_on} 早于任职日期 {position.started_on}")
    with transaction.atomic():
        position.ended_on = ended_on
        position.save(update_fields=["ended_on"])
        audit.record(
            "position.ended",
            by=by,
            target=position,
            division_code=position.unit.division_id,
            data={"unit": position.unit.code, "title": position.title, "ended_on": ended_on.isoformat()},
        )


# --- Users -------------------------------------------------------------------------------------


def create_user(
    *,
    username: str,
    role: str,
    unit: Unit | None = None,
    password: str | None = None,
    person: Person | None = None,
    display_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    by: User | None = None,
) -> User:
    """Create a login for a role in a unit (only the administrator may have no unit).

    `password` is checked against the configured validators; None leaves the account without a
    usable password (to be set by the administrator). Side effects: audit row `user.created`.
    """
    username = _required(username, "用户名", 150)
    User.username_validator(username)
    role = clean_role(role)
    if unit is None and role != Role.ADMIN:
        raise ValidationError(f"角色 {Role(role).label} 的用户必须属于一个单位")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"用户名 {username} 已存在")
    user = User(
        username=username,
        role=role,
        unit=unit,
        person=person,
        display_name=_optional(display_name, "显示名称", 60),
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.save()
        audit.record(
            "user.created",
            by=by,
            target=user,
            division_code=unit.division_id if unit else "",
            data={
                "username": username,
                "role": role,
                "unit": unit.code if unit else None,
                "is_staff": is_staff,
                "is_superuser": is_superuser,
            },
        )
    return user


def unlock_user(user: User, *, by: User | None = None) -> None:
    """Lift a login lockout before it expires. Side effects: audit row `auth.unlocked`."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        user.failed_logins, user.locked_until = 0, None
        audit.record("auth.unlocked", by=by, target=user, data={"username": user.username})


# --- API keys ----------------------------------------------------------------------------------


def clean_scopes(scopes: list[str]) -> list[str]:
    cleaned = sorted({scope.strip() for scope in scopes if scope.strip()})
    if not cleaned:
        raise ValidationError("至少需要一个权限范围")
    unknown = [scope for scope in cleaned if scope not in KNOWN_API_SCOPES]
    if unknown:
        raise ValidationError(
            f"未知的权限范围：{', '.join(unknown)}；可用：{', '.join(sorted(KNOWN_API_SCOPES))}"
        )
    return cleaned


def create_api_key(*, name: str, scopes: list[str], by: User | None = None) -> tuple[ApiKey, str]:
    """Create a key for an integrating system. Returns the row and the full key, shown only once.

    Only a SHA-256 of the secret is stored. Side effects: audit row `apikey.created` (without the secret).
    """
    name = _required(name, "接口密钥名称", 80)
    cleaned = clean_scopes(scopes)
    if ApiKey.objects.filter(name=name).exists():
        raise ValidationError(f"名称为 {name} 的接口密钥已存在")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                name=name, prefix=prefix, key_hash=hash_api_secret(secret), scopes=cleaned
            )
            audit.record("apikey.created", by=by, target=key, data={"name": name, "scopes": cleaned})
    except IntegrityError as exc:
        # Two administrators creating the same name at once: the unique index decides.
        raise ValidationError(f"名称为 {name} 的接口密钥已存在") from exc
    return key, f"zf_{prefix}_{secret}"


def revoke_api_key(key: ApiKey, *, by: User | None = None) -> None:
    """Revoke a key: it stops authenticating at once; the row stays for the record.

    Side effects: audit row `apikey.revoked`.
    """
    with transaction.atomic():
        # Conditional update: a key is revoked once, even if two people press the button.
        revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked != 1:
            raise ValidationError(f"接口密钥 {key.name} 已被吊销")
        key.refresh_from_db(fields=["revoked_at"])
        audit.record("apikey.revoked", by=by, target=key, data={"name": key.name})
