from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "zhengfeng.alerts"
    label = "alerts"
    verbose_name = "预警督办"
