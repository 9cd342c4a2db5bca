from django.contrib import admin

from .models import Greeting


@admin.register(Greeting)
class GreetingAdmin(admin.ModelAdmin):
    list_display = ["text", "attachment", "created"]
    search_fields = ["text"]
