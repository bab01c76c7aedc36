"""JSON API of the hotline app, mounted at /api/v1/hotline/ in config/api.py."""

from ninja import Router

router = Router(tags=["hotline"])
