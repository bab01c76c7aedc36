from django.contrib.auth import views as auth_views
from django.urls import path

from zhengfeng.staff import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("2fa/", views.two_factor, name="two_factor"),
    path("2fa/qr.svg", views.two_factor_qr, name="two_factor_qr"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("workbench/", views.workbench, name="workbench"),
    path("audit/", views.audit_log, name="audit_log"),
]
