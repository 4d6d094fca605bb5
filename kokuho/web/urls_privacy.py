"""開示等請求 (data-subject requests) and the export register screens."""

from django.urls import path

from kokuho.web import views_privacy

urlpatterns = [
    path("privacy/requests/", views_privacy.subject_request_list, name="subject_request_list"),
    path(
        "privacy/requests/<int:request_id>/",
        views_privacy.subject_request_detail,
        name="subject_request_detail",
    ),
    path(
        "privacy/requests/<int:request_id>/withdraw/",
        views_privacy.subject_request_withdrawn,
        name="subject_request_withdraw",
    ),
    path(
        "privacy/requests/<int:request_id>/disclosure.<str:fmt>",
        views_privacy.disclosure_download,
        name="disclosure_download",
    ),
    path("exports/", views_privacy.export_register_list, name="export_register"),
]
