from zhengfeng.core.navigation import menu_entry
from zhengfeng.org.models import ALL_ROLES

menu_entry("站内消息", url_name="inbox:list", roles=ALL_ROLES, order=30)
