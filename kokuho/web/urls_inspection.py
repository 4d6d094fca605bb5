"""自己点検 (self-inspection) screens: 監査担当 under /inspections/, 所属長 under
/inspections/review/ (same templates; each view declares its own permission)."""

from django.urls import path

from kokuho.web import views_inspection

urlpatterns = [
    path("inspections/", views_inspection.inspection_list, name="inspection_list"),
    path("inspections/run/", views_inspection.inspection_run, name="inspection_run"),
    path(
        "inspections/<int:inspection_id>/",
        views_inspection.inspection_detail,
        name="inspection_detail",
    ),
    path(
        "inspections/<int:inspection_id>/report.<str:fmt>",
        views_inspection.inspection_report_download,
        name="inspection_report",
    ),
    path(
        "inspections/review/",
        views_inspection.inspection_review_list,
        name="inspection_review_list",
    ),
    path(
        "inspections/review/<int:inspection_id>/",
        views_inspection.inspection_review_detail,
        name="inspection_review_detail",
    ),
    path(
        "inspections/review/<int:inspection_id>/report.<str:fmt>",
        views_inspection.inspection_review_report_download,
        name="inspection_review_report",
    ),
]
