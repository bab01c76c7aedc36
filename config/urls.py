"""URL wiring only: each app's urls, the API, the admin."""

from django.contrib import admin
from django.urls import include, path

from config.api import api

admin.site.site_header = "正风 系统管理"
admin.site.site_title = "正风"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", include("zhengfeng.core.urls")),
    path("", include("zhengfeng.staff.urls")),
    path("org/", include("zhengfeng.org.urls")),
    path("alerts/", include("zhengfeng.alerts.urls")),
    path("hooks/", include("zhengfeng.messaging.urls")),
    path("ledger/", include("zhengfeng.ledger.urls")),
    path("messages/", include("zhengfeng.messaging.inbox_urls")),
    path("hotline/stats/", include("zhengfeng.hotline.stats_urls")),
    path("hotline/", include("zhengfeng.hotline.urls")),
    path("evaluation/", include("zhengfeng.evaluation.urls")),
    path("portal/", include("zhengfeng.portal.urls")),
    path("open311/", include("zhengfeng.hotline.open311_urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
