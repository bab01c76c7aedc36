from zhengfeng.core.navigation import menu_entry

OVERSIGHT = {"admin", "office", "inspector"}
UNITS = {"liaison", "handler", "head"}

menu_entry("实施方案", url_name="ledger:plan_list", roles=OVERSIGHT, order=40)
menu_entry("我的台帐", url_name="ledger:my_ledgers", roles=UNITS, order=50)
menu_entry("工作台帐", url_name="ledger:ledger_list", roles=OVERSIGHT, order=60)
menu_entry("季度报送", url_name="ledger:report_home", roles=OVERSIGHT | UNITS, order=70)
menu_entry("督查整改", url_name="ledger:review_home", roles=OVERSIGHT | UNITS, order=80)
