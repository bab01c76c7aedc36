from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "zhengfeng.staff"
    label = "staff"
    verbose_name = "工作人员端"

    def ready(self) -> None:
        # Each app's navigation.py registers its menu entries (core.navigation.menu_entry) and its panels.py
        # its workbench panels (core.panels.workbench_panel), as jobs.py registers worker jobs; the shell
        # only reads the registries, so it imports no domain.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("navigation", "panels")
