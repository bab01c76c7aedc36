"""The shell's own menu entries: the workbench first, the audit log last."""

from zhengfeng.core.navigation import menu_entry
from zhengfeng.org.models import ALL_ROLES

menu_entry("工作台", url_name="workbench", roles=ALL_ROLES, order=10)
menu_entry("审计日志", url_name="audit_log", roles={"admin", "inspector"}, order=180)
