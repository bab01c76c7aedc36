from django.urls import path

from zhengfeng.ledger.ledgers import views as ledger_views
from zhengfeng.ledger.plans import views
from zhengfeng.ledger.reports import views as reports_views
from zhengfeng.ledger.reviews import views as review_views

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

# Quarterly reports (季度报送) and review rounds (督查检查).
urlpatterns += [
    path("reports/", reports_views.report_home, name="report_home"),
    path("reports/dashboard/", reports_views.report_dashboard, name="report_dashboard"),
    path("reports/export/", reports_views.report_export, name="report_export"),
    path("reports/notice/<int:rule_pk>/<str:period>/", reports_views.report_notice, name="report_notice"),
    path("reports/mine/", reports_views.my_reports, name="my_reports"),
    path("reports/<int:pk>/", reports_views.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", reports_views.report_edit, name="report_edit"),
    path("reports/<int:pk>/submit/", reports_views.report_submit, name="report_submit"),
    path("reports/<int:pk>/return/", reports_views.report_return, name="report_return"),
    path("reports/<int:pk>/accept/", reports_views.report_accept, name="report_accept"),
    path("reports/attachments/<int:pk>/", reports_views.report_attachment, name="report_attachment"),
    path("reviews/", review_views.review_home, name="review_home"),
    path("reviews/new/", review_views.review_create, name="review_create"),
    path("reviews/<int:pk>/", review_views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/findings/new/", review_views.finding_add, name="finding_add"),
    path("findings/<int:pk>/demand/", review_views.demand_issue, name="demand_issue"),
    path("demands/<int:pk>/", review_views.demand_detail, name="demand_detail"),
    path("demands/<int:pk>/submit/", review_views.demand_submit, name="demand_submit"),
    path("demands/<int:pk>/review/", review_views.demand_review, name="demand_review"),
]
