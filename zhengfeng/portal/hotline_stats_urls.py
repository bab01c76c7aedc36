"""Published hotline statistics (public) and their management (office), under /portal/hotline/stats/."""

from django.urls import path

from zhengfeng.portal import hotline_stats_views as views

app_name = "hotline_stats"

urlpatterns = [
    path("", views.public_list, name="list"),
    path("<int:pk>/", views.public_detail, name="detail"),
    path("manage/", views.manage, name="manage"),
    path("manage/publish/", views.publish, name="publish"),
    path("manage/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
