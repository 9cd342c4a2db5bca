from django.urls import path

from .views import BookCreateView

app_name = "books"
urlpatterns = [
    path("add/", BookCreateView.as_view(), name="add"),
]
