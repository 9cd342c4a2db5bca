from django import forms
from django.shortcuts import redirect, render

from .models import Document


class UploadForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title", "file"]


def home(request):
    return render(request, "pages/home.html", {"documents": Document.objects.order_by("-id")[:5]})


def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("home")
    return render(request, "pages/upload.html", {"form": form})
