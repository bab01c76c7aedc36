from django.urls import path

from zhengfeng.org import views

app_name = "org"

urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
]
