from django.urls import path

from zhengfeng.ledger import views

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
