from django import forms
from django.shortcuts import redirect, render

from .models import Feeding


class FeedingForm(forms.ModelForm):
    class Meta:
        model = Feeding
        fields = ["note", "photo"]


def home(request):
    return render(request, "tracker/home.html", {"feedings": Feeding.objects.order_by("-id")[:5]})


def upload(request):
    form = FeedingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("home")
    return render(request, "tracker/upload.html", {"form": form})
