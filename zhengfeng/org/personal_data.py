"""Showing personal data in full: only to the roles that need it, and every view is audited.

Lists always show masked values (`core.templatetags.masking`). A detail page that offers the full value
calls `reveal()`, which refuses other roles and writes the `personal_data.viewed` audit row.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from zhengfeng.core import audit
from zhengfeng.org.models import User
from zhengfeng.org.queries import can_see_personal_data


def reveal(
    obj: models.Model,
    fields: list[str],
    *,
    by: User,
    purpose: str,
    division_code: str = "",
    granted_by_domain_rule: bool = False,
) -> dict[str, str]:
    """Return the plaintext of `fields` of `obj` for `by`, auditing the view.

    Raises PermissionDenied for roles without access to personal data, unless the calling domain has
    already decided that `by` needs these fields (`granted_by_domain_rule`, e.g. the hotline operator
    calling a requester back). `purpose` (why it is needed) is always required and stored with the
    audit row.
    """
    if not (granted_by_domain_rule or can_see_personal_data(by)):
        raise PermissionDenied("当前角色无权查看完整个人信息")
    if not purpose.strip():
        raise PermissionDenied("查看完整个人信息须注明用途")
    values = {field: str(getattr(obj, field) or "") for field in fields}
    with transaction.atomic():
        audit.record(
            "personal_data.viewed",
            by=by,
            target=obj,
            division_code=division_code,
            data={"fields": fields, "purpose": purpose.strip()},
        )
    return values
