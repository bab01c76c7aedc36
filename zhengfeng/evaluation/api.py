"""JSON API of the evaluation app, mounted at /api/v1/evaluation/ in config/api.py."""

from ninja import Router

router = Router(tags=["evaluation"])
