from django.test import TestCase

from .models import Page


class PageTreeTests(TestCase):
    def test_home_page_without_content(self):
        self.assertContains(self.client.get("/"), "Welcome")

    def test_written_page(self):
        Page.objects.create(slug="about/team", title="Our team")
        self.assertContains(self.client.get("/about/team/"), "Our team")

    def test_unknown_page_is_404(self):
        self.assertEqual(self.client.get("/nowhere/").status_code, 404)
