from __future__ import annotations

from django.urls import path

from zhengfeng.messaging import views

app_name = "messaging"

urlpatterns = [
    path("sms/inbound", views.inbound_sms, name="sms_inbound"),
    path("sms/receipt", views.delivery_receipt, name="sms_receipt"),
]
