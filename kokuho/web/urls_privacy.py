"""開示等請求 (data-subject requests), export register and retention records screens."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
