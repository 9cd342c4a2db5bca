from django.conf import settings
from django.shortcuts import redirect, render

import example_project

from .forms import GreetingForm
from .models import Greeting


def home(request):
    form = GreetingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        # Post/redirect/get: a reload does not sign the guestbook twice.
        return redirect("home")
    context = {
        "greeting": settings.GREETING,
        "version": example_project.__version__,
        "greetings": Greeting.objects.all()[:10],
        "form": form,
    }
    return render(request, "home.html", context)
