"""連携状況 (the national links' status) and 連携の作業項目: pages (GET), and each change a POST
to its own URL."""

from django.urls import path

from kokuho.web import views_national_items, views_national_status

urlpatterns = [
    path("national/status/", views_national_status.national_status_view, name="national_status"),
    path(
        "national/work-items/",
        views_national_items.national_work_items,
        name="national_work_items",
    ),
    path(
        "national/work-items/<int:item_id>/",
        views_national_items.national_work_item,
        name="national_work_item",
    ),
    path(
        "national/work-items/<int:item_id>/resend/",
        views_national_items.national_work_item_resend,
        name="national_work_item_resend",
    ),
    path(
        "national/work-items/<int:item_id>/confirm/",
        views_national_items.national_work_item_confirm,
        name="national_work_item_confirm",
    ),
]
