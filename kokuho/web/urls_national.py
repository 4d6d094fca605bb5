"""国保情報集約システム screens: 資格継続 work items and 高額該当引継 候補. Pages (GET) need the
閲覧 permission of their area, every change is a POST to its own URL needing 資格の異動処理
or 給付の決定."""

from django.urls import path

from kokuho.web import views_national

urlpatterns = [
    path("national/continuity/", views_national.national_continuity, name="national_continuity"),
    path(
        "national/continuity/<int:item_id>/accept/",
        views_national.national_continuity_accept,
        name="national_continuity_accept",
    ),
    path(
        "national/continuity/<int:item_id>/resolve/",
        views_national.national_continuity_resolve,
        name="national_continuity_resolve",
    ),
    path(
        "national/kogaku-carry/",
        views_national.national_carry_candidates,
        name="national_carry_candidates",
    ),
    path(
        "national/kogaku-carry/<int:candidate_id>/",
        views_national.national_carry_candidate,
        name="national_carry_candidate",
    ),
    path(
        "national/kogaku-carry/<int:candidate_id>/confirm/",
        views_national.national_carry_confirm,
        name="national_carry_confirm",
    ),
    path(
        "national/kogaku-carry/<int:candidate_id>/reject/",
        views_national.national_carry_reject,
        name="national_carry_reject",
    ),
]
