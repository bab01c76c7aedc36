"""The unit's form for entering an enforcement or supervision action."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from zhengfeng.evaluation.models import ActionType, DisclosedStaff


class ActionForm(forms.Form):
    staff = forms.ModelMultipleChoiceField(
        label="执法人员", queryset=DisclosedStaff.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    action_type = forms.ChoiceField(label="执法类型", choices=ActionType.choices)
    acted_at = forms.DateTimeField(
        label="执法时间",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    subject_name = forms.CharField(label="执法对象（单位或个人）", max_length=100)
    subject_phone = forms.CharField(label="对象手机号码", max_length=30, help_text="评议短信发到此号码")

    def __init__(
        self, *args: Any, staff_queryset: QuerySet[DisclosedStaff] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if staff_queryset is not None:
            # `fields` holds copies of the declared fields: this one is the `staff` above.
            cast(forms.ModelMultipleChoiceField, self.fields["staff"]).queryset = staff_queryset
