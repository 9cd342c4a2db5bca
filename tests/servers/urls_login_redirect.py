"""A site whose home page sends visitors to a login page that is broken
(its template is missing), as a project behind a login is: the warm-up must
follow the redirect to find out. Other redirects: off-site, and a loop."""

from django.http import HttpResponseRedirect
from django.urls import include, path
from django.views.generic import RedirectView

from tests.testproject import views


def loop(request):
    return HttpResponseRedirect(f"/loop/?n={int(request.GET.get('n', 0)) + 1}")


urlpatterns = [
    path("", RedirectView.as_view(url="/accounts/login/?next=/")),
    path("accounts/login/", views.broken),
    path("relative/", RedirectView.as_view(url="../accounts/login/")),
    path("same-host/", RedirectView.as_view(url="https://localhost/accounts/login/")),
    path("offsite/", RedirectView.as_view(url="https://elsewhere.example/accounts/login/")),
    path("loop/", loop),
    path("hello/", views.hello),
    path("to-hello/", RedirectView.as_view(url="/hello/")),
    path("", include("django_zipserve.urls")),
]
