from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "zhengfeng.deadlines"
    label = "deadlines"
    verbose_name = "工作日与时限"
