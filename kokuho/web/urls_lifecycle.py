"""給付の申請・審査・決定 (葬祭費・出産育児一時金・療養費) and 支払処理 screens.

Pages are GET with 給付の閲覧 (the payment pages with 支払処理の閲覧); every change is a POST
to its own URL with 給付の決定; the entry form is one URL with 給付の決定."""

from django.urls import path

from kokuho.web import views_lifecycle, views_payment_returns, views_payments

urlpatterns = [
    path(
        "benefits/applications/",
        views_lifecycle.benefit_applications,
        name="benefit_applications",
    ),
    path(
        "benefits/applications/new/<str:benefit>/",
        views_lifecycle.benefit_application_new,
        name="benefit_application_new",
    ),
    path(
        "benefits/applications/<int:application_id>/",
        views_lifecycle.benefit_application_detail,
        name="benefit_application_detail",
    ),
    path(
        "benefits/applications/<int:application_id>/attachments/",
        views_lifecycle.benefit_attachment_receive,
        name="benefit_attachment_receive",
    ),
    path(
        "benefits/applications/<int:application_id>/decision/",
        views_lifecycle.benefit_decision_new,
        name="benefit_decision_new",
    ),
    path(
        "benefits/decisions/<int:decision_id>/notice.pdf",
        views_lifecycle.benefit_decision_notice,
        name="benefit_decision_notice",
    ),
    path("payments/", views_payments.payment_runs, name="payment_runs"),
    path("payments/held/", views_payments.payments_held, name="payments_held"),
    path("payments/returns/", views_payment_returns.payment_returns_upload, name="payment_returns"),
    path(
        "payments/held/<int:payment_id>/account/",
        views_payments.payment_account_correct_view,
        name="payment_account_correct",
    ),
    path(
        "payments/held/<int:payment_id>/reissue/",
        views_payments.payment_reissue_view,
        name="payment_reissue",
    ),
    path(
        "payments/<int:run_id>/files/<str:name>",
        views_payments.payment_run_file,
        name="payment_run_file",
    ),
]
