from django.conf import settings
from django.shortcuts import render

import example_project

from .models import Greeting


def home(request):
    context = {
        "greeting": settings.GREETING,
        "version": example_project.__version__,
        "greetings": Greeting.objects.all()[:10],
    }
    return render(request, "home.html", context)
