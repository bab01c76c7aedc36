"""System check core.E001: the configured FIELD_ENCRYPTION_KEY is the database's.

Django runs it before every management command that checks (serve, worker, migrate, demo, runserver,
the imports …); config/wsgi.py runs the same test when gunicorn loads the application.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error
from django.db import DatabaseError


def check_field_key(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if os.environ.get("ZHENGFENG_OFFLINE_COMMAND"):
        return []  # makemigrations, openapi: code only, with a placeholder key
    from zhengfeng.core.keys import key_problem

    try:
        problem = key_problem()
    except DatabaseError:
        # No database to compare with (server down, no file yet): the command fails there, clearly,
        # if it needs one; `makemigrations` or `check --deploy` on a build machine do not.
        return []
    if problem is None:
        return []
    return [Error(problem, id="core.E001")]
