from zhengfeng.core.navigation import menu_entry

menu_entry("单位", url_name="org:unit_list", roles={"admin", "office", "inspector", "operator"}, order=170)
