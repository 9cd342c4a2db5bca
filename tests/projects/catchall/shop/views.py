from django import forms
from django.shortcuts import redirect, render

from .models import Product


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "picture"]


def add_product(request):
    form = ProductForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("/shop/add/")
    return render(request, "shop/add.html", {"form": form, "products": Product.objects.all()})
