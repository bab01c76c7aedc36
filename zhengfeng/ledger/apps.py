from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "zhengfeng.ledger"
    label = "ledger"
    verbose_name = "工作落实"
