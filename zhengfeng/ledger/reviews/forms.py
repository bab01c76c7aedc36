"""HTML input for review rounds. Forms check shapes; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from zhengfeng.ledger.ledgers.forms import DateInput
from zhengfeng.ledger.models import ReviewKind, Severity
from zhengfeng.org.models import Unit


class ReviewRoundForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label="类别", choices=ReviewKind.choices)
    title = forms.CharField(label="名称", max_length=200, required=False, help_text="留空则按年度和类别生成")


class FindingForm(forms.Form):
    unit = forms.ModelChoiceField(label="被检查单位", queryset=Unit.objects.none())
    severity = forms.ChoiceField(label="严重程度", choices=Severity.choices)
    text = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = units


class DemandForm(forms.Form):
    requirements = forms.CharField(label="整改要求", widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label="整改时限", widget=DateInput)


class RectificationForm(forms.Form):
    text = forms.CharField(label="整改情况", widget=forms.Textarea(attrs={"rows": 5}))
