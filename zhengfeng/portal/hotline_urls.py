"""Public pages of the hotline domain, included by portal/urls.py."""

from django.urls import include, path

from zhengfeng.portal import hotline_views

urlpatterns: list = [
    path("file/", hotline_views.file_request, name="hotline_file"),
    path("track/", hotline_views.track_request, name="hotline_track"),
    path("stats/", include("zhengfeng.portal.hotline_stats_urls")),
]
