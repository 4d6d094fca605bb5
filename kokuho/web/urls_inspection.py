"""自己点検 (self-inspection) screens."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
