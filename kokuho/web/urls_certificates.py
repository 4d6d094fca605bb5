from django.urls import path

from kokuho.web import views_certificates as v

urlpatterns = [
    path("people/<str:atena_no>/documents/", v.documents_person, name="documents_person"),
    path("people/<str:atena_no>/documents/myna/", v.documents_myna, name="documents_myna"),
    path(
        "people/<str:atena_no>/documents/issue/",
        v.documents_issue_basic,
        name="documents_issue_basic",
    ),
    path(
        "people/<str:atena_no>/documents/certificate/",
        v.documents_certificate,
        name="documents_certificate",
    ),
    path("documents/returns/", v.documents_returns, name="documents_returns"),
    path(
        "documents/returns/letters/",
        v.documents_return_letters,
        name="documents_return_letters",
    ),
    path("documents/renewals/", v.documents_renewals, name="documents_renewals"),
    path("documents/renewals/start/", v.documents_renewal_start, name="documents_renewal_start"),
    path(
        "documents/renewals/<int:run_id>/",
        v.documents_renewal_detail,
        name="documents_renewal_detail",
    ),
    path("documents/<str:serial>/pdf/", v.document_pdf, name="document_pdf"),
    path("documents/<str:serial>/reissue/", v.document_reissue, name="document_reissue"),
    path("documents/<str:serial>/return/", v.document_return, name="document_return"),
]
