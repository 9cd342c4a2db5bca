from django.urls import path

from . import views

urlpatterns = [path("<slug:name>/", views.ping, name="ping")]
