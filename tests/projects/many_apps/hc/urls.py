from django.urls import include, path

urlpatterns = [
    path("", include("hc.front.urls")),
    path("accounts/", include("hc.accounts.urls")),
    path("ping/", include("hc.api.urls")),
]
