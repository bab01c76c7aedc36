from zhengfeng.core.navigation import menu_entry

menu_entry("热线受理", url_name="hotline:workbench", roles={"admin", "operator"}, order=130)
menu_entry(
    "热线工单", url_name="hotline:order_list", roles={"admin", "office", "inspector", "operator"}, order=140
)
menu_entry("热线待办", url_name="hotline:inbox", roles={"liaison", "handler", "head"}, order=150)
menu_entry(
    "热线统计", url_name="hotline_stats:index", roles={"admin", "office", "inspector", "operator"}, order=160
)
