"""Public pages of the hotline domain, included by portal/urls.py."""

urlpatterns: list = []
