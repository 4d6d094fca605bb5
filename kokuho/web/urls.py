from django.urls import include, path

from kokuho.web import views, views_accounts, views_audit, views_identity

urlpatterns = [
    path("", views.search, name="search"),
    path("login/", views_accounts.login, name="login"),
    path("logout/", views_accounts.logout, name="logout"),
    path("account/mfa/", views_accounts.account_mfa_verify, name="account_mfa_verify"),
    path("account/mfa/enroll/", views_accounts.account_mfa_enroll, name="account_mfa_enroll"),
    path("accounts/review/", views_accounts.account_access_review, name="account_access_review"),
    path("accounts/locks/", views_accounts.account_locks, name="account_locks"),
    path(
        "accounts/staff/<str:username>/",
        views_accounts.account_staff_detail,
        name="account_staff_detail",
    ),
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
    path("imports/<int:job_id>/resume/", views.import_job_resume_view, name="import_job_resume"),
    path("imports/quarantine/", views.quarantine_list, name="quarantine_list"),
    path("imports/quarantine/<int:row_id>/", views.quarantine_detail, name="quarantine_detail"),
    path("incidents/", views_audit.incident_list, name="incident_list"),
    path("incidents/new/", views_audit.incident_new, name="incident_new"),
    path("incidents/<int:incident_id>/", views_audit.incident_detail, name="incident_detail"),
    path("incidents/<int:incident_id>/notes/", views_audit.incident_note, name="incident_note"),
    path("incidents/<int:incident_id>/mark/", views_audit.incident_mark, name="incident_mark"),
    path("", include("kokuho.web.urls_home")),
    path("", include("kokuho.web.urls_inspection")),
    path("", include("kokuho.web.urls_privacy")),
    path("", include("kokuho.web.urls_benefits")),
    path("", include("kokuho.web.urls_lifecycle")),
    path("", include("kokuho.web.urls_reduction")),
    path("", include("kokuho.web.urls_certificates")),
    path("", include("kokuho.web.urls_claims")),
    path("", include("kokuho.web.urls_cases")),
    path("", include("kokuho.web.urls_national_status")),
    path("", include("kokuho.web.urls_national")),
    path("", include("kokuho.web.urls_queue")),
    path("healthz", views.healthz, name="healthz"),
]
