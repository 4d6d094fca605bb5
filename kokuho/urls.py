from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("kokuho.cityapi.urls")),
    path("", include("kokuho.web.urls")),
]
