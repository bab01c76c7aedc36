from django.urls import path

from zhengfeng.hotline import views

app_name = "hotline"

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("workbench/", views.workbench, name="workbench"),
    path("inbox/", views.inbox, name="inbox"),
    path("overdue/<str:kind>/", views.overdue, name="overdue"),
    path("new/", views.intake, name="intake"),
    path("new/categories/<int:level>/", views.category_options, name="category_options"),
    path("orders/<int:pk>/", views.detail, name="detail"),
    path("orders/<int:pk>/registered/", views.intake_done, name="intake_done"),
    path("orders/<int:pk>/act/<str:action>/", views.act, name="act"),
    path("orders/<int:pk>/requester/", views.requester, name="requester"),
    path("orders/<int:pk>/timeline/", views.timeline, name="timeline"),
    path("returns/<int:pk>/evidence/", views.return_evidence, name="return_evidence"),
]
