from django.urls import path

from zhengfeng.ledger import ledger_views, views

app_name = "ledger"

urlpatterns = [
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/sections/new/", views.section_create, name="section_create"),
    path("plans/<int:pk>/tasks/new/", views.task_create, name="task_create"),
    path("plans/<int:pk>/versions/", views.plan_versions, name="plan_versions"),
    path("plans/<int:pk>/versions/<int:number>/", views.version_detail, name="version_detail"),
    path("sections/<int:pk>/edit/", views.section_edit, name="section_edit"),
    path("sections/<int:pk>/delete/", views.section_delete, name="section_delete"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/delete/", views.task_delete, name="task_delete"),
    path("tasks/<int:pk>/responsibilities/", views.responsibility_set, name="responsibility_set"),
    path("responsibilities/<int:pk>/remove/", views.responsibility_remove, name="responsibility_remove"),
]

# Work ledgers (台帐).
urlpatterns += [
    path("ledgers/", ledger_views.ledger_list, name="ledger_list"),
    path("ledgers/mine/", ledger_views.my_ledgers, name="my_ledgers"),
    path("ledgers/export/", ledger_views.ledger_export, name="ledger_export"),
    path("ledgers/import/", ledger_views.ledger_import, name="ledger_import"),
    path("ledgers/new/<int:task_pk>/", ledger_views.ledger_create, name="ledger_create"),
    path("ledgers/<int:pk>/", ledger_views.ledger_detail, name="ledger_detail"),
    path("ledgers/<int:pk>/edit/", ledger_views.ledger_edit, name="ledger_edit"),
    path("ledgers/<int:pk>/status/", ledger_views.ledger_status, name="ledger_status"),
    path("ledgers/<int:pk>/steps/new/", ledger_views.step_add, name="step_add"),
    path("ledgers/<int:pk>/progress/new/", ledger_views.progress_add, name="progress_add"),
    path("steps/<int:pk>/edit/", ledger_views.step_edit, name="step_edit"),
    path("steps/<int:pk>/done/", ledger_views.step_done, name="step_done"),
    path("steps/<int:pk>/remove/", ledger_views.step_remove, name="step_remove"),
    path("attachments/<int:pk>/", ledger_views.attachment_download, name="attachment_download"),
]
