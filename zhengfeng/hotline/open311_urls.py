"""Open311 GeoReport v2 under /open311/ (discovery at /open311/discovery.{json,xml}, API at /open311/v2/)."""

urlpatterns: list = []
