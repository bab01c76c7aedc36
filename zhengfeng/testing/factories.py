"""Factories shared by every app's tests. No surprising side effects: each builds exactly one row
(plus the FKs it needs)."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from zhengfeng.org.models import Division, DivisionLevel, Person, Position, Role, Unit, UnitKind, User


class DivisionFactory(DjangoModelFactory[Division]):
    class Meta:
        model = Division
        django_get_or_create = ("code",)

    code = "441800"
    name = "清远市"
    level = DivisionLevel.CITY
    parent = None


class UnitFactory(DjangoModelFactory[Unit]):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"U{n:05d}")
    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = UnitKind.GOVERNMENT
    division = factory.SubFactory(DivisionFactory)


class PersonFactory(DjangoModelFactory[Person]):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"张{n}")


class PositionFactory(DjangoModelFactory[Position]):
    class Meta:
        model = Position

    person = factory.SubFactory(PersonFactory)
    unit = factory.SubFactory(UnitFactory)
    title = "科员"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.HANDLER
    unit = factory.SubFactory(UnitFactory)
    password = factory.django.Password("correct-horse-battery")
