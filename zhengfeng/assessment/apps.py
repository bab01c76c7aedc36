from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "zhengfeng.assessment"
    label = "assessment"
    verbose_name = "考核"
