"""高額療養費 screens (給付担当): runs, results, applications, decisions, notices."""

from django.urls import path  # noqa: F401 — the screens' routes are added here

urlpatterns: list = []
