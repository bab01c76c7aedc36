"""The public site (no login). Each domain's public pages live in portal/<domain>_views.py and
portal/<domain>_urls.py, included here."""

from django.urls import include, path

from zhengfeng.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.index, name="index"),
    path("hotline/", include("zhengfeng.portal.hotline_urls")),
    path("evaluation/", include("zhengfeng.portal.evaluation_urls")),
]
