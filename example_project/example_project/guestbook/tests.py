from django.conf import settings
from django.test import TestCase
from django.urls import reverse

from .models import Greeting


class HomePageTests(TestCase):
    def test_home_page_renders_greeting_and_stylesheet(self):
        response = self.client.get(reverse("home"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, settings.GREETING)
        # Hashed (site.3f2a1c9e0b7d.css) once collected into the artifact.
        self.assertRegex(
            response.content.decode(), r'href="/static/example_project/site\.([0-9a-f]{12}\.)?css"'
        )
        self.assertContains(response, 'class="logo"')

    def test_home_page_lists_greetings(self):
        Greeting.objects.create(text="Greetings from the test suite")
        response = self.client.get(reverse("home"))
        self.assertContains(response, "Greetings from the test suite")


class GreetingModelTests(TestCase):
    def test_str_returns_text(self):
        self.assertEqual(str(Greeting(text="hi there")), "hi there")


class AdminTests(TestCase):
    def test_admin_login_page(self):
        response = self.client.get(reverse("admin:login"))
        self.assertEqual(response.status_code, 200)
