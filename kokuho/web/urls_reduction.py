"""一部負担金の減額・免除・徴収猶予 and 高額介護合算療養費 screens.

Pages are GET with 給付の閲覧; every change is a POST to its own URL with 給付の決定; the
entry forms are one URL each with 給付の決定."""

from django.urls import path

from kokuho.web import views_gassan, views_reduction

urlpatterns = [
    path(
        "benefits/reductions/",
        views_reduction.reduction_applications,
        name="reduction_applications",
    ),
    path(
        "benefits/reductions/new/",
        views_reduction.reduction_application_new,
        name="reduction_application_new",
    ),
    path(
        "benefits/reductions/<int:application_id>/",
        views_reduction.reduction_application_detail,
        name="reduction_application_detail",
    ),
    path(
        "benefits/reductions/<int:application_id>/decision/",
        views_reduction.reduction_decision_new,
        name="reduction_decision_new",
    ),
    path(
        "benefits/reductions/decisions/<int:decision_id>/extend/",
        views_reduction.reduction_decision_extend,
        name="reduction_decision_extend",
    ),
    path(
        "benefits/reductions/decisions/<int:decision_id>/certificate.pdf",
        views_reduction.reduction_certificate_pdf,
        name="reduction_certificate_pdf",
    ),
    path(
        "benefits/reductions/decisions/<int:decision_id>/notice.pdf",
        views_reduction.reduction_notice_pdf,
        name="reduction_notice_pdf",
    ),
    path("benefits/gassan/", views_gassan.gassan_years, name="gassan_years"),
    path("benefits/gassan/<int:year>/", views_gassan.gassan_year, name="gassan_year"),
    path(
        "benefits/gassan/results/<int:result_id>/apply/",
        views_gassan.gassan_application_new,
        name="gassan_application_new",
    ),
]
