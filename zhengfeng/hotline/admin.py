from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from zhengfeng.hotline.models import Open311Submission, SubmissionState
from zhengfeng.hotline.services.submissions import requeue_open311_submission
from zhengfeng.org.auth import request_user


@admin.register(Open311Submission)
class Open311SubmissionAdmin(admin.ModelAdmin):
    """Read-only: the office watches the intake queue and queues a failed submission again once the
    cause is fixed. The requester's name and phone are not shown here (they reach the work order)."""

    list_display = ["code", "received_at", "state", "attempts", "category_code", "division_code", "api_key"]
    list_filter = ["state"]
    search_fields = ["code"]
    list_select_related = ["api_key"]
    date_hierarchy = "received_at"
    # A tuple, which the stubs take for `fields`; the page is read-only, so they are its read-only fields.
    fields = (
        "code",
        "state",
        "received_at",
        "api_key",
        "category_code",
        "request_type",
        "title",
        "division_code",
        "address",
        "attempts",
        "last_error",
        "registered_at",
        "order",
    )
    readonly_fields = fields
    actions = ["requeue"]

    @admin.action(description="重新登记所选的登记失败记录", permissions=["requeue"])
    def requeue(self, request: HttpRequest, queryset: QuerySet[Open311Submission]) -> None:
        done = 0
        for submission in queryset.filter(state=SubmissionState.FAILED):
            try:
                requeue_open311_submission(submission, by=request_user(request))
            except ValidationError as exc:
                self.message_user(request, "；".join(exc.messages), level=messages.WARNING)
                continue
            done += 1
        skipped = queryset.count() - done
        text = f"已重新排队 {done} 条，后台任务将在数秒内登记"
        if skipped:
            text += f"；{skipped} 条不是登记失败状态，未处理"
        self.message_user(request, text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Open311Submission | None = None) -> bool:
        return False

    def has_requeue_permission(self, request: HttpRequest) -> bool:
        # Whoever may change submissions may queue them again (the only change this admin allows).
        return request.user.has_perm("hotline.change_open311submission")

    def has_delete_permission(self, request: HttpRequest, obj: Open311Submission | None = None) -> bool:
        return False
