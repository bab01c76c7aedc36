"""Open311 GeoReport v2 under /open311/ (discovery at /open311/discovery.{json,xml}, API at /open311/v2/).

The format is the suffix (.json or .xml); any other path under v2/ is a 404 in the spec's error format.
"""

from django.urls import re_path

from zhengfeng.hotline import open311

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^v2/services" + FMT, open311.service_list, name="services"),
    re_path(r"^v2/services/(?P<code>[^/]+?)" + FMT, open311.service_definition, name="service"),
    re_path(r"^v2/requests" + FMT, open311.requests, name="requests"),
    re_path(r"^v2/requests/(?P<request_id>[^/]+?)" + FMT, open311.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token_id>[^/]+?)" + FMT, open311.token, name="token"),
    re_path(r"^v2/servicerequestupdates" + FMT, open311.service_request_updates, name="updates"),
    re_path(r"^v2/(?P<path>.*?)" + FMT, open311.not_found, name="not_found"),
]
