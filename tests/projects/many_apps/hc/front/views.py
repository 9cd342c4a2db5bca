from django.shortcuts import render

from hc.api.models import Check


def index(request):
    return render(request, "front/welcome.html", {"checks": Check.objects.order_by("name")})
