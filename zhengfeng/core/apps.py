from django.apps import AppConfig


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
