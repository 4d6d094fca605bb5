"""未照合レセプト screens: pages (GET) need 給付の閲覧, every change is a POST to its own URL
needing 給付の決定."""

from django.urls import path

from kokuho.web import views_claims

urlpatterns = [
    path("claims/unmatched/", views_claims.claims_unmatched, name="claims_unmatched"),
    path("claims/unmatched/rematch/", views_claims.claims_rematch_view, name="claims_rematch"),
    path(
        "claims/unmatched/<int:claim_id>/",
        views_claims.claim_unmatched_detail,
        name="claim_unmatched_detail",
    ),
    path(
        "claims/unmatched/<int:claim_id>/assign/",
        views_claims.claim_assign_view,
        name="claim_assign",
    ),
    path(
        "claims/unmatched/<int:claim_id>/return/",
        views_claims.claim_return_view,
        name="claim_return",
    ),
]
