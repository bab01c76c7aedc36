from django.urls import path

from zhengfeng.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.action_list, name="action_list"),
    path("actions/new/", views.action_create, name="action_create"),
    path("scores/", views.score_table, name="scores"),
    path("scores/export.xlsx", views.score_export, name="score_export"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<str:kind>/<int:pk>/review/", views.flag_review, name="flag_review"),
    path("clues/", views.clue_list, name="clues"),
    path("results/<int:year_id>/publish/", views.results_publish, name="results_publish"),
    path("results/<int:pk>/withdraw/", views.results_withdraw, name="results_withdraw"),
]
