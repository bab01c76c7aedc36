"""Staff pages of the hotline metrics (统计), mounted at /hotline/stats/."""

from django.urls import path

from zhengfeng.hotline import stats_views

app_name = "hotline_stats"

urlpatterns: list = [
    path("", stats_views.index, name="index"),
    path("export.xlsx", stats_views.export, name="export"),
    path("unit/<int:pk>/", stats_views.unit_detail, name="unit"),
    path("overdue/", stats_views.overdue, name="overdue"),
    path("radio/", stats_views.radio, name="radio"),
]
