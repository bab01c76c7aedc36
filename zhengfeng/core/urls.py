from django.urls import path

from zhengfeng.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
]
