from django.urls import path

from zhengfeng.messaging import inbox_views

app_name = "inbox"

urlpatterns = [
    path("", inbox_views.inbox, name="list"),
    path("<int:pk>/", inbox_views.message_detail, name="detail"),
    path("read-all/", inbox_views.read_all, name="read_all"),
]
