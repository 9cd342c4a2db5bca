from django.urls import reverse_lazy
from django.views.generic import CreateView

from .forms import BookForm


class BookCreateView(CreateView):
    form_class = BookForm
    template_name = "books/add.html"
    success_url = reverse_lazy("home")
