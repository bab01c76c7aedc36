"""Divisions, units, people and their positions, users with roles, and integration API keys."""

from __future__ import annotations

from enum import nonmember
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Now

from zhengfeng.core.fields import EncryptedTextField
from zhengfeng.org.validators import validate_division_code, validate_uscc


class DivisionLevel(models.IntegerChoices):
    PROVINCE = 1, "省级"
    CITY = 2, "市级"
    COUNTY = 3, "县级"
    TOWN = 4, "乡镇级"
    VILLAGE = 5, "村级"


# Significant digits of a GB/T 2260 code at each level: a division's subtree is every code that
# starts with its prefix (4418 → the whole of 清远市), so scoping needs no join.
PREFIX_LENGTH = {
    DivisionLevel.PROVINCE: 2,
    DivisionLevel.CITY: 4,
    DivisionLevel.COUNTY: 6,
    DivisionLevel.TOWN: 9,
    DivisionLevel.VILLAGE: 12,
}


class Division(models.Model):
    code = models.CharField("区划代码", max_length=12, primary_key=True, validators=[validate_division_code])
    name = models.CharField("名称", max_length=60)
    level = models.PositiveSmallIntegerField("层级", choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LENGTH[DivisionLevel(self.level)]]


class UnitKind(models.TextChoices):
    PARTY = "party", "党委及其工作部门"
    GOVERNMENT = "government", "政府工作部门"
    DISCIPLINE = "discipline", "纪委监委"
    CAMPAIGN_OFFICE = "campaign_office", "正风办"
    SERVICE_CENTER = "service_center", "行政（政务）服务中心"
    INSTITUTION = "institution", "事业单位"
    MEDIA = "media", "新闻媒体"
    TOWNSHIP = "township", "乡镇（街道）"
    OTHER = "other", "其他"


class UnitQuerySet(models.QuerySet["Unit"]):
    def active(self) -> UnitQuerySet:
        return self.filter(is_active=True)

    def in_division(self, division: Division) -> UnitQuerySet:
        return self.filter(division__code__startswith=division.prefix)


class Unit(models.Model):
    code = models.CharField("单位编码", max_length=40, unique=True)
    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("类别", max_length=20, choices=UnitKind.choices, default=UnitKind.GOVERNMENT)
    division = models.ForeignKey(
        Division, verbose_name="所属区划", on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    uscc = models.CharField(
        "统一社会信用代码", max_length=18, null=True, blank=True, unique=True, validators=[validate_uscc]
    )
    is_active = models.BooleanField("在用", default=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["division_id", "code"]
        indexes = [models.Index(fields=["division", "kind"], name="unit_division_kind_idx")]
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="unit_name_unique_in_division"),
        ]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A cadre or staff member. Phone and ID numbers are personal data (encrypted, blind-indexed)."""

    name = models.CharField("姓名", max_length=40)
    phone = EncryptedTextField("手机号码", blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number = EncryptedTextField("身份证号码", blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # Blind index -> the plaintext it is computed from: `zhengfeng keys rotate` recomputes them.
    BLIND_INDEXES: ClassVar[dict[str, str]] = {"phone_index": "phone", "id_number_index": "id_number"}
    # Stable external key for imports (e.g. the HR system's staff number).
    external_id = models.CharField("人员编号", max_length=40, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Position(models.Model):
    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.CASCADE, related_name="positions"
    )
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="positions")
    title = models.CharField("职务", max_length=60)
    department = models.CharField("科室", max_length=60, blank=True)
    duties = models.TextField("岗位职责", blank=True)
    is_leader = models.BooleanField("领导职务", default=False)
    started_on = models.DateField("任职日期", null=True, blank=True)
    ended_on = models.DateField("离任日期", null=True, blank=True)

    class Meta:
        verbose_name = "职务"
        verbose_name_plural = "职务"
        ordering = ["unit_id", "-is_leader", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "unit", "title"],
                condition=models.Q(ended_on__isnull=True),
                name="position_unique_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.title} {self.person}"


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    OFFICE = "office", "正风办"
    INSPECTOR = "inspector", "纪检监察"
    OPERATOR = "operator", "热线坐席"
    LIAISON = "liaison", "联络员"
    HANDLER = "handler", "承办人"
    HEAD = "head", "单位负责人"
    MONITOR = "monitor", "效能监督员"

    # Roles that see their whole division subtree rather than only their own unit.
    DIVISION_SCOPED = nonmember(frozenset({"office", "inspector", "operator"}))
    # Roles allowed to see protected personal data in full (each view is audited).
    PERSONAL_DATA_ROLES = nonmember(frozenset({"inspector"}))


# Every staff role: menu entries and panels meant for everyone who signs in.
ALL_ROLES: frozenset[str] = frozenset(Role.values)


class UserManager(DjangoUserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> User:
        # A superuser has no unit; the check constraint allows that only for the admin role, so
        # `zhengfeng createsuperuser` must not fall back to the default role (handler).
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.HANDLER)
    unit = models.ForeignKey(
        Unit, verbose_name="所在单位", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    person = models.ForeignKey(
        Person,
        verbose_name="对应人员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )
    display_name = models.CharField("显示名称", max_length=60, blank=True)
    failed_logins = models.PositiveSmallIntegerField("连续登录失败次数", default=0, editable=False)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    # ClassVar as on AbstractUser, which declares the manager on the class.
    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            # Every staff account belongs to a unit; only the system administrator may have none.
            models.CheckConstraint(
                condition=models.Q(unit__isnull=False) | models.Q(role="admin"),
                name="user_unit_required_except_admin",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return self.display_name or self.username


class ApiKey(models.Model):
    """A key for one integrating system. Only a SHA-256 of the secret is stored."""

    name = models.CharField("名称", max_length=80, unique=True)
    prefix = models.CharField("前缀", max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField("权限范围", default=list)
    created_at = models.DateTimeField("创建时间", db_default=Now())
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口密钥"
        verbose_name_plural = "接口密钥"

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"
