from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "zhengfeng.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        # Each app's jobs.py registers its periodic worker jobs with @periodic, and its
        # publishing.py its kinds of publication with the publication engine.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
        autodiscover_modules("publishing")

        from zhengfeng.core.checks import check_field_key

        checks.register(check_field_key)
        post_migrate.connect(_record_key_check_value, sender=self)


def _record_key_check_value(sender: AppConfig, using: str, **kwargs: Any) -> None:
    """A database gets its key check value when first migrated (an old one: if its data is under the key)."""
    from zhengfeng.core.keys import key_problem

    if using == "default":
        key_problem()
