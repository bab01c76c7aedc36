"""Public pages of the evaluation domain, included by portal/urls.py."""

from django.urls import path

from zhengfeng.portal import evaluation_views

urlpatterns = [
    path("", evaluation_views.evaluation_index, name="evaluation_index"),
    path("units/<str:code>/", evaluation_views.evaluation_unit, name="evaluation_unit"),
    path(
        "units/<str:code>/staff/<int:pk>/photo/",
        evaluation_views.evaluation_staff_photo,
        name="evaluation_staff_photo",
    ),
    path("vote/", evaluation_views.evaluation_vote, name="evaluation_vote"),
    path("results/", evaluation_views.results_list, name="evaluation_results"),
    path("results/<int:pk>/", evaluation_views.results_detail, name="evaluation_result"),
]
