"""HTML input for ledgers. Forms validate shapes only; the ledger services decide and write."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from zhengfeng.core import uploads
from zhengfeng.ledger.models import Ledger, LedgerStatus, LedgerStep
from zhengfeng.org.models import Person, Unit


class DateInput(forms.DateInput):
    input_type = "date"


class LedgerForm(forms.Form):
    goals = forms.CharField(label="工作目标", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label="工作措施", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    time_requirements = forms.CharField(
        label="时间要求", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    responsible_persons = forms.CharField(
        label="责任人", required=False, max_length=200, help_text="如：分管领导 张三；经办人 李四"
    )
    responsible_person = forms.ModelChoiceField(
        label="责任人（从本单位人员中选择）", queryset=Person.objects.none(), required=False
    )

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["responsible_person"]).queryset = Person.objects.filter(
            positions__unit=unit, positions__ended_on__isnull=True
        ).distinct()


class StepForm(forms.Form):
    text = forms.CharField(label="工作步骤", max_length=500)
    due_on = forms.DateField(label="完成时限", required=False, widget=DateInput)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); each is checked by the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": uploads.ATTACHMENT.accept}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ProgressForm(forms.Form):
    text = forms.CharField(label="进展情况", widget=forms.Textarea(attrs={"rows": 3}))
    noted_on = forms.DateField(label="日期", required=False, widget=DateInput, help_text="默认为今天")
    step = forms.ModelChoiceField(label="对应工作步骤", queryset=LedgerStep.objects.none(), required=False)
    # A form field: the form's metaclass moves it into base_fields, so `self.files` stays the uploads.
    files = MultipleFileField(  # type: ignore[assignment]
        label="附件",
        required=False,
        help_text="可多选；每个不超过 20 MB，限 pdf、doc、docx、xls、xlsx、jpg、png、zip",
    )

    def __init__(self, *args: Any, ledger: Ledger, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["step"]).queryset = ledger.steps.order_by("order", "id")


class LedgerStatusForm(forms.Form):
    status = forms.ChoiceField(label="状态", choices=LedgerStatus.choices)
    reason = forms.CharField(
        label="原因", max_length=200, required=False, help_text="重新打开已完成的台帐时必填"
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="台帐 Excel 文件（.xlsx）",
        widget=forms.ClearableFileInput(attrs={"accept": uploads.SPREADSHEET_IMPORT.accept}),
    )
    dry_run = forms.BooleanField(label="只检查，不写入", required=False)
