"""The admin writes years and staff through the services: saving one creates exactly the audit row the
service writes, and the services' checks (key units, templates) apply."""

from __future__ import annotations

import pytest
from django.db import models

from zhengfeng.core.models import AuditLog
from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import DisclosedStaff, EvaluationYear

pytestmark = pytest.mark.django_db


def _default(name):
    field = EvaluationYear._meta.get_field(name)
    assert isinstance(field, models.Field)  # a column of the year
    return field.default


YEAR_DEFAULTS = {
    name: _default(name)
    for name in (
        "sms_template",
        "reask_template",
        "points_satisfied",
        "points_basic",
        "points_unsatisfied",
        "reply_window_days",
        "vote_weight",
        "assessment_points",
        *services.RULE_FIELDS,
    )
}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def year_form(division, unit, **overrides):
    data = {
        "division": division.pk,
        "year": 2016,
        "title": "2016年清远市“公述民评”",
        "key_units": [unit.pk],
        "vote_opens_at_0": "",
        "vote_opens_at_1": "",
        "vote_closes_at_0": "",
        "vote_closes_at_1": "",
        **YEAR_DEFAULTS,
    }
    data.update(overrides)
    return data


def staff_form(unit, **overrides):
    data = {
        "unit": unit.pk,
        "person": "",
        "name": "张三",
        "title": "执法大队队长",
        "department": "",
        "duties": "",
        "is_disclosed": "on",
        "is_active": "on",
        "sort_order": 0,
    }
    data.update(overrides)
    return data


def test_adding_a_year_in_the_admin_writes_the_service_audit_row(admin_client, admin_user, city, unit_a):
    response = admin_client.post(
        "/admin/evaluation/evaluationyear/add/", year_form(city, unit_a, vote_weight=40)
    )

    assert response.status_code == 302
    year = EvaluationYear.objects.get()
    assert (year.year, year.vote_weight, list(year.key_units.all())) == (2016, 40, [unit_a])
    log = AuditLog.objects.get()
    assert (log.action, log.actor, log.target_id, log.division_code) == (
        "evaluation.year_created",
        admin_user,
        str(year.pk),
        "441800",
    )
    assert log.data == {"year": 2016, "key_units": ["441800-A"], "window": 7, "settings": ["vote_weight"]}


def test_changing_a_year_in_the_admin_writes_the_service_audit_row(admin_client, admin_user, year, unit_a):
    response = admin_client.post(
        f"/admin/evaluation/evaluationyear/{year.pk}/change/",
        year_form(year.division, unit_a, year=2015, title=year.title, reply_window_days=5),
    )

    assert response.status_code == 302
    year.refresh_from_db()
    assert (year.reply_window_days, list(year.key_units.all())) == (5, [unit_a])
    log = AuditLog.objects.filter(actor=admin_user).get()
    assert (log.action, log.target_id) == ("evaluation.year_updated", str(year.pk))
    assert log.data == {"fields": ["reply_window_days", "key_units"], "key_units": ["441800-A"]}


def test_the_admin_refuses_a_unit_already_key_in_another_year(admin_client, year, qingcheng, unit_a):
    response = admin_client.post(
        "/admin/evaluation/evaluationyear/add/", year_form(qingcheng, unit_a, year=2015)
    )

    assert response.status_code == 200
    assert (
        "一个单位每年只能列入一个公述民评年度：市甲局（已列入2015年清远市“公述民评”）"
        in response.content.decode()
    )
    assert EvaluationYear.objects.count() == 1


def test_adding_staff_in_the_admin_writes_the_service_audit_row(admin_client, admin_user, unit_a):
    response = admin_client.post("/admin/evaluation/disclosedstaff/add/", staff_form(unit_a))

    assert response.status_code == 302
    staff = DisclosedStaff.objects.get()
    assert (staff.name, staff.division_code, staff.is_disclosed) == ("张三", "441800", True)
    log = AuditLog.objects.get()
    assert (log.action, log.actor, log.target_id) == ("evaluation.staff_created", admin_user, str(staff.pk))
    assert log.data == {"unit": "441800-A", "name": "张三", "title": "执法大队队长", "disclosed": True}


def test_changing_staff_in_the_admin_writes_the_service_audit_row(admin_client, admin_user, zhang):
    data = staff_form(zhang.unit, title="副队长")
    del data["is_active"]  # unticked: left the post

    response = admin_client.post(f"/admin/evaluation/disclosedstaff/{zhang.pk}/change/", data)

    assert response.status_code == 302
    zhang.refresh_from_db()
    assert (zhang.title, zhang.is_active) == ("副队长", False)
    log = AuditLog.objects.filter(actor=admin_user).get()
    assert (log.action, log.target_id, log.data) == (
        "evaluation.staff_updated",
        str(zhang.pk),
        {"fields": ["title", "is_active"]},
    )
