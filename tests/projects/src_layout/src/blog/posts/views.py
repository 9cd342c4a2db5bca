from django import forms
from django.shortcuts import redirect, render

from .models import Attachment


class AttachmentForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ["label", "file"]


def index(request):
    return render(request, "posts/index.html", {"attachments": Attachment.objects.all()})


def attach(request):
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("index")
    return render(request, "posts/attach.html", {"form": form})
