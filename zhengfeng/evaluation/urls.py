from django.urls import path

from zhengfeng.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.action_list, name="action_list"),
    path("actions/new/", views.action_create, name="action_create"),
    path("scores/", views.score_table, name="scores"),
]
