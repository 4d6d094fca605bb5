"""高額療養費 screens (給付担当): runs, results, applications, decisions, notices.

Pages are GET with 給付の閲覧; every change is a POST to its own URL with 給付の決定."""

from django.urls import path

from kokuho.web import views_benefits

urlpatterns = [
    path("kogaku/", views_benefits.kogaku_runs, name="kogaku_runs"),
    path("kogaku/runs/new/", views_benefits.kogaku_run_start, name="kogaku_run_start"),
    path("kogaku/runs/<int:run_id>/", views_benefits.kogaku_run_detail, name="kogaku_run_detail"),
    path(
        "kogaku/runs/<int:run_id>/invitations.pdf",
        views_benefits.kogaku_invitations_pdf,
        name="kogaku_invitations_pdf",
    ),
    path(
        "kogaku/results/<int:result_id>/",
        views_benefits.kogaku_result_detail,
        name="kogaku_result_detail",
    ),
    path(
        "kogaku/results/<int:result_id>/application/",
        views_benefits.kogaku_application_new,
        name="kogaku_application_new",
    ),
    path(
        "kogaku/results/<int:result_id>/decision/",
        views_benefits.kogaku_decision_new,
        name="kogaku_decision_new",
    ),
    path("kogaku/decisions/", views_benefits.kogaku_decisions, name="kogaku_decisions"),
    path("kogaku/decisions/paid/", views_benefits.kogaku_paid_new, name="kogaku_paid_new"),
    path(
        "kogaku/decisions/<int:decision_id>/notice.pdf",
        views_benefits.kogaku_decision_notice,
        name="kogaku_decision_notice",
    ),
    path("kogaku/households/", views_benefits.kogaku_carried_open, name="kogaku_carried_open"),
    path(
        "kogaku/households/<str:household_no>/carried/",
        views_benefits.kogaku_carried,
        name="kogaku_carried",
    ),
    path(
        "kogaku/households/<str:household_no>/carried/new/",
        views_benefits.kogaku_carried_new,
        name="kogaku_carried_new",
    ),
    path(
        "kogaku/households/<str:household_no>/carried/<int:carried_id>/withdraw/",
        views_benefits.kogaku_carried_withdraw,
        name="kogaku_carried_withdraw",
    ),
]
