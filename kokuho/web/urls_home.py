"""ホーム: the one page every signed-in account may open."""

from django.urls import path

from kokuho.web import views_home

urlpatterns = [path("home/", views_home.home, name="home")]
