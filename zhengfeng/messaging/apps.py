from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "zhengfeng.messaging"
    label = "messaging"
    verbose_name = "消息"
