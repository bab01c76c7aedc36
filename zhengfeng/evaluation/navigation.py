from zhengfeng.core.navigation import menu_entry

OVERSIGHT = {"admin", "office", "inspector"}

menu_entry(
    "执法评议", url_name="evaluation:action_list", roles=OVERSIGHT | {"liaison", "handler", "head"}, order=90
)
menu_entry("评议得分", url_name="evaluation:scores", roles=OVERSIGHT, order=100)
menu_entry("评议复核", url_name="evaluation:flags", roles=OVERSIGHT, order=110)
menu_entry("评议线索", url_name="evaluation:clues", roles={"admin", "inspector"}, order=120)
