from django.urls import include, path

urlpatterns = [
    path("", include("kokuho.web.urls")),
]
