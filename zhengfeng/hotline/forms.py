"""HTML input of the hotline staff pages: intake, one small form per lifecycle action, list filters.

Forms only check the shape of the input and turn it into the keyword arguments of
`services.receive_work_order` / `services.transition`; every rule about states, roles and limits stays
in the services, whose ValidationError the views attach to the form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from zhengfeng.core import uploads
from zhengfeng.hotline.models import (
    ADDRESS_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Category,
    Channel,
    RequestType,
    Satisfaction,
    Status,
    Urgency,
    WorkOrder,
)
from zhengfeng.org import validators
from zhengfeng.org.models import Division, Unit, UnitKind, User
from zhengfeng.org.queries import divisions_for, units_for

# Units that supervise rather than handle: never a 承办单位 (services refuse them too).
SUPERVISING_KINDS = (UnitKind.DISCIPLINE, UnitKind.CAMPAIGN_OFFICE)
YES_NO = [("yes", "是"), ("no", "否")]


def handling_units_for(user: User) -> QuerySet[Unit]:
    """Units an operator may dispatch to: active units in scope that are not supervising bodies."""
    return (
        units_for(user)
        .filter(is_active=True)
        .exclude(kind__in=SUPERVISING_KINDS)
        .order_by("division_id", "code")
    )


def discipline_units_for(user: User) -> QuerySet[Unit]:
    return units_for(user).filter(is_active=True, kind=UnitKind.DISCIPLINE).order_by("division_id", "code")


def _offer(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    """Set the choices of the model choice field `name` (declared with an empty queryset)."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a model choice field")
    field.queryset = queryset


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class UnitMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Division) -> str:
        return f"{obj.name}（{obj.code}）"


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


# ------------------------------------------------------------------------------------ intake


class IntakeForm(forms.Form):
    """受理登记. The category comes from three cascading selects; the deepest chosen level wins."""

    channel = forms.ChoiceField(label="来源渠道", choices=Channel.choices, initial=Channel.PHONE)
    request_type = forms.ChoiceField(label="诉求类型", choices=RequestType.choices)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, initial=Urgency.NORMAL)
    is_complex = forms.BooleanField(label="复杂件", required=False)
    concerns_conduct = forms.BooleanField(label="涉及干部作风或违纪", required=False)
    category_1 = forms.ModelChoiceField(
        label="一级分类", queryset=Category.objects.none(), required=False, to_field_name="code"
    )
    category_2 = forms.ModelChoiceField(
        label="二级分类", queryset=Category.objects.none(), required=False, to_field_name="code"
    )
    category_3 = forms.ModelChoiceField(
        label="三级分类", queryset=Category.objects.none(), required=False, to_field_name="code"
    )
    title = forms.CharField(label="标题", max_length=TITLE_MAX_LENGTH)
    content = forms.CharField(
        label="诉求内容", max_length=CONTENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )
    division = DivisionChoiceField(label="发生地区划", queryset=Division.objects.none())
    address = forms.CharField(label="地址", max_length=ADDRESS_MAX_LENGTH, required=False)
    requester_name = forms.CharField(label="诉求人姓名", max_length=40, required=False)
    requester_phone = forms.CharField(label="联系电话", max_length=30, required=False)
    requester_id_number = forms.CharField(label="身份证号码（选填）", max_length=30, required=False)
    # The service drops the name and phone of an anonymous request; the form only says so.
    is_anonymous = forms.BooleanField(label="匿名（不登记姓名和电话）", required=False)
    is_confidential = forms.BooleanField(label="要求保密", required=False)
    allow_unit_contact = forms.BooleanField(label="同意承办单位联系", required=False)
    # One-time token against a double submit of the same form (see views.intake).
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = Category.objects.filter(is_active=True)
        _offer(self, "category_1", active.filter(level=1))
        # Levels 2 and 3 accept any active child; the options shown are filtered by htmx.
        _offer(self, "category_2", active.filter(level=2))
        _offer(self, "category_3", active.filter(level=3))
        _offer(self, "division", divisions_for(user).order_by("code"))

    def clean_requester_phone(self) -> str:
        value = self.cleaned_data["requester_phone"].strip()
        return validators.normalise_phone(value) if value else ""

    def clean_requester_id_number(self) -> str:
        value = self.cleaned_data["requester_id_number"].strip()
        return validators.validate_id_number(value) if value else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first, second, third = (data.get(f"category_{n}") for n in (1, 2, 3))
        if second is not None and second.parent_id != getattr(first, "pk", None):
            self.add_error("category_2", f"二级分类“{second.name}”不属于所选一级分类")
        if third is not None and third.parent_id != getattr(second, "pk", None):
            self.add_error("category_3", f"三级分类“{third.name}”不属于所选二级分类")
        data["category"] = third or second or first
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = [
            "channel",
            "request_type",
            "urgency",
            "is_complex",
            "concerns_conduct",
            "title",
            "content",
            "address",
            "requester_name",
            "requester_phone",
            "requester_id_number",
            "is_anonymous",
            "is_confidential",
            "allow_unit_contact",
        ]
        return {"category": data["category"], "division": data["division"], **{n: data[n] for n in names}}


# ------------------------------------------------------------------------------------ actions


class ActionForm(forms.Form):
    """Base of the action forms: `transition_kwargs()` gives the keyword arguments of the action."""

    def __init__(self, *args: Any, order: WorkOrder, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.user = user

    def transition_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class EmptyForm(ActionForm):
    """签收: nothing to fill in."""


class TextForm(ActionForm):
    text = forms.CharField(label="内容", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}))


class AnswerForm(TextForm):
    text = forms.CharField(
        label="答复内容", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )


class NoteForm(TextForm):
    text = forms.CharField(
        label="办理记录", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class DraftReplyForm(TextForm):
    text = forms.CharField(
        label="答复内容", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )


class DispatchForm(ActionForm):
    main_unit = UnitChoiceField(
        label="主办单位", queryset=Unit.objects.none(), required=False, empty_label="按派单目录"
    )
    co_units = UnitMultipleChoiceField(label="协办单位", queryset=Unit.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = handling_units_for(self.user)
        _offer(self, "main_unit", units)
        _offer(self, "co_units", units)

    def transition_kwargs(self) -> dict[str, Any]:
        return {"main_unit": self.cleaned_data["main_unit"], "co_units": list(self.cleaned_data["co_units"])}


class ReturnRequestForm(ActionForm):
    reason = forms.CharField(
        label="退单理由", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = forms.FileField(
        label="依据材料（三定方案、权责清单等）",
        widget=forms.ClearableFileInput(attrs={"accept": uploads.EVIDENCE.accept}),
    )


class ReviewReturnForm(DispatchForm):
    decision = forms.ChoiceField(
        label="审核结论",
        choices=[("reassign", "同意退单，改派"), ("overrule", "驳回，审定由原单位办理（不当退单）")],
    )
    note = forms.CharField(
        label="审核意见（驳回时必填）",
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ["decision", "note", "main_unit", "co_units"]

    def transition_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"decision": data["decision"], "note": data["note"]}
        if data["decision"] == "reassign":
            kwargs |= {"main_unit": data["main_unit"], "co_units": list(data["co_units"])}
        return kwargs


class ExtensionForm(ActionForm):
    days = forms.IntegerField(label="延期工作日", min_value=1, max_value=60)
    reason = forms.CharField(
        label="延期理由", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(ActionForm):
    """Approve or not, with a note (required when not approving; the service says so)."""

    approve = forms.ChoiceField(
        label="结论", choices=[("yes", "同意"), ("no", "不同意")], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="意见", max_length=TEXT_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def transition_kwargs(self) -> dict[str, Any]:
        return {"approve": self.cleaned_data["approve"] == "yes", "note": self.cleaned_data["note"]}


class CallbackForm(ActionForm):
    reached = forms.ChoiceField(label="联系上诉求人", choices=YES_NO, initial="yes", widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(
        label="满意度", choices=[("", "—"), *Satisfaction.choices], required=False
    )
    resolved = forms.ChoiceField(label="诉求已解决", choices=[("", "—"), *YES_NO], required=False)
    false_completion = forms.BooleanField(label="虚假办结", required=False)
    reopen = forms.BooleanField(label="不满意，退回原单位重办", required=False)
    note = forms.CharField(
        label="回访记录", max_length=TEXT_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def transition_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reached": data["reached"] == "yes",
            "satisfaction": data["satisfaction"],
            "resolved": _yes_no(data["resolved"]),
            "false_completion": data["false_completion"],
            "reopen": data["reopen"],
            "note": data["note"],
        }


class MergeForm(ActionForm):
    """并单: the main order by its tracking code (the page offers the merge suggestions)."""

    into = forms.CharField(label="并入工单（受理编号）", max_length=24)

    def clean_into(self) -> WorkOrder:
        from zhengfeng.hotline.queries import work_orders_for

        code = self.cleaned_data["into"].strip().upper()
        main = work_orders_for(self.user).filter(code=code).first()
        if main is None:
            raise ValidationError(f"受理编号 {code} 不存在或不在您的权限范围内")
        return main


class VoidForm(ActionForm):
    reason = forms.CharField(
        label="作废理由", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReferForm(ActionForm):
    to_unit = UnitChoiceField(label="移送至", queryset=Unit.objects.none(), empty_label=None)
    reason = forms.CharField(
        label="移送理由", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer(self, "to_unit", discipline_units_for(self.user))


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "answer": AnswerForm,
    "dispatch": DispatchForm,
    "sign": EmptyForm,
    "request_return": ReturnRequestForm,
    "review_return": ReviewReturnForm,
    "note": NoteForm,
    "request_extension": ExtensionForm,
    "decide_extension": DecisionForm,
    "draft_reply": DraftReplyForm,
    "approve_reply": DecisionForm,
    "review_reply": DecisionForm,
    "callback": CallbackForm,
    "merge": MergeForm,
    "void": VoidForm,
    "refer": ReferForm,
}


# ------------------------------------------------------------------------------------ requester, filters


class RevealForm(forms.Form):
    purpose = forms.CharField(label="查看用途", max_length=100, initial="回访联系诉求人")


class OrderFilterForm(forms.Form):
    """Filters of the order list; a bad value is reported and that filter ignored."""

    q = forms.CharField(label="受理编号／标题", required=False, max_length=60)
    status = forms.ChoiceField(label="状态", choices=[("", "全部"), *Status.choices], required=False)
    unit = forms.IntegerField(label="主办单位", required=False, widget=forms.Select)
    channel = forms.ChoiceField(label="来源渠道", choices=[("", "全部"), *Channel.choices], required=False)
    request_type = forms.ChoiceField(
        label="诉求类型", choices=[("", "全部"), *RequestType.choices], required=False
    )
    overdue = forms.ChoiceField(
        label="超期", choices=[("", "全部"), ("sign", "签收超期"), ("reply", "办理超期")], required=False
    )
    received_from = forms.DateField(
        label="受理日期自", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start: dt.date | None = data.get("received_from")
        end: dt.date | None = data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", f"结束日期 {end} 早于开始日期 {start}")
        return data
