"""HTML input for quarterly reports (the reason form serves review rounds too). Forms check shapes; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from zhengfeng.ledger.ledgers.forms import MultipleFileField
from zhengfeng.ledger.models import REPORT_FIGURES, Responsibility


class ReportForm(forms.Form):
    """本期工作情况, the named figures, one progress box per task the unit carries, attachments."""

    summary = forms.CharField(label="本期工作情况", required=False, widget=forms.Textarea(attrs={"rows": 6}))
    # A form field: the form's metaclass moves it into base_fields, so `self.files` stays the uploads.
    files = MultipleFileField(  # type: ignore[assignment]
        label="附件",
        required=False,
        help_text="可多选；每个不超过 20 MB，限 pdf、doc、docx、xls、xlsx、jpg、png、zip",
    )

    def __init__(self, *args: Any, tasks: list[Responsibility], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in REPORT_FIGURES:
            # Text, not IntegerField: the service names the bad value in its message.
            self.fields[f"figure_{key}"] = forms.CharField(label=label, required=False, max_length=12)
        self.task_fields = []
        for resp in tasks:
            name = f"task_{resp.task_id}"
            self.fields[name] = forms.CharField(
                label=f"任务 {resp.task.number}. {resp.task.title}（{resp.get_role_display()}）",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.task_fields.append((resp.task_id, name))

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "summary": data["summary"],
            "figures": {key: data[f"figure_{key}"] for key, _label in REPORT_FIGURES},
            "progress": {task_id: data[name] for task_id, name in self.task_fields},
            "files": data["files"],
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(label="退回原因", widget=forms.Textarea(attrs={"rows": 2}), required=False)
