from django.urls import include, path, re_path
from pages.views import page

urlpatterns = [
    path("shop/", include("shop.urls")),
    # The page tree answers every other path, as a CMS does.
    re_path(r"^(?P<slug>.*)$", page, name="page"),
]
