from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "zhengfeng.evaluation"
    label = "evaluation"
    verbose_name = "公述民评"
