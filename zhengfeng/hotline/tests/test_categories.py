"""The 3-level taxonomy import (CSV) and the dispatch rule table."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from zhengfeng.hotline import services
from zhengfeng.hotline.category_import import import_categories, read_category_csv
from zhengfeng.hotline.models import Category, DispatchRule

from .conftest import receive

CSV = """一级分类,二级分类,三级分类
城乡建设,安全生产,事故处理
城乡建设,安全生产,安全隐患
城乡建设,市政管理,园林绿化
环境保护,环保执法,
"""


def test_import_builds_codes_and_paths_and_is_idempotent(db, tmp_path):
    path = tmp_path / "categories.csv"
    path.write_text(CSV, encoding="utf-8")
    out = io.StringIO()
    call_command("hotline", "categories", str(path), stdout=out)
    assert out.getvalue().strip() == "分类导入完成：4 行，新建 8 个分类，已存在 0 个"
    assert list(Category.objects.values_list("code", "level", "path")) == [
        ("01", 1, "城乡建设"),
        ("0101", 2, "城乡建设/安全生产"),
        ("010101", 3, "城乡建设/安全生产/事故处理"),
        ("010102", 3, "城乡建设/安全生产/安全隐患"),
        ("0102", 2, "城乡建设/市政管理"),
        ("010201", 3, "城乡建设/市政管理/园林绿化"),
        ("02", 1, "环境保护"),
        ("0201", 2, "环境保护/环保执法"),
    ]
    result = import_categories(read_category_csv(path))
    assert (result.rows, result.created, result.existing) == (4, 0, 4)
    assert Category.objects.count() == 8


def test_bad_header_is_refused():
    with pytest.raises(Exception, match="表头应为"):
        read_category_csv(io.StringIO("a,b,c\n1,2,3\n"))


def test_most_specific_dispatch_rule_wins(operator, unit_a, unit_b, county_unit, qingcheng):
    import_categories([("城乡建设", "市政设施", "路灯故障"), ("城乡建设", "市政设施", "井盖缺失")])
    top = Category.objects.get(path="城乡建设")
    leaf = Category.objects.get(path="城乡建设/市政设施/路灯故障")
    DispatchRule.objects.create(category=top, unit=unit_a)
    DispatchRule.objects.create(category=leaf, unit=unit_b)
    DispatchRule.objects.create(category=leaf, division=qingcheng, unit=county_unit)
    city_order = receive(operator, category=leaf)
    county_order = receive(operator, category=leaf, division="441802")
    other_leaf = receive(operator, category=Category.objects.get(path="城乡建设/市政设施/井盖缺失"))
    targets = [services.dispatch_target(order) for order in (city_order, county_order, other_leaf)]
    assert [getattr(target, "unit", None) for target in targets] == [unit_b, county_unit, unit_a]
