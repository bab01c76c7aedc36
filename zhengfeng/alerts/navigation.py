from zhengfeng.core.navigation import menu_entry
from zhengfeng.org.models import ALL_ROLES

menu_entry("预警与督办", url_name="alerts:inbox", roles=ALL_ROLES, order=20)
