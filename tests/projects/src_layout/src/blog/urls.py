from django.urls import path

from blog.posts import views

urlpatterns = [
    path("", views.index, name="index"),
    path("attach/", views.attach, name="attach"),
]
