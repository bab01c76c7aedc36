"""Public pages of the hotline domain, included by portal/urls.py."""

from django.urls import include, path

urlpatterns: list = [
    path("stats/", include("zhengfeng.portal.hotline_stats_urls")),
]
