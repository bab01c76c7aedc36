"""HTML input for plans. Forms validate shapes only; the services decide and write."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from zhengfeng.ledger.models import Plan, ResponsibilityRole, Section
from zhengfeng.org.models import Division, Unit


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name}（{obj.code}）"


class PlanForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    title = forms.CharField(label="标题", max_length=200)
    preamble = forms.CharField(label="引言", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    goals = forms.CharField(label="工作目标", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    requirements = forms.CharField(label="有关要求", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(
        self, *args: Any, divisions: QuerySet[Division] | None = None, editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # A plan's year and division are its identity; a different year is a new plan.
            del self.fields["year"]
        elif divisions is not None:
            self.fields["division"] = forms.ModelChoiceField(
                label="发文区划", queryset=divisions, empty_label=None
            )
            self.order_fields(["division", "year"])


class SectionForm(forms.Form):
    number = forms.CharField(label="序号", max_length=10, help_text="中文数字，如 一、二")
    title = forms.CharField(label="分组名称", max_length=300)
    order = forms.IntegerField(label="排序", min_value=1, required=False)


class TaskForm(forms.Form):
    section = forms.ModelChoiceField(label="分组", queryset=Section.objects.none(), empty_label=None)
    number = forms.IntegerField(label="任务序号", min_value=1, max_value=999)
    title = forms.CharField(label="任务名称", max_length=200)
    body = forms.CharField(label="任务内容", required=False, widget=forms.Textarea(attrs={"rows": 6}))
    clause = forms.CharField(
        label="责任分工原文",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：由市编办牵头，市法制局协助",
    )
    open_parties = forms.CharField(
        label="其他责任方",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="未指明具体单位的责任方，每行一项，如：各相关部门（负责）",
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["section"]).queryset = plan.sections.order_by("order", "id")


class ResponsibilityForm(forms.Form):
    unit = UnitChoiceField(label="单位", queryset=Unit.objects.none())
    role = forms.ChoiceField(label="职责", choices=ResponsibilityRole.choices)

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = units
