"""調査・求償の案件 screens. Pages (GET) need 給付の閲覧; every change is a POST to its own
URL needing 給付の決定, as is the notice's PDF."""

from django.urls import path

from kokuho.web import views_cases

urlpatterns = [
    path("cases/", views_cases.cases_list, name="cases_list"),
    path("cases/report/", views_cases.cases_report_view, name="cases_report"),
    path("cases/<int:case_id>/", views_cases.case_detail, name="case_detail"),
    path("cases/<int:case_id>/refund/", views_cases.case_refund, name="case_refund"),
    path(
        "cases/<int:case_id>/instalments/",
        views_cases.case_instalments,
        name="case_instalments",
    ),
    path("cases/<int:case_id>/receipt/", views_cases.case_receipt, name="case_receipt"),
    path("cases/<int:case_id>/consent/", views_cases.case_consent, name="case_consent"),
    path("cases/<int:case_id>/close/", views_cases.case_close_view, name="case_close"),
    path(
        "cases/<int:case_id>/notices/<int:number>/",
        views_cases.case_notice,
        name="case_notice",
    ),
]
