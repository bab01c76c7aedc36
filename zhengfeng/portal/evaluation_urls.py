"""Public pages of the evaluation domain, included by portal/urls.py."""

urlpatterns: list = []
