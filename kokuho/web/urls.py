from django.urls import path

from kokuho.web import views, views_identity

urlpatterns = [
    path("", views.search, name="search"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("people/<str:atena_no>/", views.person_detail, name="person_detail"),
    path(
        "people/<str:atena_no>/notifications/new/",
        views.notification_new,
        name="notification_new",
    ),
    path(
        "people/<str:atena_no>/my-number/", views_identity.my_number_panel, name="my_number_panel"
    ),
    path(
        "people/<str:atena_no>/my-number/reveal/",
        views_identity.my_number_reveal_view,
        name="my_number_reveal",
    ),
    path(
        "people/<str:atena_no>/my-number/register/",
        views_identity.my_number_register_view,
        name="my_number_register",
    ),
    path("households/<str:household_no>/", views.household_detail, name="household_detail"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:job_id>/", views.import_job_detail, name="import_job_detail"),
    path("imports/quarantine/", views.quarantine_list, name="quarantine_list"),
    path("imports/quarantine/<int:row_id>/", views.quarantine_detail, name="quarantine_detail"),
    path("healthz", views.healthz, name="healthz"),
]
